/* nnkit's in-process tracer of the BLAS calls numpy makes: declarations read by cffi.
 *
 * numpy's _multiarray_umath calls its BLAS through PLT slots (its GOT). nk_trace_install points
 * the slots of its CBLAS gemm, syrk, gemv, dot and axpy routines (s, d, c, z) at recording wrappers, which note every argument and the
 * wall time in a ring buffer, then call the real routine (looked up in the BLAS library itself,
 * never taken from the slot). nk_trace_uninstall puts the slots back. Installs nest.
 */

typedef struct {
    int32_t routine;   /* index in nk_trace_routine_name */
    int32_t done;      /* 1 once the call has returned and the record is complete */
    int32_t order, transa, transb, uplo;
    int64_t m, n, k, lda, ldb, ldc, incx, incy;
    double alpha, beta;
    uint64_t a, b, c;  /* pointers: A (or x), B (or y for dot), C (or y for gemv/axpy) */
    int64_t start_ns, end_ns;
    int64_t thread;    /* the kernel's thread id, as threading.get_native_id() gives it */
    int64_t number;    /* its place in the sequence of calls recorded (nk_trace_position when it began) */
    int32_t file;      /* which watched source made the call (nk_trace_watch's index), -1: none */
    int32_t line;      /* the line in it, and the function (qualified name, UTF-8, cut at 63 bytes) */
    char function[64];
} nk_call;

/* Returns the number of slots hooked (0: nothing matched), or -1 module not found, -2 BLAS
 * library not loadable, -3 a routine missing from it, -4 mprotect failed, -5 too many slots.
 * The slots are found once per process; a page that was read-only is made read-only again. */
int nk_trace_install(const char *module_suffix, const char *blas_path, int int_width);
int nk_trace_uninstall(void);          /* slots restored when the last install is undone */
int64_t nk_trace_position(void);       /* calls recorded so far (monotonic) */
/* Copies the completed records [from, to) — the caller keeps to - from ≤ capacity and reads
 * before more than capacity newer calls reuse the slots. Returns how many were copied. */
int64_t nk_trace_read(int64_t from, int64_t to, nk_call *out, int64_t max);
int64_t nk_trace_capacity(void);
/* The records (position and ring) live in this process's memory until nk_trace_share moves them —
 * before any install — into `memory` (nk_trace_store_size() zeroed bytes, e.g. a shared mapping), where
 * another process can read them with the *_store functions, even after this one died.
 * Returns 0, or -1 while installed, -2 if `size` is too small. */
int64_t nk_trace_store_size(void);
int nk_trace_share(void *memory, int64_t size);
int64_t nk_trace_store_position(const void *memory);
int64_t nk_trace_read_store(const void *memory, int64_t from, int64_t to, nk_call *out, int64_t max);
/* Each call records the innermost Python frame of the calling thread running code from a watched
 * file (its path as the code's co_filename says it): returns the file's index, -1 if 8 are watched
 * or the path is too long. nk_trace_unwatch forgets them all. Lines are recorded on CPython 3.11
 * only (its frame layout is read); nk_trace_lines_supported says whether this build does. */
int nk_trace_watch(const char *path);
void nk_trace_unwatch(void);
int nk_trace_lines_supported(void);
/* Registers the line of each code unit of a code object (`code`: its address; `lines`, n entries,
 * must live as long as the process — so must the code object). Returns 0, or -1 when 4 096 are held. */
int nk_trace_code_lines(const void *code, const int32_t *lines, int64_t n);
const char *nk_trace_routine_name(int routine);
const char *nk_trace_hooked_symbol(int i);   /* the symbols hooked, NULL past the end */
