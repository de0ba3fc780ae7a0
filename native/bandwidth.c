/* nnkit's memory-bandwidth probe — see bandwidth.h.
 *
 * The triad's loop is written once per instruction set, with its vector loads and stores spelled out
 * (intrinsics, as native/peak.c does), and the widest the CPU runs is chosen at run time: built with
 * -O2 and no -march, GCC leaves a plain C loop scalar (8-byte loads and stores), and a core can then
 * issue fewer bytes per cycle than its L1 and L2 could serve — the kernel's limit, not a cache's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bandwidth.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define SCALE 3.0

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* a[i] = b[i] + SCALE·c[i] for i in [0, n): one kernel per instruction set. VEC holds LANES doubles;
 * the tail shorter than a vector runs in plain C. */
#define TRIAD(NAME, ATTR, VEC, LANES, LOAD, STORE, SET, ADD, MUL)                                      \
    ATTR static void NAME(double *restrict a, const double *restrict b, const double *restrict c,     \
                          int64_t n) {                                                                \
        VEC s = SET(SCALE);                                                                           \
        int64_t i = 0;                                                                                \
        for (; i + LANES <= n; i += LANES) STORE(a + i, ADD(LOAD(b + i), MUL(s, LOAD(c + i))));         \
        for (; i < n; i++) a[i] = b[i] + SCALE * c[i];                                                \
    }

/* One element per instruction, as the -O2 build of a plain loop runs (GCC would otherwise pair
 * elements into SSE2 instructions): the kernel this probe used before it chose by instruction set. */
__attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
static void triad_scalar(double *restrict a, const double *restrict b, const double *restrict c, int64_t n) {
    for (int64_t i = 0; i < n; i++) a[i] = b[i] + SCALE * c[i];
}

#if defined(__x86_64__)
TRIAD(triad_sse2, , __m128d, 2, _mm_loadu_pd, _mm_storeu_pd, _mm_set1_pd, _mm_add_pd, _mm_mul_pd)
TRIAD(triad_avx2, __attribute__((target("avx2"))), __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd,
      _mm256_add_pd, _mm256_mul_pd)
TRIAD(triad_avx512, __attribute__((target("avx512f"))), __m512d, 8, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd,
      _mm512_add_pd, _mm512_mul_pd)
static int has_avx512(void) { return __builtin_cpu_supports("avx512f"); }
static int has_avx2(void) { return __builtin_cpu_supports("avx2"); }
#endif
static int always(void) { return 1; }

typedef void (*triad_fn)(double *restrict, const double *restrict, const double *restrict, int64_t);
typedef struct { const char *name; triad_fn run; int (*available)(void); } kernel_t;

/* Widest first: the default is the first the CPU runs. */
static const kernel_t KERNELS[] = {
#if defined(__x86_64__)
    {"avx512f", triad_avx512, has_avx512}, {"avx2", triad_avx2, has_avx2}, {"sse2", triad_sse2, always},
#endif
    {"scalar", triad_scalar, always}};

static const kernel_t *pick(const char *name) {
    for (size_t i = 0; i < sizeof KERNELS / sizeof *KERNELS; i++)
        if ((!name || !strcmp(name, KERNELS[i].name)) && KERNELS[i].available()) return &KERNELS[i];
    return NULL;
}

const char *nk_bandwidth_kernel(void) { return pick(NULL)->name; }

typedef struct {
    double *a, *b, *c;
    int64_t first, last;
    int passes;
    triad_fn run;
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
        s->run(s->a + s->first, s->b + s->first, s->c + s->first, s->last - s->first);
        double t = now() - start;
        if (t < s->best) s->best = t;
    }
    return NULL;
}

nk_bandwidth nk_bandwidth_measure_kernel(int threads, int64_t elements, int passes, const char *kernel) {
    const kernel_t *k = pick(kernel);
    nk_bandwidth r = {0, 0, threads, 3 * elements * 8, k ? k->name : NULL};
    if (!k || threads < 1 || threads > 256 || elements < threads || passes < 1) return r;
    size_t bytes = (elements * 8 + 63) / 64 * 64; /* aligned_alloc wants a multiple of the alignment */
    double *a = aligned_alloc(64, bytes), *b = aligned_alloc(64, bytes), *c = aligned_alloc(64, bytes);
    pthread_t ids[256];
    slice slices[256];
    if (a && b && c) {
        for (int t = 0; t < threads; t++)
            slices[t] = (slice){a, b, c, elements * t / threads, elements * (t + 1) / threads, passes, k->run, 0};
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

nk_bandwidth nk_bandwidth_measure(int threads, int64_t elements, int passes) {
    return nk_bandwidth_measure_kernel(threads, elements, passes, NULL);
}
