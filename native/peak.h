/* nnkit's machine-peak probe: declarations read by cffi.
 *
 * Independent chains of fused multiply-adds on vector registers, the widest the CPU offers
 * (detected at run time), on one thread or several; the kernels without FMA (scalar, SSE2, AVX2) run
 * half their chains as multiplies and half as adds; "scalar-add" is one chain of dependent adds alone. The result is the double-precision FLOP rate
 * the cores actually sustain: the ceiling every GFLOP/s figure in nnkit is compared with.
 */

typedef struct {
    double gflops;      /* measured, all threads together */
    double seconds;     /* wall time of the measured run */
    double waited;      /* of those, seconds the most-delayed thread waited for a core that another
                           task held (its run-queue delay; Linux, else 0) */
    double held_gflops; /* the sum over threads of each one's rate while it held its core: its work over
                           its own running time less its own run-queue wait (= gflops where nothing waited) */
    int lanes;          /* doubles per vector register used: 8 (AVX-512), 4 (AVX2), 2 (SSE2/NEON), 1 */
    int chains;         /* independent accumulators per thread */
    int flops_per_step; /* per lane per chain step: 2 (an FMA) or 1 (a multiply or an add alone) */
    int threads;
    const char *kernel; /* "avx512f+fma", "avx2+fma", "avx2" (no FMA: as sse2, 4 lanes), "sse2", "neon", "scalar",
                           "scalar-add" (one chain of dependent adds alone: 1 ÷ the add's latency),
                           "avx2-add", "avx2-mul" (AVX2 without FMA, every chain an add, or a multiply: 12 or 14) */
} nk_peak;

/* Run `iterations` rounds per thread on `threads` threads (1..256); kernel NULL picks the widest FMA kernel
 * (never "avx2" without FMA), with its default number of chains (the most that fit its registers). */
nk_peak nk_peak_measure(int threads, long iterations, const char *kernel);

/* The same with `chains` independent chains per thread (0: the default); kernels exist for some
 * counts only (1, 2, 4, 8, 12, 14; AVX-512 and NEON 16 and 24 too, not 14; avx2-add and avx2-mul 12 and 14
 * alone): an absent one gives a result whose kernel is NULL. */
nk_peak nk_peak_measure_chains(int threads, long iterations, const char *kernel, int chains);
