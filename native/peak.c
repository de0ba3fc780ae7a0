/* nnkit's machine-peak probe — see peak.h.
 *
 * Each round updates every chain once: acc[i] = acc[i] * x + y, one FMA (2 FLOPs) per lane. With
 * enough independent chains the FMA units never wait for a previous result, so rounds × chains ×
 * lanes × 2 / seconds is the peak. Too many chains spill registers to memory and measure the
 * spills instead: AVX2 has 16 ymm registers, so 12 chains; AVX-512 has 32 zmm registers, 24.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "peak.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

/* The chains must live in registers: unrolling the inner loop lets the compiler keep acc[] there
 * (at -O2 it would otherwise stay in memory and the probe would measure loads and stores). */
#define PRAGMA(x) _Pragma(#x)
#define UNROLLED(n) PRAGMA(GCC unroll n)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The sum of the chains is returned so that the compiler cannot drop the work. */
#if defined(__x86_64__)
__attribute__((target("avx512f,fma"))) static double run_avx512(long rounds) {
    __m512d acc[24], x = _mm512_set1_pd(0.999999), y = _mm512_set1_pd(1e-9);
    for (int i = 0; i < 24; i++) acc[i] = _mm512_set1_pd(1.0 + i);
    for (long r = 0; r < rounds; r++)
        UNROLLED(24) for (int i = 0; i < 24; i++) acc[i] = _mm512_fmadd_pd(acc[i], x, y);
    __m512d s = acc[0];
    for (int i = 1; i < 24; i++) s = _mm512_add_pd(s, acc[i]);
    return _mm512_reduce_add_pd(s);
}

__attribute__((target("avx2,fma"))) static double run_avx2(long rounds) {
    __m256d acc[12], x = _mm256_set1_pd(0.999999), y = _mm256_set1_pd(1e-9);
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_pd(1.0 + i);
    for (long r = 0; r < rounds; r++)
        UNROLLED(12) for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_pd(acc[i], x, y);
    __m256d s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_pd(s, acc[i]);
    double out[4];
    _mm256_storeu_pd(out, s);
    return out[0] + out[1] + out[2] + out[3];
}

static double run_sse2(long rounds) { /* no FMA: a multiply and an add, still 2 FLOPs per lane */
    __m128d acc[12], x = _mm_set1_pd(0.999999), y = _mm_set1_pd(1e-9);
    for (int i = 0; i < 12; i++) acc[i] = _mm_set1_pd(1.0 + i);
    for (long r = 0; r < rounds; r++)
        UNROLLED(12) for (int i = 0; i < 12; i++) acc[i] = _mm_add_pd(_mm_mul_pd(acc[i], x), y);
    __m128d s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm_add_pd(s, acc[i]);
    double out[2];
    _mm_storeu_pd(out, s);
    return out[0] + out[1];
}
#elif defined(__aarch64__)
static double run_neon(long rounds) {
    float64x2_t acc[24], x = vdupq_n_f64(0.999999), y = vdupq_n_f64(1e-9);
    for (int i = 0; i < 24; i++) acc[i] = vdupq_n_f64(1.0 + i);
    for (long r = 0; r < rounds; r++)
        UNROLLED(24) for (int i = 0; i < 24; i++) acc[i] = vfmaq_f64(y, acc[i], x);
    float64x2_t s = acc[0];
    for (int i = 1; i < 24; i++) s = vaddq_f64(s, acc[i]);
    return vgetq_lane_f64(s, 0) + vgetq_lane_f64(s, 1);
}
#endif

static double run_scalar(long rounds) {
    double acc[8], x = 0.999999, y = 1e-9, s = 0;
    for (int i = 0; i < 8; i++) acc[i] = 1.0 + i;
    for (long r = 0; r < rounds; r++)
        UNROLLED(8) for (int i = 0; i < 8; i++) acc[i] = acc[i] * x + y;
    for (int i = 0; i < 8; i++) s += acc[i];
    return s;
}

typedef struct { const char *name; int lanes, chains; double (*run)(long); int (*available)(void); } kernel_t;

#if defined(__x86_64__)
static int has_avx512(void) { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"); }
static int has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
static int always(void) { return 1; }
static const kernel_t KERNELS[] = {{"avx512f+fma", 8, 24, run_avx512, has_avx512}, {"avx2+fma", 4, 12, run_avx2, has_avx2},
                                   {"sse2", 2, 12, run_sse2, always}, {"scalar", 1, 8, run_scalar, always}};
#elif defined(__aarch64__)
static int always(void) { return 1; }
static const kernel_t KERNELS[] = {{"neon", 2, 24, run_neon, always}, {"scalar", 1, 8, run_scalar, always}};
#else
static int always(void) { return 1; }
static const kernel_t KERNELS[] = {{"scalar", 1, 8, run_scalar, always}};
#endif

typedef struct { const kernel_t *kernel; long rounds; volatile double sink; } job_t;

static void *worker(void *arg) {
    job_t *job = arg;
    job->sink = job->kernel->run(job->rounds);
    return NULL;
}

nk_peak nk_peak_measure(int threads, long iterations, const char *kernel) {
    nk_peak result = {0};
    const kernel_t *k = NULL;
    for (size_t i = 0; i < sizeof KERNELS / sizeof *KERNELS && !k; i++)
        if ((!kernel || !strcmp(kernel, KERNELS[i].name)) && KERNELS[i].available()) k = &KERNELS[i];
    if (!k || threads < 1 || threads > 256 || iterations < 1) return result;
    pthread_t ids[256];
    job_t jobs[256];
    double start = now();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job_t){k, iterations, 0.0};
        pthread_create(&ids[t], NULL, worker, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    result.seconds = now() - start;
    result.gflops = 2.0 * k->lanes * k->chains * (double)iterations * threads / result.seconds / 1e9;
    result.lanes = k->lanes;
    result.chains = k->chains;
    result.threads = threads;
    result.kernel = k->name;
    return result;
}
