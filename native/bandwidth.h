/* nnkit's memory-bandwidth probe (native/bandwidth.c): declarations read by cffi.
 *
 * STREAM's triad, a[i] = b[i] + s·c[i], over three arrays far larger than the caches, on one
 * thread or several: the rate at which the cores can pull numbers from main memory — the
 * sloped roof of the roofline, beside the flat one that native/peak.c measures.
 */

typedef struct {
    double gbytes;     /* GB/s (10⁹ bytes), counted as STREAM counts: 24 bytes per element (2 read, 1 written) */
    double seconds;    /* the best pass */
    int threads;
    int64_t bytes;     /* the three arrays together */
} nk_bandwidth;

/* `elements` doubles per array; the best of `passes` passes on `threads` threads (1..256).
 * gbytes is 0 if the arrays cannot be allocated. */
nk_bandwidth nk_bandwidth_measure(int threads, int64_t elements, int passes);
