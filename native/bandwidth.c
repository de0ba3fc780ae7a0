/* nnkit's memory-bandwidth probe — see bandwidth.h. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "bandwidth.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    double *a, *b, *c;
    int64_t first, last;
    int passes;
    double best; /* this thread's fastest pass, seconds */
} slice;

/* Each thread first touches its own slice (its pages land near it), then times its passes. The
 * passes are long (tens of ms), so threads started a few µs apart overlap almost entirely. */
static void *triad(void *arg) {
    slice *s = arg;
    for (int64_t i = s->first; i < s->last; i++) s->a[i] = 0.0, s->b[i] = 1.0, s->c[i] = 2.0;
    s->best = 1e30;
    for (int p = 0; p < s->passes; p++) {
        double start = now();
        for (int64_t i = s->first; i < s->last; i++) s->a[i] = s->b[i] + 3.0 * s->c[i];
        double t = now() - start;
        if (t < s->best) s->best = t;
    }
    return NULL;
}

nk_bandwidth nk_bandwidth_measure(int threads, int64_t elements, int passes) {
    nk_bandwidth r = {0, 0, threads, 3 * elements * 8};
    if (threads < 1 || threads > 256 || elements < threads || passes < 1) return r;
    double *a = malloc(elements * 8), *b = malloc(elements * 8), *c = malloc(elements * 8);
    pthread_t ids[256];
    slice slices[256];
    if (a && b && c) {
        for (int t = 0; t < threads; t++)
            slices[t] = (slice){a, b, c, elements * t / threads, elements * (t + 1) / threads, passes, 0};
        int started = 1;
        while (started < threads && !pthread_create(&ids[started], NULL, triad, &slices[started])) started++;
        triad(&slices[0]);
        for (int t = 1; t < started; t++) pthread_join(ids[t], NULL);
        int64_t done = 0;
        for (int t = 0; t < started; t++) {
            done += slices[t].last - slices[t].first;
            if (slices[t].best > r.seconds) r.seconds = slices[t].best;
        }
        r.threads = started;
        r.gbytes = 24.0 * done / r.seconds / 1e9;
    }
    free(a), free(b), free(c);
    return r;
}
