/* The benchmark of tether bench pub, written with Paho C: MQTTAsync, maxInflight set to
 * the same window. The publisher waits (on a condition variable the completion callback
 * signals) while the window is full, rather than retrying refused sends in a loop: a
 * spinning caller contends for Paho's client mutex with its own threads, and at QoS 2
 * slowed it a hundredfold.
 *   peer_paho HOST PORT QOS COUNT SIZE INFLIGHT [PERSIST_DIR] */
#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer_clock.h"

static atomic_int connected;
static atomic_long done_count;
static atomic_int failed;

static void on_connect(void* ctx, MQTTAsync_successData* r) { (void)ctx; (void)r; connected = 1; }
static void on_connect_failure(void* ctx, MQTTAsync_failureData* r) { (void)ctx; (void)r; failed = 1; }
static pthread_mutex_t window_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t window_open = PTHREAD_COND_INITIALIZER;
static void on_sent(void* ctx, MQTTAsync_successData* r) {
    (void)ctx; (void)r;
    pthread_mutex_lock(&window_mutex);
    done_count++;
    pthread_cond_signal(&window_open);
    pthread_mutex_unlock(&window_mutex);
}
static void on_send_failure(void* ctx, MQTTAsync_failureData* r) {
    (void)ctx; (void)r;
    pthread_mutex_lock(&window_mutex);
    failed = 1;
    pthread_cond_signal(&window_open);
    pthread_mutex_unlock(&window_mutex);
}
int main(int argc, char** argv) {
    if (argc != 7 && argc != 8) { fprintf(stderr, "usage: peer_paho HOST PORT QOS COUNT SIZE INFLIGHT [PERSIST_DIR]\n"); return 1; }
    /* With PERSIST_DIR: Paho's own file persistence (MQTTCLIENT_PERSISTENCE_DEFAULT) there. */
    const char* persist_dir = argc == 8 ? argv[7] : NULL;
    const int qos = atoi(argv[3]), inflight = atoi(argv[6]);
    const long count = atol(argv[4]), size = atol(argv[5]);
    char uri[256], id[64];
    snprintf(uri, sizeof uri, "tcp://%s:%s", argv[1], argv[2]);
    snprintf(id, sizeof id, "paho-bench-%d", getpid());
    char* payload = malloc((size_t)size + 1);
    memset(payload, 'x', (size_t)size);
    MQTTAsync c;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.maxBufferedMessages = inflight;
    MQTTAsync_createWithOptions(&c, uri, id, persist_dir ? MQTTCLIENT_PERSISTENCE_DEFAULT : MQTTCLIENT_PERSISTENCE_NONE,
                                (void*)persist_dir, &co);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.keepAliveInterval = 60;
    o.cleansession = 1;
    o.maxInflight = inflight;
    o.onSuccess = on_connect;
    o.onFailure = on_connect_failure;
    if (MQTTAsync_connect(c, &o) != MQTTASYNC_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    while (!connected && !failed) usleep(100);
    if (failed) { fprintf(stderr, "connect failed\n"); return 1; }
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_sent;
    ro.onFailure = on_send_failure;
    const double t0 = wall_seconds(), c0 = cpu_seconds();
    for (long i = 0; i < count; ++i) {
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        msg.payload = payload;
        msg.payloadlen = (int)size;
        /* The last message, or a QoS 1 marker after QoS 0 ones: its acknowledgement ends the run. */
        msg.qos = (i + 1 == count && qos == 0) ? 1 : qos;
        pthread_mutex_lock(&window_mutex);
        while (i - done_count >= inflight && !failed) pthread_cond_wait(&window_open, &window_mutex);
        pthread_mutex_unlock(&window_mutex);
        int rc;
        while ((rc = MQTTAsync_sendMessage(c, "bench/t", &msg, &ro)) == MQTTASYNC_MAX_MESSAGES_INFLIGHT ||
               rc == MQTTASYNC_MAX_BUFFERED_MESSAGES) {
            usleep(20); /* not expected: the window above keeps within both limits */
        }
        if (rc != MQTTASYNC_SUCCESS) { fprintf(stderr, "send failed: %d\n", rc); return 1; }
    }
    while (done_count < count && !failed) usleep(50);
    const double seconds = wall_seconds() - t0, cpu_s = cpu_seconds() - c0;
    printf("client=%s qos=%d size=%ld count=%ld inflight=%d seconds=%.4f msgs_per_s=%.0f MB_per_s=%.2f cpu_s=%.3f\n",
           persist_dir ? "paho-persist" : "paho", qos, size, count, inflight, seconds, (double)count / seconds, (double)(count * size) / seconds / 1e6, cpu_s);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(c, &d);
    usleep(100000);
    MQTTAsync_destroy(&c);
    free(payload);
    return failed ? 1 : 0;
}
