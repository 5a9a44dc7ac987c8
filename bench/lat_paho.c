/* Round-trip latency publisher -> broker -> subscriber, written with Paho C (MQTTAsync):
 * two clients in one process.
 *   lat_paho HOST PORT QOS COUNT SIZE RATE      (RATE 0: one message at a time) */
#include <MQTTAsync.h>
#include <stdatomic.h>
#include <unistd.h>

#include "peer_latency.h"

static atomic_int ready; /* connected (publisher) or subscribed (subscriber) */
static atomic_int failed;
static char topic[64];
static int qos;

static void on_failure(void* ctx, MQTTAsync_failureData* r) { (void)ctx; (void)r; failed = 1; }
static void on_ready(void* ctx, MQTTAsync_successData* r) { (void)ctx; (void)r; ready++; }
static void on_connect_sub(void* ctx, MQTTAsync_successData* r) {
    (void)r;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_ready;
    ro.onFailure = on_failure;
    if (MQTTAsync_subscribe(*(MQTTAsync*)ctx, topic, qos, &ro) != MQTTASYNC_SUCCESS) failed = 1;
}
static int on_message(void* ctx, char* name, int len, MQTTAsync_message* m) {
    (void)ctx; (void)len;
    lat_arrive(m->payload, m->payloadlen);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(name);
    return 1;
}
static int publish(void* ctx, const void* payload, int len) {
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void*)payload;
    msg.payloadlen = len;
    msg.qos = qos;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    return MQTTAsync_sendMessage(*(MQTTAsync*)ctx, topic, &msg, &ro) == MQTTASYNC_SUCCESS ? 0 : -1;
}
static void make(MQTTAsync* c, const char* role, const char* uri, MQTTAsync_onSuccess* connected) {
    char id[64];
    snprintf(id, sizeof id, "paho-lat-%s-%d", role, getpid());
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.maxBufferedMessages = 1000;
    MQTTAsync_createWithOptions(c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    MQTTAsync_setCallbacks(*c, c, NULL, on_message, NULL);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.keepAliveInterval = 60;
    o.cleansession = 1;
    o.maxInflight = 1000;
    o.onSuccess = connected;
    o.onFailure = on_failure;
    o.context = c;
    if (MQTTAsync_connect(*c, &o) != MQTTASYNC_SUCCESS) { fprintf(stderr, "connect failed\n"); exit(1); }
}
int main(int argc, char** argv) {
    if (argc != 7) { fprintf(stderr, "usage: lat_paho HOST PORT QOS COUNT SIZE RATE\n"); return 1; }
    qos = atoi(argv[3]);
    const long count = atol(argv[4]), size = atol(argv[5]);
    const double rate = atof(argv[6]);
    char uri[256];
    snprintf(uri, sizeof uri, "tcp://%s:%s", argv[1], argv[2]);
    snprintf(topic, sizeof topic, "bench/lat/paho-%d", getpid());
    MQTTAsync sub, pub;
    make(&sub, "sub", uri, on_connect_sub);
    make(&pub, "pub", uri, on_ready);
    for (int i = 0; ready < 2 && !failed && i < 100000; ++i) usleep(100);
    if (ready < 2) { fprintf(stderr, "connect or subscribe failed\n"); return 1; }
    if (lat_run(publish, &pub, count, size, rate) != 0 || failed) { fprintf(stderr, "publish failed\n"); return 1; }
    lat_report("paho", qos, size, count, rate);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(pub, &d);
    MQTTAsync_disconnect(sub, &d);
    usleep(100000);
    MQTTAsync_destroy(&pub);
    MQTTAsync_destroy(&sub);
    return 0;
}
