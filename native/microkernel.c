/* The micro-kernels of nnkit's dgemm — see microkernel.h.
 *
 * Each keeps an MR×NR tile of C in registers for the whole loop over p. Per step it loads one
 * column of A (MR numbers: MR/lanes vectors), broadcasts NR numbers of B one at a time, and does
 * MR/lanes × NR fused multiply-adds. The tile is sized to the register file: AVX2 has 16 ymm
 * registers — 8×6 keeps 12 accumulators, 2 for A and 1 for B; AVX-512 has 32 zmm registers —
 * 24×8 keeps 24 accumulators, 3 for A and 1 for B. Function target attributes compile each for
 * its instruction set, and the CPU is asked at run time (no -march: the module runs on any x86-64).
 */
#include <string.h>

#include "microkernel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define PRAGMA(x) _Pragma(#x)
#define UNROLLED(n) PRAGMA(GCC unroll n) /* loops over the tile: fully, so the accumulators stay in registers;
                                              over p: 4 steps per trip, +1–5 % at n = 2048 (paired runs) */
#define INLINE static inline __attribute__((always_inline))
/* Ask for a column of the C tile now, so that it has arrived when the loop over p ends. A and B
 * are not prefetched in software: it bought nothing measurable. Tried, paired, session 5: the
 * A micro-panel 4, 8 or 16 steps ahead 0.97–1.02×, the next B micro-panel 1.00×, the p loop
 * unrolled 8 or 2 times instead of 4 1.00–1.02× — none the 2 % that would earn its lines. */
#define PREFETCH(column, mr) \
    for (int _i = 0; _i < (mr); _i += 8) __builtin_prefetch((column) + _i, 1, 3)
/* At an edge (rows < MR or cols < NR) the kernel still computes a whole tile in its registers, but
 * the rows of A past `rows` are masked off (AVX2, AVX-512) or read again from row 0 (plain C), and
 * the columns of B past `cols` repeat column cols − 1: it reads only what exists, and stores only
 * the rows×cols it was asked for. */
#define B_COLUMN(j) ((edge && (j) >= cols ? cols - 1 : (j)) * csb)

/* The same body serves both entry points; the packed one passes constant strides and a whole tile,
 * which the compiler folds into the addressing (edge = 0 removes every mask). */
#define ENTRY_POINTS(body, target, mr, nr)                                                                      \
    target static void body##_packed(int64_t k, const double *a, int64_t csa, const double *b, int64_t rsb,   \
                                     int64_t csb, double *c, int64_t ldc, double alpha, double beta) {      \
        (void)csa, (void)rsb, (void)csb;                                                                       \
        body(k, a, mr, b, nr, 1, c, ldc, alpha, beta, mr, nr, 0);                                              \
    }                                                                                                          \
    target static void body##_strided(int64_t k, const double *a, int64_t csa, const double *b, int64_t rsb,  \
                                      int64_t csb, double *c, int64_t ldc, double alpha, double beta, int rows, \
                                      int cols) {                                                              \
        body(k, a, csa, b, rsb, csb, c, ldc, alpha, beta, rows, cols, 1);                                     \
    }

/* Plain C, 4×4: whatever the compiler makes of it (SSE2 on x86-64 without -march). */
INLINE void portable(int64_t k, const double *a, int64_t csa, const double *b, int64_t rsb, int64_t csb, double *c,
                     int64_t ldc, double alpha, double beta, int rows, int cols, int edge) {
    double acc[4][4] = {{0}};
    for (int64_t p = 0; p < k; p++)
        UNROLLED(4) for (int j = 0; j < 4; j++) UNROLLED(4) for (int i = 0; i < 4; i++)
            acc[j][i] += a[(i < rows ? i : 0) + p * csa] * b[p * rsb + B_COLUMN(j)];
    for (int j = 0; j < cols; j++)
        for (int i = 0; i < rows; i++)
            c[i + j * ldc] = beta == 0.0 ? alpha * acc[j][i] : alpha * acc[j][i] + beta * c[i + j * ldc];
}
ENTRY_POINTS(portable, , 4, 4)

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))
/* Lanes 0..rows−1 of a 4-lane vector: maskload/maskstore touch only those. */
AVX2 INLINE __m256i lanes(int rows) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(rows), _mm256_setr_epi64x(0, 1, 2, 3));
}
AVX2 INLINE void avx2(int64_t k, const double *a, int64_t csa, const double *b, int64_t rsb, int64_t csb, double *c,
                      int64_t ldc, double alpha, double beta, int rows, int cols, int edge) {
    __m256d acc[6][2];
    __m256i mask[2] = {lanes(rows), lanes(rows - 4)};
    UNROLLED(6) for (int j = 0; j < 6; j++) {
        if (j < cols) PREFETCH(c + j * ldc, 8);
        acc[j][0] = acc[j][1] = _mm256_setzero_pd();
    }
    UNROLLED(4) for (int64_t p = 0; p < k; p++) {
        const double *ap = a + p * csa;
        __m256d a0 = edge ? _mm256_maskload_pd(ap, mask[0]) : _mm256_loadu_pd(ap);
        __m256d a1 = edge ? _mm256_maskload_pd(ap + 4, mask[1]) : _mm256_loadu_pd(ap + 4);
        UNROLLED(6) for (int j = 0; j < 6; j++) {
            __m256d bj = _mm256_broadcast_sd(b + p * rsb + B_COLUMN(j));
            acc[j][0] = _mm256_fmadd_pd(a0, bj, acc[j][0]);
            acc[j][1] = _mm256_fmadd_pd(a1, bj, acc[j][1]);
        }
    }
    __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
    UNROLLED(6) for (int j = 0; j < 6; j++) UNROLLED(2) for (int v = 0; v < 2; v++) {
        double *cij = c + j * ldc + 4 * v;
        __m256d r = _mm256_mul_pd(va, acc[j][v]);
        if (!edge) _mm256_storeu_pd(cij, beta == 0.0 ? r : _mm256_fmadd_pd(vb, _mm256_loadu_pd(cij), r));
        else if (j < cols)
            _mm256_maskstore_pd(cij, mask[v], beta == 0.0 ? r : _mm256_fmadd_pd(vb, _mm256_maskload_pd(cij, mask[v]), r));
    }
}
ENTRY_POINTS(avx2, AVX2, 8, 6)

#define AVX512 __attribute__((target("avx512f,fma")))
/* nv vectors of A per step (a constant once inlined): an edge tile of at most 16 or 8 rows runs the
 * FMAs its rows need, not all 24 rows' (a 64-row product: tiles of 24, 24 and 16 rows). */
AVX512 INLINE void avx512_rows(int64_t k, const double *a, int64_t csa, const double *b, int64_t rsb, int64_t csb,
                               double *c, int64_t ldc, double alpha, double beta, int rows, int cols, int edge, int nv) {
    __m512d acc[8][3];
    __mmask8 mask[3]; /* lanes 0..rows−1 of each vector of A and of C */
    UNROLLED(3) for (int v = 0; v < nv; v++) mask[v] = rows >= 8 * v + 8 ? 0xff : rows <= 8 * v ? 0 : (1u << (rows - 8 * v)) - 1;
    UNROLLED(8) for (int j = 0; j < 8; j++) {
        if (j < cols) PREFETCH(c + j * ldc, 24);
        acc[j][0] = acc[j][1] = acc[j][2] = _mm512_setzero_pd();
    }
    UNROLLED(4) for (int64_t p = 0; p < k; p++) {
        const double *ap = a + p * csa;
        __m512d av[3];
        UNROLLED(3) for (int v = 0; v < nv; v++) av[v] = edge ? _mm512_maskz_loadu_pd(mask[v], ap + 8 * v) : _mm512_loadu_pd(ap + 8 * v);
        UNROLLED(8) for (int j = 0; j < 8; j++) {
            __m512d bj = _mm512_set1_pd(b[p * rsb + B_COLUMN(j)]);
            UNROLLED(3) for (int v = 0; v < nv; v++) acc[j][v] = _mm512_fmadd_pd(av[v], bj, acc[j][v]);
        }
    }
    __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
    UNROLLED(8) for (int j = 0; j < 8; j++) UNROLLED(3) for (int v = 0; v < nv; v++) {
        double *cij = c + j * ldc + 8 * v;
        __m512d r = _mm512_mul_pd(va, acc[j][v]);
        if (!edge) _mm512_storeu_pd(cij, beta == 0.0 ? r : _mm512_fmadd_pd(vb, _mm512_loadu_pd(cij), r));
        else if (j < cols)
            _mm512_mask_storeu_pd(cij, mask[v], beta == 0.0 ? r : _mm512_fmadd_pd(vb, _mm512_maskz_loadu_pd(mask[v], cij), r));
    }
}
AVX512 INLINE void avx512(int64_t k, const double *a, int64_t csa, const double *b, int64_t rsb, int64_t csb,
                          double *c, int64_t ldc, double alpha, double beta, int rows, int cols, int edge) {
    if (!edge || rows > 16) avx512_rows(k, a, csa, b, rsb, csb, c, ldc, alpha, beta, rows, cols, edge, 3);
    else if (rows > 8) avx512_rows(k, a, csa, b, rsb, csb, c, ldc, alpha, beta, rows, cols, edge, 2);
    else avx512_rows(k, a, csa, b, rsb, csb, c, ldc, alpha, beta, rows, cols, edge, 1);
}
ENTRY_POINTS(avx512, AVX512, 24, 8)

_Static_assert(24 <= NK_MAX_MR && 8 <= NK_MAX_NR, "a tile outgrows NK_MAX_MR × NK_MAX_NR");
static const nk_kernel KERNELS[] = {{"avx512f+fma", 24, 8, avx512_packed, avx512_strided},
                                    {"avx2+fma", 8, 6, avx2_packed, avx2_strided},
                                    {"portable", 4, 4, portable_packed, portable_strided}};
static int available(const nk_kernel *k) {
    if (k == &KERNELS[0]) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    if (k == &KERNELS[1]) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return 1;
}
#else
static const nk_kernel KERNELS[] = {{"portable", 4, 4, portable_packed, portable_strided}};
static int available(const nk_kernel *k) { return k != NULL; }
#endif

const nk_kernel *nk_kernel_pick(const char *name) {
    for (size_t i = 0; i < sizeof KERNELS / sizeof *KERNELS; i++)
        if ((!name || !strcmp(name, KERNELS[i].name)) && available(&KERNELS[i])) return &KERNELS[i];
    return NULL;
}
