/* Round-trip latency publisher -> broker -> subscriber, written with libmosquitto: two
 * clients in one process, each with its threaded loop, TCP_NODELAY on as tether has it.
 *   lat_mosquitto HOST PORT QOS COUNT SIZE RATE      (RATE 0: one message at a time) */
#include <mosquitto.h>
#include <stdatomic.h>
#include <unistd.h>

#include "peer_latency.h"

static atomic_int ready; /* connected (publisher) or subscribed (subscriber) */
static char topic[64];
static int qos;

static void on_connect_pub(struct mosquitto* m, void* u, int rc) { (void)m; (void)u; if (rc == 0) ready++; }
static void on_connect_sub(struct mosquitto* m, void* u, int rc) {
    (void)u;
    if (rc == 0) mosquitto_subscribe(m, NULL, topic, qos);
}
static void on_subscribe(struct mosquitto* m, void* u, int mid, int n, const int* granted) {
    (void)m; (void)u; (void)mid; (void)n; (void)granted;
    ready++;
}
static void on_message(struct mosquitto* m, void* u, const struct mosquitto_message* msg) {
    (void)m; (void)u;
    lat_arrive(msg->payload, msg->payloadlen);
}
static int publish(void* ctx, const void* payload, int len) {
    return mosquitto_publish((struct mosquitto*)ctx, NULL, topic, len, payload, qos, false) == MOSQ_ERR_SUCCESS ? 0 : -1;
}
static struct mosquitto* make(const char* role, const char* host, int port) {
    char id[64];
    snprintf(id, sizeof id, "mosquitto-lat-%s-%d", role, getpid());
    struct mosquitto* m = mosquitto_new(id, true, NULL);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_max_inflight_messages_set(m, 1000);
    if (mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); exit(1); }
    return m;
}
int main(int argc, char** argv) {
    if (argc != 7) { fprintf(stderr, "usage: lat_mosquitto HOST PORT QOS COUNT SIZE RATE\n"); return 1; }
    const int port = atoi(argv[2]);
    qos = atoi(argv[3]);
    const long count = atol(argv[4]), size = atol(argv[5]);
    const double rate = atof(argv[6]);
    snprintf(topic, sizeof topic, "bench/lat/mosquitto-%d", getpid());
    mosquitto_lib_init();
    struct mosquitto* sub = make("sub", argv[1], port);
    mosquitto_connect_callback_set(sub, on_connect_sub);
    mosquitto_subscribe_callback_set(sub, on_subscribe);
    mosquitto_message_callback_set(sub, on_message);
    mosquitto_loop_start(sub);
    struct mosquitto* pub = make("pub", argv[1], port);
    mosquitto_connect_callback_set(pub, on_connect_pub);
    mosquitto_loop_start(pub);
    for (int i = 0; ready < 2 && i < 100000; ++i) usleep(100);
    if (ready < 2) { fprintf(stderr, "connect or subscribe failed\n"); return 1; }
    if (lat_run(publish, pub, count, size, rate) != 0) { fprintf(stderr, "publish failed\n"); return 1; }
    lat_report("libmosquitto", qos, size, count, rate);
    mosquitto_disconnect(pub);
    mosquitto_disconnect(sub);
    mosquitto_loop_stop(pub, false);
    mosquitto_loop_stop(sub, false);
    mosquitto_destroy(pub);
    mosquitto_destroy(sub);
    mosquitto_lib_cleanup();
    return 0;
}
