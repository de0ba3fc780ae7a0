/* Matrix multiplication written by hand, for the speed ladder (tutorial 2): declarations for cffi.
 * C = A·B for n×n row-major doubles; C is overwritten. */
void nk_matmul_ijk(int n, const double *a, const double *b, double *c);     /* the textbook loop */
void nk_matmul_ikj(int n, const double *a, const double *b, double *c);     /* loops reordered */
void nk_matmul_blocked(int n, const double *a, const double *b, double *c); /* tiles that fit in cache */
