/* A libmosquitto subscriber that reconnects 10..200 ms after every lost connection,
 * for comparing brokers' behaviour with tether's under the same cuts. Prints each
 * payload on its own line. Usage: libmosquitto_sub PORT CLIENT_ID FILTER SECONDS */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char* filter;

static void on_connect(struct mosquitto* m, void* u, int rc) {
    (void)u;
    if (rc == 0) mosquitto_subscribe(m, NULL, filter, 2);
}

static void on_message(struct mosquitto* m, void* u, const struct mosquitto_message* msg) {
    (void)m;
    (void)u;
    fwrite(msg->payload, 1, (size_t)msg->payloadlen, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

int main(int argc, char** argv) {
    if (argc != 5) return 2;
    const int port = atoi(argv[1]);
    filter = argv[3];
    const time_t end = time(NULL) + atoi(argv[4]);
    mosquitto_lib_init();
    struct mosquitto* m = mosquitto_new(argv[2], false, NULL);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_message_callback_set(m, on_message);
    int connected = mosquitto_connect(m, "127.0.0.1", port, 5) == MOSQ_ERR_SUCCESS;
    srand(7);
    while (time(NULL) < end) {
        if (!connected || mosquitto_loop(m, 20, 1) != MOSQ_ERR_SUCCESS) {
            usleep((useconds_t)(10000 + rand() % 190000));
            connected = mosquitto_reconnect(m) == MOSQ_ERR_SUCCESS;
        }
    }
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return 0;
}
