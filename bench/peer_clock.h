/* Wall and CPU clocks for the peer benchmarks, measured the way tether bench pub does. */
#ifndef TETHER_BENCH_PEER_CLOCK_H
#define TETHER_BENCH_PEER_CLOCK_H

#include <sys/resource.h>
#include <time.h>

static inline double wall_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

#endif
