/* Round-trip latency for the peers, measured the way tether bench latency does: each
 * message carries its sequence number and its send time (CLOCK_MONOTONIC, nanoseconds);
 * the subscriber, in the same process, takes the difference on arrival.
 *
 * lat_run() paces the publisher: rate 0 sends one message at a time (the next once the
 * previous has arrived), a positive rate sends at that many messages per second on a fixed
 * schedule. The first LAT_WARMUP messages are not counted. lat_report() prints one result
 * line with p50/p90/p99/max in microseconds and how many messages never arrived. */
#ifndef TETHER_BENCH_PEER_LATENCY_H
#define TETHER_BENCH_PEER_LATENCY_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LAT_WARMUP 200
#define LAT_STAMP 16 /* bytes: sequence number, send time */

static pthread_mutex_t lat_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lat_arrived; /* on CLOCK_MONOTONIC, made by lat_run() */
static long lat_received;
static long lat_total;
static double* lat_us; /* per measured message; -1: not arrived */

static int64_t lat_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The subscriber's callback calls this with the payload it got. */
static void lat_arrive(const void* payload, int len) {
    const int64_t now = lat_now_ns();
    if (len < LAT_STAMP) return;
    int64_t seq, sent;
    memcpy(&seq, payload, 8);
    memcpy(&sent, (const char*)payload + 8, 8);
    pthread_mutex_lock(&lat_mutex);
    if (seq >= LAT_WARMUP && seq < lat_total) lat_us[seq - LAT_WARMUP] = (double)(now - sent) / 1e3;
    lat_received++;
    pthread_cond_signal(&lat_arrived);
    pthread_mutex_unlock(&lat_mutex);
}

/* Waits until `target` messages have arrived or `deadline_ns` passes; 1 if they arrived. */
static int lat_wait(long target, int64_t deadline_ns) {
    struct timespec until = {.tv_sec = deadline_ns / 1000000000, .tv_nsec = deadline_ns % 1000000000};
    pthread_mutex_lock(&lat_mutex);
    while (lat_received < target) {
        if (pthread_cond_timedwait(&lat_arrived, &lat_mutex, &until) == ETIMEDOUT) break;
    }
    const int ok = lat_received >= target;
    pthread_mutex_unlock(&lat_mutex);
    return ok;
}

typedef int (*lat_publish_fn)(void* ctx, const void* payload, int len); /* 0 on success */

/* Publishes LAT_WARMUP + count messages of `size` bytes; returns 0, or -1 if one failed. */
static int lat_run(lat_publish_fn publish, void* ctx, long count, long size, double rate) {
    if (size < LAT_STAMP) size = LAT_STAMP;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* the deadlines are monotonic */
    pthread_cond_init(&lat_arrived, &attr);
    lat_total = LAT_WARMUP + count;
    lat_us = malloc(sizeof(double) * (size_t)count);
    for (long i = 0; i < count; ++i) lat_us[i] = -1;
    char* payload = calloc(1, (size_t)size);
    const int64_t start = lat_now_ns();
    for (int64_t seq = 0; seq < lat_total; ++seq) {
        if (rate > 0) {
            const int64_t at = start + (int64_t)((double)seq * 1e9 / rate);
            struct timespec t = {.tv_sec = at / 1000000000, .tv_nsec = at % 1000000000};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
        }
        const int64_t sent = lat_now_ns();
        memcpy(payload, &seq, 8);
        memcpy(payload + 8, &sent, 8);
        if (publish(ctx, payload, (int)size) != 0) { free(payload); return -1; }
        /* One at a time: the next goes when this one has arrived, or after a second (lost). */
        if (rate <= 0) lat_wait(seq + 1, lat_now_ns() + 1000000000);
    }
    lat_wait(lat_total, lat_now_ns() + 5000000000LL);
    free(payload);
    return 0;
}

static int lat_compare(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted values v[0..n). */
static double lat_percentile(const double* v, long n, double p) {
    if (n == 0) return 0;
    long rank = (long)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

static void lat_report(const char* client, int qos, long size, long count, double rate) {
    pthread_mutex_lock(&lat_mutex);
    long n = 0;
    for (long i = 0; i < count; ++i) {
        if (lat_us[i] >= 0) lat_us[n++] = lat_us[i];
    }
    pthread_mutex_unlock(&lat_mutex);
    qsort(lat_us, (size_t)n, sizeof(double), lat_compare);
    printf("client=%s qos=%d size=%ld count=%ld rate=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f lost=%ld\n",
           client, qos, size < LAT_STAMP ? LAT_STAMP : size, count, rate, lat_percentile(lat_us, n, 50),
           lat_percentile(lat_us, n, 90), lat_percentile(lat_us, n, 99), lat_percentile(lat_us, n, 100), count - n);
    fflush(stdout);
}

#endif
