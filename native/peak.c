/* nnkit's machine-peak probe — see peak.h.
 *
 * Each round updates every chain once. The FMA kernels (AVX2, AVX-512, NEON) do acc[i] =
 * acc[i] * x + y, one fused multiply-add: 2 FLOPs per lane. A chain can take its next step only
 * when the previous one is done, so one chain runs at the instruction's latency; to keep every unit
 * busy a kernel needs at least latency × units-per-cycle independent chains (an FMA of latency 4 on
 * 2 units: 8). The kernels without FMA (scalar, SSE2, AVX2 without FMA) must issue a multiply and an add as two
 * instructions; chaining them (acc * x + y) would add their latencies and measure the chain, not
 * the units. So half their chains multiply (acc *= x) and half add (acc += y): 1 FLOP per lane per
 * step, a multiply and an add always ready side by side — what a dgemm without FMA does, whose
 * c += a·b waits only on the add. AVX2's adds and multiplies are also timed apart ("avx2-add",
 * "avx2-mul": every chain one kind), so that each kind's pipes can be set beside the pair. Too many
 * chains spill registers to memory and measure the spills instead: x86-64 without AVX-512 has 16
 * xmm/ymm registers (x and y take two), AVX-512 has 32 zmm.
 * Every kernel is compiled for several chain counts so that the caller can see the rate climb with
 * the chains and level off (nk_peak_measure_chains); the default of each kernel is its largest
 * count that fits the registers.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
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

/* One kernel of N chains: VEC is the register type, SET broadcasts a double, STEP(acc, x, y, i) is
 * chain i's update (i is a constant once unrolled) and ADD the final sum (returned so that the
 * compiler cannot drop the work). */
#define KERNEL(NAME, N, ATTR, VEC, SET, STEP, ADD, TOTAL)                                      \
    ATTR static double NAME##_##N(long rounds) {                                              \
        VEC acc[N], x = SET(0.999999), y = SET(1e-9);                                         \
        for (int i = 0; i < N; i++) acc[i] = SET(1.0 + i);                                    \
        for (long r = 0; r < rounds; r++)                                                     \
            UNROLLED(N) for (int i = 0; i < N; i++) acc[i] = STEP(acc[i], x, y, i);              \
        VEC s = acc[0];                                                                       \
        for (int i = 1; i < N; i++) s = ADD(s, acc[i]);                                       \
        return TOTAL(s);                                                                      \
    }

#define NO_ATTR
/* GCC would pair scalar chains into SSE2 instructions (SLP vectorisation): one lane, really. */
#define SCALAR_ATTR __attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
static double scalar_set(double v) { return v; }
/* Even chains multiply, odd chains add: both instructions in flight, neither waiting on the other. */
static double scalar_step(double a, double x, double y, int i) { return i & 1 ? a + y : a * x; }
static double scalar_add(double a, double b) { return a + b; }
static double scalar_total(double s) { return s; }
#define SCALAR(N) KERNEL(run_scalar, N, SCALAR_ATTR, double, scalar_set, scalar_step, scalar_add, scalar_total)
SCALAR(1) SCALAR(2) SCALAR(4) SCALAR(8) SCALAR(12) SCALAR(14)
/* One chain of dependent adds alone ("scalar-add"): its rate is 1 ÷ the add's latency, which on some
 * cores is shorter than the multiply's (scalar 1 chain is a multiply chain) — the bound of a serial sum. */
static double add_step(double a, double x, double y, int i) { return (void)x, (void)i, a + y; }
KERNEL(run_scalar_add, 1, SCALAR_ATTR, double, scalar_set, add_step, scalar_add, scalar_total)

#if defined(__x86_64__)
#define SSE2_STEP(a, x, y, i) ((i) & 1 ? _mm_add_pd(a, y) : _mm_mul_pd(a, x)) /* no FMA: as scalar_step */
static double sse2_total(__m128d s) {
    double out[2];
    _mm_storeu_pd(out, s);
    return out[0] + out[1];
}
#define SSE2(N) KERNEL(run_sse2, N, NO_ATTR, __m128d, _mm_set1_pd, SSE2_STEP, _mm_add_pd, sse2_total)
SSE2(1) SSE2(2) SSE2(4) SSE2(8) SSE2(12) SSE2(14)

#define AVX2_ATTR __attribute__((target("avx2,fma")))
#define AVX2_STEP(a, x, y, i) _mm256_fmadd_pd(a, x, y)
/* AVX2 alone (no FMA): the kernels with and without FMA both sum their chains with it. */
__attribute__((target("avx2"))) static double avx2_total(__m256d s) {
    double out[4];
    _mm256_storeu_pd(out, s);
    return out[0] + out[1] + out[2] + out[3];
}
#define AVX2(N) KERNEL(run_avx2, N, AVX2_ATTR, __m256d, _mm256_set1_pd, AVX2_STEP, _mm256_add_pd, avx2_total)
AVX2(1) AVX2(2) AVX2(4) AVX2(8) AVX2(12) AVX2(14)

/* AVX2's four lanes without FMA, stepped as sse2 (half the chains multiply, half add): the same width as
 * avx2+fma, so that the two differ in FMA alone. Never the default: the widest FMA kernel comes first. */
#define AVX2_NOFMA_ATTR __attribute__((target("avx2")))
#define AVX2_NOFMA_STEP(a, x, y, i) ((i) & 1 ? _mm256_add_pd(a, y) : _mm256_mul_pd(a, x))
#define AVX2_NOFMA(N) KERNEL(run_avx2_nofma, N, AVX2_NOFMA_ATTR, __m256d, _mm256_set1_pd, AVX2_NOFMA_STEP, _mm256_add_pd, \
                             avx2_total)
AVX2_NOFMA(1) AVX2_NOFMA(2) AVX2_NOFMA(4) AVX2_NOFMA(8) AVX2_NOFMA(12) AVX2_NOFMA(14)
/* The two halves of "avx2" apart: every chain adds ("avx2-add") or every chain multiplies ("avx2-mul"), so that each
 * kind's pipes are timed alone — beside "avx2", which keeps both kinds busy at once. */
#define AVX2_ADD_STEP(a, x, y, i) ((void)(x), (void)(i), _mm256_add_pd(a, y))
#define AVX2_MUL_STEP(a, x, y, i) ((void)(y), (void)(i), _mm256_mul_pd(a, x))
#define AVX2_ADD(N) KERNEL(run_avx2_add, N, AVX2_NOFMA_ATTR, __m256d, _mm256_set1_pd, AVX2_ADD_STEP, _mm256_add_pd, \
                           avx2_total)
#define AVX2_MUL(N) KERNEL(run_avx2_mul, N, AVX2_NOFMA_ATTR, __m256d, _mm256_set1_pd, AVX2_MUL_STEP, _mm256_add_pd, \
                           avx2_total)
AVX2_ADD(12) AVX2_ADD(14) AVX2_MUL(12) AVX2_MUL(14)

#define AVX512_ATTR __attribute__((target("avx512f,fma")))
#define AVX512_STEP(a, x, y, i) _mm512_fmadd_pd(a, x, y)
#define AVX512(N) KERNEL(run_avx512, N, AVX512_ATTR, __m512d, _mm512_set1_pd, AVX512_STEP, _mm512_add_pd, _mm512_reduce_add_pd)
AVX512(1) AVX512(2) AVX512(4) AVX512(8) AVX512(12) AVX512(16) AVX512(24)
#elif defined(__aarch64__)
static double neon_total(float64x2_t s) { return vgetq_lane_f64(s, 0) + vgetq_lane_f64(s, 1); }
#define NEON_STEP(a, x, y, i) vfmaq_f64(y, a, x)
#define NEON(N) KERNEL(run_neon, N, NO_ATTR, float64x2_t, vdupq_n_f64, NEON_STEP, vaddq_f64, neon_total)
NEON(1) NEON(2) NEON(4) NEON(8) NEON(12) NEON(16) NEON(24)
#endif

typedef struct { const char *name; int lanes, chains; double (*run)(long); int (*available)(void); } kernel_t;

/* FLOPs per lane per chain step: an FMA is 2, a lone multiply or add 1. */
static int flops_per_step(const kernel_t *k) { return strstr(k->name, "fma") || !strcmp(k->name, "neon") ? 2 : 1; }

static int always(void) { return 1; }
#define SCALAR_ROWS(NAME) {NAME, 1, 14, run_scalar_14, always}, {NAME, 1, 12, run_scalar_12, always}, \
    {NAME, 1, 8, run_scalar_8, always}, {NAME, 1, 4, run_scalar_4, always}, {NAME, 1, 2, run_scalar_2, always}, \
    {NAME, 1, 1, run_scalar_1, always}
#define SCALAR_ADD {"scalar-add", 1, 1, run_scalar_add_1, always}

/* The FMA kernels widest first, then those without FMA; within a kernel, its default (the most chains) first. */
#if defined(__x86_64__)
static int has_avx512(void) { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"); }
static int has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
static int has_avx2_alone(void) { return __builtin_cpu_supports("avx2"); }
static const kernel_t KERNELS[] = {
    {"avx512f+fma", 8, 24, run_avx512_24, has_avx512}, {"avx512f+fma", 8, 16, run_avx512_16, has_avx512},
    {"avx512f+fma", 8, 12, run_avx512_12, has_avx512}, {"avx512f+fma", 8, 8, run_avx512_8, has_avx512},
    {"avx512f+fma", 8, 4, run_avx512_4, has_avx512}, {"avx512f+fma", 8, 2, run_avx512_2, has_avx512},
    {"avx512f+fma", 8, 1, run_avx512_1, has_avx512},
    {"avx2+fma", 4, 14, run_avx2_14, has_avx2}, {"avx2+fma", 4, 12, run_avx2_12, has_avx2},
    {"avx2+fma", 4, 8, run_avx2_8, has_avx2}, {"avx2+fma", 4, 4, run_avx2_4, has_avx2},
    {"avx2+fma", 4, 2, run_avx2_2, has_avx2}, {"avx2+fma", 4, 1, run_avx2_1, has_avx2},
    /* after every FMA kernel: a kernel NULL (the widest) never picks it */
    {"avx2", 4, 14, run_avx2_nofma_14, has_avx2_alone}, {"avx2", 4, 12, run_avx2_nofma_12, has_avx2_alone},
    {"avx2", 4, 8, run_avx2_nofma_8, has_avx2_alone}, {"avx2", 4, 4, run_avx2_nofma_4, has_avx2_alone},
    {"avx2", 4, 2, run_avx2_nofma_2, has_avx2_alone}, {"avx2", 4, 1, run_avx2_nofma_1, has_avx2_alone},
    {"avx2-add", 4, 14, run_avx2_add_14, has_avx2_alone}, {"avx2-add", 4, 12, run_avx2_add_12, has_avx2_alone},
    {"avx2-mul", 4, 14, run_avx2_mul_14, has_avx2_alone}, {"avx2-mul", 4, 12, run_avx2_mul_12, has_avx2_alone},
    {"sse2", 2, 14, run_sse2_14, always}, {"sse2", 2, 12, run_sse2_12, always}, {"sse2", 2, 8, run_sse2_8, always},
    {"sse2", 2, 4, run_sse2_4, always}, {"sse2", 2, 2, run_sse2_2, always}, {"sse2", 2, 1, run_sse2_1, always},
    SCALAR_ROWS("scalar"), SCALAR_ADD};
#elif defined(__aarch64__)
static const kernel_t KERNELS[] = {
    {"neon", 2, 24, run_neon_24, always}, {"neon", 2, 16, run_neon_16, always}, {"neon", 2, 12, run_neon_12, always},
    {"neon", 2, 8, run_neon_8, always}, {"neon", 2, 4, run_neon_4, always}, {"neon", 2, 2, run_neon_2, always},
    {"neon", 2, 1, run_neon_1, always}, SCALAR_ROWS("scalar"), SCALAR_ADD};
#else
static const kernel_t KERNELS[] = {SCALAR_ROWS("scalar"), SCALAR_ADD};
#endif

typedef struct { const kernel_t *kernel; long rounds; volatile double sink; double waited, held; } job_t;

/* Seconds this thread has waited on a run queue for a core since it started (Linux's schedstat:
 * run time, wait time, slices, in ns); 0 where that is not readable. */
static double waited_so_far(void) {
    unsigned long long run = 0, wait = 0;
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (!f) return 0.0;
    int read = fscanf(f, "%llu %llu", &run, &wait);
    fclose(f);
    return read == 2 ? wait / 1e9 : 0.0;
}

static void *worker(void *arg) {
    job_t *job = arg;
    double start = now(), waited_before = waited_so_far();
    job->sink = job->kernel->run(job->rounds);
    job->waited = waited_so_far(); /* its whole life lies inside the timed run, its first wait included */
    job->held = now() - start - (job->waited - waited_before);
    return NULL;
}

static const kernel_t *pick(const char *kernel, int chains) {
    for (size_t i = 0; i < sizeof KERNELS / sizeof *KERNELS; i++) {
        const kernel_t *k = &KERNELS[i];
        if ((!kernel || !strcmp(kernel, k->name)) && (!chains || chains == k->chains) && k->available()) return k;
    }
    return NULL;
}

nk_peak nk_peak_measure_chains(int threads, long iterations, const char *kernel, int chains) {
    nk_peak result = {0};
    const kernel_t *k = pick(kernel, chains);
    if (!k || threads < 1 || threads > 256 || iterations < 1) return result;
    pthread_t ids[256];
    job_t jobs[256];
    double start = now(), caller_waited = waited_so_far();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job_t){k, iterations, 0.0, 0.0, 0.0};
        pthread_create(&ids[t], NULL, worker, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    result.seconds = now() - start;
    for (int t = 0; t < threads; t++)
        if (jobs[t].waited > result.waited) result.waited = jobs[t].waited;
    result.waited += waited_so_far() - caller_waited; /* the caller's own wait to wake from the joins */
    double per_thread = (double)flops_per_step(k) * k->lanes * k->chains * (double)iterations / 1e9;
    result.gflops = per_thread * threads / result.seconds;
    /* Each thread's own held time, not the wall less the worst wait: threads that wait at different
     * moments would otherwise leave a held time near zero and a rate without bound. */
    for (int t = 0; t < threads; t++) result.held_gflops += per_thread / (jobs[t].held > 1e-9 ? jobs[t].held : 1e-9);
    result.lanes = k->lanes;
    result.chains = k->chains;
    result.flops_per_step = flops_per_step(k);
    result.threads = threads;
    result.kernel = k->name;
    return result;
}

nk_peak nk_peak_measure(int threads, long iterations, const char *kernel) {
    return nk_peak_measure_chains(threads, iterations, kernel, 0);
}
