/* nnkit's own dgemm (native/gemm.c, native/microkernel.c): declarations read by cffi.
 *
 * The BLIS design: five loops around a register-blocked micro-kernel, operands packed into
 * contiguous micro-panels, block sizes derived from this machine's caches, threads over the
 * loop whose blocks live in each core's private L2.
 */

/* What nnkit's dgemm will do, and what it derived it from. */
typedef struct {
    const char *kernel;  /* micro-kernel: "avx512f+fma", "avx2+fma", "portable" */
    int mr, nr;          /* its tile of C, in elements */
    int64_t mc, kc, nc;  /* cache blocks, in elements: A blocks are MC×KC, B panels KC×NC */
    int threads;         /* threads a large product uses */
    /* the caches (L1: its data cache), each figure read from sysfs (/sys/devices/system/cpu/cpu0/cache), else
     * glibc's sysconf, else nnkit's default */
    int64_t l1_bytes, l1_ways, l2_bytes, l2_ways, l3_bytes, l3_ways, line_bytes;
    /* where each came from: "sysfs", "sysconf", "default", or "given" (nk_gemm_config_for_l3's L3 size) */
    const char *l1_bytes_from, *l1_ways_from, *l2_bytes_from, *l2_ways_from, *l3_bytes_from, *l3_ways_from,
        *line_bytes_from;
    int a_ways_l1;       /* L1 ways the A micro-panel (MR×KC) may take: KC fills them (one way is left to C) */
    int b_ways_l1;       /* L1 ways the B micro-panel (KC×NR) then takes, rounded up */
    int a_ways_l2;       /* L2 ways kept for the A block (MC×KC) */
    int a_ways_l3;       /* L3 ways the A blocks of all threads take beside the B panel */
    int64_t nc_model;    /* NC the L3 would allow, before the cap */
    int64_t nc_cap;
    int64_t one_thread_up_to; /* multiply-adds (m·n·k) up to which a product runs on one thread: this kernel's
                               * figure, or the one given (nk_gemm_set_one_thread_up_to) */
    const char *one_thread_from;        /* "kernel" (its figure, below) or "given" */
    int64_t one_thread_kernel_up_to;    /* this kernel's figure (native/gemm.c's ONE_THREAD_UP_TO), given or not */
    const char *one_thread_measured_on; /* the machine that figure was measured on */
    const char *one_thread_evidence;    /* what was measured there, in a few words */
    int64_t unpacked_up_to;   /* multiply-adds up to which a product skips packing: this kernel's figure */
    const char *unpacked_measured_on; /* the machine that figure was measured on */
    const char *unpacked_evidence;    /* what was measured there, in a few words */
} nk_gemm_config;

nk_gemm_config nk_gemm_config_get(void);
/* The same choice had the L3 held l3_bytes (its ways as reported): a_ways_l3, nc_model and nc follow. */
nk_gemm_config nk_gemm_config_for_l3(int64_t l3_bytes);
/* The same choice (kernel, threads) had the caches been read from `cache_dir`, a directory laid out as sysfs's
 * (one index<n> directory per cache, with level, type, size, ways_of_associativity, coherency_line_size): sysconf and the defaults where it
 * says nothing usable. The configuration in use is not changed. */
nk_gemm_config nk_gemm_config_from_caches(const char *cache_dir);
/* Choose the kernel (NULL: the widest this CPU runs), threads (0: every CPU this process may use)
 * and blocks (0: from the cache model). Returns 0, or -1 if the kernel is unknown or unavailable.
 * Not thread-safe: configure before calling. */
int nk_gemm_configure(const char *kernel, int threads, int64_t mc, int64_t kc, int64_t nc);

/* The thread count alone (threadpoolctl calls these through its controller for nnkit). */
int nk_gemm_get_threads(void);
void nk_gemm_set_threads(int threads); /* 1..256; 0: every CPU this process may use */

/* The one-thread cut in multiply-adds (m·n·k), in place of the kernel's figure, for every product from now on
 * (0: every product that has rows for two threads may use them); -1: the kernel's figure again. Kept across
 * nk_gemm_configure. Returns 0, or -1 for a value below -1. Not thread-safe: set it before calling. */
int nk_gemm_set_one_thread_up_to(int64_t multiply_adds);
/* Threads the calling thread's last product (library or rung) ran on, its own included: 1 on one thread; 0 before
 * any. */
int nk_gemm_last_threads(void);

/* Threads in the pool that helps the caller (started at the first product needing them, kept asleep). */
int nk_gemm_pool_size(void);

/* The whole dgemm contract, C = alpha·op(A)·op(B) + beta·C, 64-bit integers (ILP64).
 * CBLAS: order 101 row-major / 102 column-major, trans 111 no / 112 yes. */
void nk_gemm_cblas_dgemm(int order, int transa, int transb, int64_t m, int64_t n, int64_t k, double alpha,
                         const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c,
                         int64_t ldc);
/* Fortran: column-major, everything by reference, 'N'/'T'/'C' (and lower case), hidden string lengths. */
void nk_gemm_dgemm_(const char *transa, const char *transb, const int64_t *m, const int64_t *n, const int64_t *k,
                    const double *alpha, const double *a, const int64_t *lda, const double *b, const int64_t *ldb,
                    const double *beta, double *c, const int64_t *ldc, size_t transa_len, size_t transb_len);
/* BLAS isamax, so that nnkit's library answers the same integer-width probe as the others. */
int64_t nk_gemm_isamax_(const int64_t *n, const float *x, const int64_t *incx);

/* The rungs of the ladder, each callable on its own with one signature: C = A·B, row-major,
 * A m×k (rows lda apart), B k×n (ldb), C m×n (ldc), C overwritten. */
int nk_gemm_rungs(void);
const char *nk_gemm_rung_name(int rung);
void nk_gemm_rung(int rung, int64_t m, int64_t n, int64_t k, const double *a, int64_t lda, const double *b,
                  int64_t ldb, double *c, int64_t ldc);
