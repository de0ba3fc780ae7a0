/* nnkit's memory-bandwidth probe (native/bandwidth.c): declarations read by cffi.
 *
 * STREAM's triad, a[i] = b[i] + s·c[i], over three arrays far larger than the caches, on one
 * thread or several: the rate at which the cores can pull numbers from main memory — the
 * sloped roof of the roofline, beside the flat one that native/peak.c measures. Its loop uses the
 * widest vector loads and stores the CPU runs (chosen at run time, as peak.c chooses its kernels).
 */

typedef struct {
    double gbytes;     /* GB/s (10⁹ bytes), counted as STREAM counts: 24 bytes per element (2 read, 1 written) */
    double seconds;    /* the best pass */
    int threads;
    int64_t bytes;     /* the three arrays together */
    const char *kernel; /* the triad's instruction set: "avx512f", "avx2", "sse2" (x86-64), "scalar" (one element
                           per instruction; elsewhere the only one); NULL if the one asked for does not run here */
} nk_bandwidth;

/* `elements` doubles per array; the best of `passes` passes on `threads` threads (1..256), with the
 * widest kernel the CPU runs. gbytes is 0 if the arrays cannot be allocated. */
nk_bandwidth nk_bandwidth_measure(int threads, int64_t elements, int passes);

/* The same with the kernel named (`kernel` NULL: the widest); gbytes 0 and kernel NULL when the CPU
 * does not run it. */
nk_bandwidth nk_bandwidth_measure_kernel(int threads, int64_t elements, int passes, const char *kernel);

/* The name of the kernel nk_bandwidth_measure uses on this CPU. */
const char *nk_bandwidth_kernel(void);
