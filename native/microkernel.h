/* The micro-kernels of nnkit's dgemm (native/microkernel.c), used by native/gemm.c; not read by cffi.
 *
 * A micro-kernel computes one MR×NR tile of C from k columns of A and k rows of B:
 *     C_tile = alpha · Σ_p A(:, p) · B(p, :) + beta · C_tile      (beta = 0: C_tile is not read)
 * Columns of A and of C are contiguous — the kernel loads them as vectors: A(i, p) is at a[i + p*csa],
 * C(i, j) at c[i + j*ldc]; B(p, j), broadcast one number at a time, is at b[p*rsb + j*csb].
 * `packed` assumes the packed micro-panels (csa = MR, rsb = NR, csb = 1), zero-padded to a whole tile, and
 * ignores the strides; `strided` honours them and computes only the top-left rows×cols of the tile
 * (rows ≤ MR, cols ≤ NR): it reads no row of A past `rows`, no column of B past `cols`, and writes
 * no element of C outside them — so the kernel works on a matrix's edge in place (the rungs that do
 * not pack, and small products).
 */
#include <stdint.h>

typedef void (*nk_kernel_fn)(int64_t k, const double *a, int64_t csa, const double *b, int64_t rsb, int64_t csb,
                             double *c, int64_t ldc, double alpha, double beta);
typedef void (*nk_edge_kernel_fn)(int64_t k, const double *a, int64_t csa, const double *b, int64_t rsb, int64_t csb,
                                  double *c, int64_t ldc, double alpha, double beta, int rows, int cols);

#define NK_MAX_MR 24 /* the largest MR and NR of the kernels below */
#define NK_MAX_NR 8

typedef struct {
    const char *name; /* "avx512f+fma", "avx2+fma", "portable" */
    int mr, nr;       /* the tile: MR rows of C (vectors of A) × NR columns (numbers of B broadcast) */
    nk_kernel_fn packed;
    nk_edge_kernel_fn strided;
} nk_kernel;

/* The kernel called `name`, or the widest this CPU runs when name is NULL; NULL if unavailable. */
const nk_kernel *nk_kernel_pick(const char *name);
