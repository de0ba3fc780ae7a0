/* Matrix multiplication written by hand — the rungs of the speed ladder between NumPy and BLAS. */
#include <string.h>

/* Every rung is compiled the same way, -O3 for the portable x86-64/AArch64 baseline (no -march):
 * the ladder compares code, not compiler flags. */
#pragma GCC optimize("O3")

#include "naive.h"

/* The textbook order: the inner loop walks down a column of B, n doubles apart in memory, so
 * nearly every step of it misses the cache. */
void nk_matmul_ijk(int n, const double *restrict a, const double *restrict b, double *restrict c) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
            c[i * n + j] = sum;
        }
}

/* The same arithmetic with the two inner loops swapped: the innermost loop now walks along rows of
 * B and C, one double after the next, which the cache and the vector units both like. */
void nk_matmul_ikj(int n, const double *restrict a, const double *restrict b, double *restrict c) {
    memset(c, 0, sizeof(double) * (size_t)n * (size_t)n);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
        }
}

/* ikj on tiles of 64×64 (three tiles: 96 KiB, in L2): each tile of B is reused for a whole tile of
 * rows of A before it leaves the cache. */
#define TILE 64
void nk_matmul_blocked(int n, const double *restrict a, const double *restrict b, double *restrict c) {
    memset(c, 0, sizeof(double) * (size_t)n * (size_t)n);
    for (int ii = 0; ii < n; ii += TILE)
        for (int kk = 0; kk < n; kk += TILE)
            for (int jj = 0; jj < n; jj += TILE) {
                int i_end = ii + TILE < n ? ii + TILE : n, k_end = kk + TILE < n ? kk + TILE : n;
                int j_end = jj + TILE < n ? jj + TILE : n;
                for (int i = ii; i < i_end; i++)
                    for (int k = kk; k < k_end; k++) {
                        double aik = a[i * n + k];
                        for (int j = jj; j < j_end; j++) c[i * n + j] += aik * b[k * n + j];
                    }
            }
}
