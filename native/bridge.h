/* nnkit's C bridge to BLAS: declarations read by cffi (native/build_native.py).
 *
 * A BLAS library is opened by path and its routines are looked up by name; the trampolines
 * below then call a routine through its address with the calling convention of its flavour:
 * CBLAS (arguments by value) or Fortran (everything by pointer, plus hidden string lengths),
 * with 32-bit (LP64) or 64-bit (ILP64) integers. Every argument has been validated in Python
 * before one of these is called: they check nothing themselves.
 */

void *nk_open(const char *path);                  /* dlopen(path, RTLD_NOW | RTLD_LOCAL) or NULL */
const char *nk_open_error(void);                  /* dlerror() of the last failure */
void *nk_symbol(void *library, const char *name); /* dlsym or NULL */

/* Integer width of a library's isamax: 32 or 64 (0 if the answer makes no sense). */
int nk_int_width_cblas(void *cblas_isamax);
int nk_int_width_fortran(void *isamax_);

/* C = alpha * op(A) * op(B) + beta * C. order: 101 row-major, 102 column-major (CBLAS values);
 * trans: 111 no, 112 yes. Dimensions are int64 here and narrowed only for LP64 libraries. */
void nk_cblas_dgemm32(void *fn, int order, int transa, int transb, int64_t m, int64_t n, int64_t k,
                      double alpha, const double *a, int64_t lda, const double *b, int64_t ldb,
                      double beta, double *c, int64_t ldc);
void nk_cblas_dgemm64(void *fn, int order, int transa, int transb, int64_t m, int64_t n, int64_t k,
                      double alpha, const double *a, int64_t lda, const double *b, int64_t ldb,
                      double beta, double *c, int64_t ldc);
/* Fortran dgemm_ is column-major only; transa/transb are 'N' or 'T'. */
void nk_fortran_dgemm32(void *fn, char transa, char transb, int64_t m, int64_t n, int64_t k,
                        double alpha, const double *a, int64_t lda, const double *b, int64_t ldb,
                        double beta, double *c, int64_t ldc);
void nk_fortran_dgemm64(void *fn, char transa, char transb, int64_t m, int64_t n, int64_t k,
                        double alpha, const double *a, int64_t lda, const double *b, int64_t ldb,
                        double beta, double *c, int64_t ldc);

/* Small helpers for library metadata: a routine returning a C string, or an int, or taking an int. */
const char *nk_call_string(void *fn);
int nk_call_int(void *fn);
void nk_call_set_int(void *fn, int value);
int nk_call_set_int_by_pointer(void *fn, int value);
void nk_call_fill_string(void *fn, char *buffer, int size);
