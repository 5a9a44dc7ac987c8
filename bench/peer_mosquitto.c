/* The benchmark of tether bench pub, written with libmosquitto: its threaded loop,
 * max_inflight set to the same window, TCP_NODELAY on as tether has it.
 *   peer_mosquitto HOST PORT QOS COUNT SIZE INFLIGHT */
#include <mosquitto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer_clock.h"

static atomic_int connected;
static atomic_long acked;
static atomic_int last_done;
static int last_mid = -1;

static void on_connect(struct mosquitto* m, void* u, int rc) { (void)m; (void)u; if (rc == 0) connected = 1; }
static void on_publish(struct mosquitto* m, void* u, int mid) {
    (void)m; (void)u;
    acked++;
    if (mid == last_mid) last_done = 1;
}
int main(int argc, char** argv) {
    if (argc != 7) { fprintf(stderr, "usage: peer_mosquitto HOST PORT QOS COUNT SIZE INFLIGHT\n"); return 1; }
    const char* host = argv[1];
    const int port = atoi(argv[2]), qos = atoi(argv[3]), inflight = atoi(argv[6]);
    const long count = atol(argv[4]), size = atol(argv[5]);
    char* payload = malloc((size_t)size + 1);
    memset(payload, 'x', (size_t)size);
    mosquitto_lib_init();
    char id[64];
    snprintf(id, sizeof id, "mosquitto-bench-%d", getpid());
    struct mosquitto* m = mosquitto_new(id, true, NULL);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_max_inflight_messages_set(m, (unsigned)inflight);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    if (mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    mosquitto_loop_start(m);
    while (!connected) usleep(100);
    const double t0 = wall_seconds(), c0 = cpu_seconds();
    for (long i = 0; i + 1 < count; ++i) {
        if (mosquitto_publish(m, NULL, "bench/t", (int)size, payload, qos, false) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "publish failed\n");
            return 1;
        }
    }
    int mid = 0;
    /* The last message, or a QoS 1 marker after QoS 0 ones: its acknowledgement ends the run. */
    last_mid = -2;
    mosquitto_publish(m, &mid, "bench/t", (int)size, payload, qos == 0 ? 1 : qos, false);
    last_mid = mid;
    if (acked >= count && !last_done) last_done = 1; /* acknowledged before last_mid was set */
    while (!last_done) usleep(50);
    const double seconds = wall_seconds() - t0, cpu_s = cpu_seconds() - c0;
    printf("client=libmosquitto qos=%d size=%ld count=%ld inflight=%d seconds=%.4f msgs_per_s=%.0f MB_per_s=%.2f cpu_s=%.3f\n",
           qos, size, count, inflight, seconds, (double)count / seconds, (double)(count * size) / seconds / 1e6, cpu_s);
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    free(payload);
    return 0;
}
