/* nnkit's C bridge to BLAS — see bridge.h for the contract. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge.h"

void *nk_open(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }

const char *nk_open_error(void) {
    const char *e = dlerror();
    return e ? e : "unknown dlopen error";
}

void *nk_symbol(void *library, const char *name) { return dlsym(library, name); }

/* The integer-width probe (libblastrampoline's trick): n = 0xffffffff00000003. An LP64 library
 * reads the low 32 bits, n = 3, and returns the 1-based index of the largest of {1, 2, 3}: 3.
 * An ILP64 library reads a negative n and returns 0 without touching x. Either way the result
 * fits the low 32 bits of the return register, the only part an LP64 routine sets. */
static const int64_t PROBE_N = (int64_t)0xffffffff00000003ULL;
static const float PROBE_X[3] = {1.0f, 2.0f, 3.0f};

static int width_from_index(int index) { return index == 3 ? 32 : index == 0 ? 64 : 0; }

int nk_int_width_cblas(void *fn) {
    /* cblas_isamax returns a 0-based CBLAS_INDEX (size_t): 2 for LP64 where isamax_ says 3. */
    int index = (int)((size_t (*)(int64_t, const float *, int64_t))fn)(PROBE_N, PROBE_X, 1);
    return index == 2 ? 32 : index == 0 ? 64 : 0;
}

int nk_int_width_fortran(void *fn) {
    int64_t n = PROBE_N, inc = 1;
    return width_from_index((int)((int64_t (*)(const int64_t *, const float *, const int64_t *))fn)(&n, PROBE_X, &inc));
}

typedef void cblas32_t(int, int, int, int32_t, int32_t, int32_t, double, const double *, int32_t,
                       const double *, int32_t, double, double *, int32_t);
typedef void cblas64_t(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                       const double *, int64_t, double, double *, int64_t);

void nk_cblas_dgemm32(void *fn, int order, int transa, int transb, int64_t m, int64_t n, int64_t k,
                      double alpha, const double *a, int64_t lda, const double *b, int64_t ldb,
                      double beta, double *c, int64_t ldc) {
    ((cblas32_t *)fn)(order, transa, transb, (int32_t)m, (int32_t)n, (int32_t)k, alpha, a, (int32_t)lda,
                      b, (int32_t)ldb, beta, c, (int32_t)ldc);
}

void nk_cblas_dgemm64(void *fn, int order, int transa, int transb, int64_t m, int64_t n, int64_t k,
                      double alpha, const double *a, int64_t lda, const double *b, int64_t ldb,
                      double beta, double *c, int64_t ldc) {
    ((cblas64_t *)fn)(order, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* gfortran passes the length of each CHARACTER argument as a hidden trailing size_t. */
typedef void fortran32_t(const char *, const char *, const int32_t *, const int32_t *, const int32_t *,
                         const double *, const double *, const int32_t *, const double *, const int32_t *,
                         const double *, double *, const int32_t *, size_t, size_t);
typedef void fortran64_t(const char *, const char *, const int64_t *, const int64_t *, const int64_t *,
                         const double *, const double *, const int64_t *, const double *, const int64_t *,
                         const double *, double *, const int64_t *, size_t, size_t);

void nk_fortran_dgemm32(void *fn, char transa, char transb, int64_t m, int64_t n, int64_t k,
                        double alpha, const double *a, int64_t lda, const double *b, int64_t ldb,
                        double beta, double *c, int64_t ldc) {
    int32_t m32 = (int32_t)m, n32 = (int32_t)n, k32 = (int32_t)k;
    int32_t lda32 = (int32_t)lda, ldb32 = (int32_t)ldb, ldc32 = (int32_t)ldc;
    ((fortran32_t *)fn)(&transa, &transb, &m32, &n32, &k32, &alpha, a, &lda32, b, &ldb32, &beta, c, &ldc32, 1, 1);
}

void nk_fortran_dgemm64(void *fn, char transa, char transb, int64_t m, int64_t n, int64_t k,
                        double alpha, const double *a, int64_t lda, const double *b, int64_t ldb,
                        double beta, double *c, int64_t ldc) {
    ((fortran64_t *)fn)(&transa, &transb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc, 1, 1);
}

const char *nk_call_string(void *fn) { return ((const char *(*)(void))fn)(); }
int nk_call_int(void *fn) { return ((int (*)(void))fn)(); }
void nk_call_set_int(void *fn, int value) { ((void (*)(int))fn)(value); }
int nk_call_set_int_by_pointer(void *fn, int value) { return ((int (*)(const int *))fn)(&value); }
void nk_call_fill_string(void *fn, char *buffer, int size) { ((void (*)(char *, int))fn)(buffer, size); }
