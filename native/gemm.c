/* nnkit's own dgemm — see gemm.h. The five loops of the BLIS design, around a micro-kernel
 * (microkernel.c):
 *
 *   for jc over n, NC at a time          B panel KC×NC, packed once per (jc, pc): lives in L3
 *     for pc over k, KC at a time
 *       for ic over m, MC at a time      A block MC×KC, packed per thread: lives in that core's L2
 *         for jr over NC, NR at a time   B micro-panel KC×NR: stays in L1 while ...
 *           for ir over MC, MR at a time ... the A micro-panels MR×KC stream past it
 *             micro-kernel: the MR×NR tile of C, in registers
 *
 * Threads split the ic loop: each core packs and works on its own rows of A in its own L2,
 * all share the packed B panel (packed together, then a barrier). The threads other than the
 * caller's are a pool, started at the first product that needs them and asleep in between.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gemm.h"
#include "microkernel.h"

#define MAX_THREADS 256
#define NC_CAP 4096 /* B panels past 4096 columns gain nothing and only grow the buffer; 1024
                      * (a 3 MiB panel) measured 1.01× at n = 4096 and 2048 (paired, session 5), 2048
                      * 0.999–1.048× at n = 4096 (4 paired runs, session 6): not kept. This guest gets
                      * ~8 MiB of its 300 MiB L3 (a pointer chase: 42 ns to 8 MiB, 125 ns from 16 MiB).
                      * Session 7, paired: NC 1360 (B panel ≤ half of that) with every A block of a slice of k
                      * packed once for all B panels 0.95–1.06× at 4096, 1.00–1.01× at 2048; B micro-panels
                      * packed just before the first A block's tiles use them 1.00–1.03× at 4096, 0.96–1.00×
                      * at 2048 (one thread, medians of 9–21 alternating rounds): not kept */
/* Up to this many multiply-adds (m·n·k) a product runs on one thread (see threads_for), per micro-kernel: where,
 * on the machine each was measured on, a second thread stopped losing. A question of threads, apart from
 * packing's (UNPACKED_UP_TO below). nk_gemm_set_one_thread_up_to replaces it at run time (own_dgemm.one_thread_cut):
 * tutorial 8's Step 9 lifts it to time 2 threads against 1 on the reader's machine.
 *   avx512f+fma, an AVX-512 Xeon (session 4): at n = 256 one thread without packing ran 79 GFLOP/s, two threads
 *     with it 60 → 256³.
 *   avx2+fma, an AMD EPYC Zen 3 (2 vCPUs, session 14, idle: others ≤ 0.08 cores; tutorial 8's Step 9 on reader 35's
 *     run, 3 rounds of pairs beside 1 thread against itself within 0.99–1.02×): 2 threads ÷ 1 0.31–0.67× at n = 64
 *     (cost), 1.01–1.37× at 128 and 1.03–1.58× at 256 (paid, the undisturbed rounds) → 64³. Between 64 and 128 it
 *     was not timed idle. (Session 12's busy run, another process holding about a core, lost at every n from 64 to
 *     512 — 0.49–0.55× at 64, 0.80–0.81× at 128, 0.91–0.97× at 256: threads cannot pay on a busy core.)
 *   portable: never measured against two threads; the Xeon's figure kept. */
/* A cut in multiply-adds (m·n·k) for one micro-kernel: the machine it was measured on and, in a few words, what was
 * measured there (own_dgemm.reasoning prints both). */
typedef struct { const char *kernel; int64_t up_to; const char *measured_on, *evidence; } cut;
static const cut ONE_THREAD_UP_TO[] = {
    {"avx512f+fma", 256 * 256 * 256, "an AVX-512 Xeon", "n = 256: one thread unpacked 79 GFLOP/s, two threads packed 60"},
    {"avx2+fma", 64 * 64 * 64, "an AMD EPYC Zen 3 (AVX2, idle)",
     "2 threads ÷ 1, paired: 0.31–0.67× at n = 64, 1.01–1.37× at 128, 1.03–1.58× at 256"},
    {"portable", 256 * 256 * 256, "an AVX-512 Xeon (with its own kernel; not measured with this one)",
     "the AVX-512 kernel's figure, kept: not timed with this kernel"},
};

/* Up to this many multiply-adds the library's products skip packing (see direct), per micro-kernel: where, on
 * the machine each was measured on, the kernel reading A and B in place stopped beating packing them (the rungs
 * "+ SIMD intrinsics" against "+ cache blocking", one thread, paired, alternating, medians). Never above
 * the kernel's ONE_THREAD_UP_TO: the unpacked path runs on one thread. Tutorial 8's Step 4 times it again on the reader's machine.
 * Each figure below is packing's speed-up (the median of 5 rounds of 9 pairs, beside 5 rounds of the unpacked rung
 * against itself, whose medians lay within 0.94–1.08× but for one round at some sizes, 0.80–1.27×):
 *   avx512f+fma, an AVX-512 Xeon (session 4): 0.63× at n = 64, 0.97× at 256, 1.05× at 384 → 256³.
 *   avx2+fma, an AMD EPYC Zen 3, 2 vCPUs (session 12): 0.71× at n = 16, 1.00× at 32, 1.17× at 48, 1.24× at 64,
 *     1.29× at 80, 1.43× at 96 and 128 → 32³ (at n = 250 the unpacked path ran ~14 GFLOP/s, packed ~30).
 *   portable, the same Zen 3 (session 12): 1.03× at n = 32, 1.25× at 64, 1.35× at 128, 1.75× at 256 → 32³;
 *     not measured on the Xeon. */
static const cut UNPACKED_UP_TO[] = {
    {"avx512f+fma", 256 * 256 * 256, "an AVX-512 Xeon", "packing's speed-up, paired: 0.63× at n = 64, 0.97× at 256, 1.05× at 384"},
    {"avx2+fma", 32 * 32 * 32, "an AMD EPYC Zen 3 (AVX2)",
     "packing's speed-up, paired: 0.71× at n = 16, 1.00× at 32, 1.17× at 48, 1.24× at 64"},
    {"portable", 32 * 32 * 32, "an AMD EPYC Zen 3", "packing's speed-up, paired: 1.03× at n = 32, 1.25× at 64"},
};

/* `kernel`'s row of `table` (`rows` long); every kernel nnkit builds has one in each table. */
static cut cut_for(const cut *table, size_t rows, const char *kernel) {
    for (size_t i = 0; i < rows; i++)
        if (!strcmp(table[i].kernel, kernel)) return table[i];
    return (cut){kernel, 0, "no machine", "not measured"};
}
#define CUT_FOR(table, kernel) cut_for(table, sizeof table / sizeof *table, kernel)

typedef struct { const double *p; int64_t rs, cs; } mat; /* element (i, j) at p[i*rs + j*cs] */

enum { NEVER, ALWAYS, LARGE };

typedef struct {
    const nk_kernel *kernel;
    int64_t mc, kc, nc; /* 0: the whole dimension (no cache blocking) */
    int pack, threads; /* pack: NEVER, ALWAYS (the rungs), or LARGE (the library: see direct) */
    int64_t unpacked_up_to; /* LARGE: multiply-adds up to which a product skips packing */
    int64_t one_thread_up_to; /* multiply-adds up to which a product runs on one thread */
} method;

typedef struct {
    int64_t m, n, k;
    double alpha, beta;
    mat a, b;
    double *c; /* column-major: C(i, j) at c[i + j*ldc] */
    int64_t ldc;
} problem;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* ---------- block sizes from the caches ----------
 * Each block is sized so that what a loop reuses stays in its cache level while the rest streams
 * past it: in L1 the ways are split between the two micro-panels and C (see derive); in L2 and L3 "half the ways"
 * (one free in L3) leaves the streaming data room. */

#define SYSFS_CACHES "/sys/devices/system/cpu/cpu0/cache"
#define PLAUSIBLE ((int64_t)1 << 40) /* no cache figure is larger: a file that says more is garbage */

/* The first line of file `dir`/`index`/`name`, without its line end, into text; 0 if missing or empty. */
static int read_text(const char *dir, const char *index, const char *name, char *text, size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", dir, index, name);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int got = fgets(text, (int)size, f) != NULL;
    fclose(f);
    if (got) text[strcspn(text, "\n")] = 0;
    return got && text[0];
}

/* The positive number a file holds, with sysfs's K/M/G suffix of sizes ("32768K"); 0 if missing, empty or garbage. */
static int64_t read_number(const char *dir, const char *index, const char *name) {
    char text[64], *end;
    if (!read_text(dir, index, name, text, sizeof text)) return 0;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    int64_t scale = *end == 'K' ? 1 << 10 : *end == 'M' ? 1 << 20 : *end == 'G' ? 1 << 30 : 1;
    end += scale > 1;
    while (isspace((unsigned char)*end)) end++;
    return end == text || *end || errno || v <= 0 || v > PLAUSIBLE / scale ? 0 : v * scale;
}

/* The entry (index<n>) of the cache of `level` that holds data ("Data" or "Unified") into index; 0 if none. */
static int find_index(const char *dir, int level, char *index, size_t size) {
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        char type[32];
        found = !strncmp(e->d_name, "index", 5) && read_number(dir, e->d_name, "level") == level &&
                read_text(dir, e->d_name, "type", type, sizeof type) && (!strcmp(type, "Data") || !strcmp(type, "Unified"));
        if (found) snprintf(index, size, "%s", e->d_name);
    }
    if (d) closedir(d);
    return found;
}

typedef struct { int64_t value; const char *from; } figure;

/* One figure of the cache of `level`: file `name` of its sysfs entry under `dir`, else sysconf(`asked`), else
 * `fallback` — with where it came from. */
static figure cache_figure(const char *dir, int level, const char *name, int asked, int64_t fallback) {
    char index[256];
    int64_t v = find_index(dir, level, index, sizeof index) ? read_number(dir, index, name) : 0;
    if (v > 0) return (figure){v, "sysfs"};
    long s = sysconf(asked);
    return s > 0 && s <= PLAUSIBLE ? (figure){s, "sysconf"} : (figure){fallback, "default"};
}

/* The caches' figures, read from `dir` (laid out as sysfs's), sysconf and the defaults; the rest of c zero. */
static nk_gemm_config caches(const char *dir) {
    nk_gemm_config c = {0};
#define READ(field, level, file, asked, fallback)                                   \
    do {                                                                            \
        figure f = cache_figure(dir, level, file, asked, fallback);                 \
        c.field = f.value, c.field##_from = f.from;                                 \
    } while (0)
    READ(line_bytes, 1, "coherency_line_size", _SC_LEVEL1_DCACHE_LINESIZE, 64);
    READ(l1_bytes, 1, "size", _SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    READ(l1_ways, 1, "ways_of_associativity", _SC_LEVEL1_DCACHE_ASSOC, 8);
    READ(l2_bytes, 2, "size", _SC_LEVEL2_CACHE_SIZE, 512 << 10);
    READ(l2_ways, 2, "ways_of_associativity", _SC_LEVEL2_CACHE_ASSOC, 8);
    READ(l3_bytes, 3, "size", _SC_LEVEL3_CACHE_SIZE, 8 << 20);
    READ(l3_ways, 3, "ways_of_associativity", _SC_LEVEL3_CACHE_ASSOC, 16);
#undef READ
    return c;
}

static int cpus(void) {
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

/* L3 (shared) keeps the B panel (KC×NC) beside every thread's A block, one way free. */
static nk_gemm_config derive_nc(nk_gemm_config c) {
    int64_t way3 = c.l3_bytes / c.l3_ways > 0 ? c.l3_bytes / c.l3_ways : 1;
    c.a_ways_l3 = (int)((c.threads * c.mc * c.kc * 8 + way3 - 1) / way3);
    c.nc_model = (c.l3_ways - 1 - c.a_ways_l3) * way3 / (c.kc * 8) / c.nr * c.nr;
    c.nc_cap = NC_CAP / c.nr * c.nr;
    c.nc = c.nc_model < c.nr ? c.nr : min64(c.nc_model, c.nc_cap);
    return c;
}

/* The one-thread cut given at run time (nk_gemm_set_one_thread_up_to), in multiply-adds; -1: the kernel's own. */
static int64_t one_thread_given = -1;

/* c's one-thread and packing cuts for its kernel (c.kernel): the tables' figures, the one-thread cut replaced by the
 * one given at run time, if any; the packing cut never above the one-thread cut (the unpacked path runs on one
 * thread). */
static nk_gemm_config cuts(nk_gemm_config c) {
    cut threads_cut = CUT_FOR(ONE_THREAD_UP_TO, c.kernel), packing_cut = CUT_FOR(UNPACKED_UP_TO, c.kernel);
    c.one_thread_kernel_up_to = threads_cut.up_to;
    c.one_thread_up_to = one_thread_given < 0 ? threads_cut.up_to : one_thread_given;
    c.one_thread_from = one_thread_given < 0 ? "kernel" : "given";
    c.one_thread_measured_on = threads_cut.measured_on, c.one_thread_evidence = threads_cut.evidence;
    c.unpacked_up_to = min64(packing_cut.up_to, c.one_thread_up_to), c.unpacked_measured_on = packing_cut.measured_on;
    c.unpacked_evidence = packing_cut.evidence;
    return c;
}

/* The blocks for `kernel` and `threads` from the caches' figures in c (see caches). */
static nk_gemm_config derive(nk_gemm_config c, const nk_kernel *kernel, int threads) {
    c.kernel = kernel->name, c.mr = kernel->mr, c.nr = kernel->nr, c.threads = threads;
    int64_t way1 = c.l1_bytes / c.l1_ways, way2 = c.l2_bytes / c.l2_ways;
    /* L1 (Low, Igual, Smith and Quintana-Ortí, "Analytical Modeling Is Enough for High-Performance BLIS", ACM TOMS
     * 43(2), 2016, their C_Ar and k_c): the B micro-panel (KC×NR) stays in L1 for every A micro-panel of the block
     * while each A micro-panel (MR×KC) streams through beside it, and the C tile passes too. One way is left to C;
     * the other W − 1 are shared by the two micro-panels in proportion MR : NR, so A's share is
     * ⌊(W − 1) / (1 + NR/MR)⌋ ways and KC fills it: KC = A's ways · way bytes / (MR · 8 B). (A rule that kept half
     * the ways for B alone, KC = 341 on an 8×6 tile with 8 ways of 4 KiB, left A's 5.3 ways out: 9.3 of 8.) */
    c.a_ways_l1 = (int)((c.l1_ways - 1) * c.mr / (c.mr + c.nr));
    if (c.a_ways_l1 < 1) c.a_ways_l1 = 1; /* a cache of one or two ways: A gets one all the same */
    c.kc = c.a_ways_l1 * way1 / (c.mr * 8);
    if (c.kc < 1) c.kc = 1; /* more ways than bytes: figures no cache has, yet no division by zero below */
    c.b_ways_l1 = way1 > 0 ? (int)((c.kc * c.nr * 8 + way1 - 1) / way1) : (int)c.l1_ways; /* B's ways, then */
    /* L2 keeps the A block (MC×KC), used by every B micro-panel of the panel, in half its ways. */
    c.a_ways_l2 = (int)(c.l2_ways / 2 > 0 ? c.l2_ways / 2 : 1);
    c.mc = c.a_ways_l2 * way2 / (c.kc * 8) / c.mr * c.mr;
    if (c.mc < c.mr) c.mc = c.mr;
    return derive_nc(cuts(c));
}

static nk_gemm_config config;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static void config_init(void) { config = derive(caches(SYSFS_CACHES), nk_kernel_pick(NULL), cpus()); }

nk_gemm_config nk_gemm_config_get(void) {
    pthread_once(&config_once, config_init);
    return config;
}

int nk_gemm_configure(const char *kernel_name, int threads, int64_t mc, int64_t kc, int64_t nc) {
    const nk_kernel *kernel = nk_kernel_pick(kernel_name);
    if (!kernel || threads < 0 || threads > MAX_THREADS || mc < 0 || kc < 0 || nc < 0) return -1;
    pthread_once(&config_once, config_init);
    config = derive(config, kernel, threads ? threads : cpus()); /* the caches as read at the start */
    if (mc) config.mc = round_up(mc, kernel->mr);
    if (kc) config.kc = kc;
    if (nc) config.nc = round_up(nc, kernel->nr);
    return 0;
}

nk_gemm_config nk_gemm_config_for_l3(int64_t l3_bytes) {
    nk_gemm_config c = nk_gemm_config_get();
    c.l3_bytes = l3_bytes, c.l3_bytes_from = "given";
    return derive_nc(c);
}

nk_gemm_config nk_gemm_config_from_caches(const char *cache_dir) {
    nk_gemm_config c = nk_gemm_config_get();
    return derive(caches(cache_dir), nk_kernel_pick(c.kernel), c.threads);
}

int nk_gemm_get_threads(void) { return nk_gemm_config_get().threads; }

int nk_gemm_set_one_thread_up_to(int64_t multiply_adds) {
    if (multiply_adds < -1) return -1;
    pthread_once(&config_once, config_init);
    one_thread_given = multiply_adds;
    config = cuts(config);
    return 0;
}

static _Thread_local int last_threads; /* threads the calling thread's last product ran on; 0 before any */

int nk_gemm_last_threads(void) { return last_threads; }

void nk_gemm_set_threads(int threads) {
    pthread_once(&config_once, config_init);
    if (threads >= 0 && threads <= MAX_THREADS) config.threads = threads ? threads : cpus();
}

/* ---------- packing: copy a block into micro-panels the kernel reads front to back ---------- */

/* Each packing routine reads its source along whichever of its strides is 1 (there is always one:
 * BLAS operands have contiguous rows or contiguous columns), so that it streams through memory. */

/* A block (mc×kc) → micro-panels of MR rows, each stored column by column. A short panel is padded
 * with zeros: the kernel computes the padded rows too and stores only the real ones, but leftover
 * bytes could be denormal numbers, which slow the multiply-adds down. */
static void pack_a(int64_t mc, int64_t kc, mat a, int mr, double *to) {
    int64_t panels = (mc + mr - 1) / mr;
    if (mc % mr) memset(to + (panels - 1) * mr * kc, 0, sizeof(double) * (size_t)(mr * kc));
    if (a.rs == 1) /* columns contiguous: one column of the block at a time, cut into the panels */
        for (int64_t p = 0; p < kc; p++)
            for (int64_t ir = 0; ir < mc; ir += mr)
                memcpy(to + ir * kc + p * mr, a.p + p * a.cs + ir, sizeof(double) * (size_t)min64(mr, mc - ir));
    else
        for (int64_t ir = 0; ir < mc; ir += mr)
            for (int i = 0; i < min64(mr, mc - ir); i++)
                for (int64_t p = 0; p < kc; p++) to[ir * kc + p * mr + i] = a.p[(ir + i) * a.rs + p * a.cs];
}

/* One B micro-panel (kc×NR from column j) → stored row by row; a short panel padded with 0. */
static void pack_b_panel(int64_t kc, int cols, mat b, int nr, double *to) {
    if (cols < nr) memset(to, 0, sizeof(double) * (size_t)(nr * kc));
    if (b.cs == 1)
        for (int64_t p = 0; p < kc; p++) memcpy(to + p * nr, b.p + p * b.rs, sizeof(double) * (size_t)cols);
    else /* rows contiguous: NR of them read side by side, each row of the panel written whole */
        for (int64_t p = 0; p < kc; p++)
            for (int j = 0; j < cols; j++) to[p * nr + j] = b.p[p * b.rs + j * b.cs];
}

/* ---------- the tiles ---------- */

/* The two inner loops over one packed A block and one packed B panel. */
static void macro_kernel(const nk_kernel *kn, int64_t mc, int64_t nc, int64_t kc, const double *ap, const double *bp,
                         double *c, int64_t ldc, double alpha, double beta) {
    int mr = kn->mr, nr = kn->nr;
    for (int64_t jr = 0; jr < nc; jr += nr)
        for (int64_t ir = 0; ir < mc; ir += mr) {
            const double *a = ap + ir * kc, *b = bp + jr * kc;
            double *t = c + ir + jr * ldc;
            if (ir + mr <= mc && jr + nr <= nc)
                kn->packed(kc, a, mr, b, nr, 1, t, ldc, alpha, beta);
            else
                kn->strided(kc, a, mr, b, nr, 1, t, ldc, alpha, beta, (int)min64(mr, mc - ir), (int)min64(nr, nc - jr));
        }
}

/* A tile whose A has contiguous rows instead of columns (the kernel loads columns as vectors): its A
 * rows and B columns copied into zero-padded panels first, EDGE_K columns of A at a time. */
#define EDGE_K 128
static void copied_tile(const nk_kernel *kn, const problem *q, int64_t i, int64_t j) {
    double ap[NK_MAX_MR * EDGE_K] __attribute__((aligned(64))), bp[EDGE_K * NK_MAX_NR] __attribute__((aligned(64)));
    int rows = (int)min64(kn->mr, q->m - i), cols = (int)min64(kn->nr, q->n - j);
    for (int64_t pc = 0; pc < q->k; pc += EDGE_K) {
        int64_t kc = min64(EDGE_K, q->k - pc);
        pack_a(rows, kc, (mat){q->a.p + i * q->a.rs + pc * q->a.cs, q->a.rs, q->a.cs}, kn->mr, ap);
        pack_b_panel(kc, cols, (mat){q->b.p + pc * q->b.rs + j * q->b.cs, q->b.rs, q->b.cs}, kn->nr, bp);
        kn->strided(kc, ap, kn->mr, bp, kn->nr, 1, q->c + i + j * q->ldc, q->ldc, q->alpha, pc ? 1.0 : q->beta, rows, cols);
    }
}

/* Without packing: the kernel reads A and B where they are, edges included (the rungs before
 * packing, and small products). */
static void unpacked(const nk_kernel *kn, const problem *q) {
    int mr = kn->mr, nr = kn->nr;
    for (int64_t j = 0; j < q->n; j += nr)
        for (int64_t i = 0; i < q->m; i += mr)
            if (q->a.rs == 1)
                kn->strided(q->k, q->a.p + i, q->a.cs, q->b.p + j * q->b.cs, q->b.rs, q->b.cs, q->c + i + j * q->ldc,
                            q->ldc, q->alpha, q->beta, (int)min64(mr, q->m - i), (int)min64(nr, q->n - j));
            else
                copied_tile(kn, q, i, j);
}

/* ---------- the five loops, on one thread of a team ---------- */

typedef struct {
    const problem *q;
    const method *how;
    int64_t mc, kc, nc;
    double *bp; /* the packed B panel, shared */
    pthread_barrier_t barrier; /* a spinning barrier measured 1.01–1.02× at n = 512, 2 threads: not kept */
    int size; /* threads in the team, the caller's included */
} team;

typedef struct { team *team; int id; double *ap; /* this thread's packed A block */ } worker;

static void blocked(const worker *w) {
    team *t = w->team;
    const problem *q = t->q;
    const nk_kernel *kn = t->how->kernel;
    int size = t->size;
    /* this thread's rows of C: an equal share, in whole micro-tiles */
    int64_t share = round_up((q->m + size - 1) / size, kn->mr);
    int64_t first = min64(q->m, w->id * share), last = min64(q->m, first + share);
    for (int64_t jc = 0; jc < q->n; jc += t->nc) {
        int64_t nc = min64(t->nc, q->n - jc);
        for (int64_t pc = 0; pc < q->k; pc += t->kc) {
            int64_t kc = min64(t->kc, q->k - pc);
            double beta = pc == 0 ? q->beta : 1.0; /* later slices of k add to what the first wrote */
            mat b = {q->b.p + pc * q->b.rs + jc * q->b.cs, q->b.rs, q->b.cs};
            for (int64_t jr = w->id * kn->nr; jr < nc; jr += size * kn->nr) /* the team packs B together */
                pack_b_panel(kc, (int)min64(kn->nr, nc - jr), (mat){b.p + jr * b.cs, b.rs, b.cs}, kn->nr, t->bp + jr * kc);
            if (size > 1) pthread_barrier_wait(&t->barrier);
            for (int64_t ic = first; ic < last; ic += t->mc) {
                int64_t mc = min64(t->mc, last - ic);
                pack_a(mc, kc, (mat){q->a.p + ic * q->a.rs + pc * q->a.cs, q->a.rs, q->a.cs}, kn->mr, w->ap);
                macro_kernel(kn, mc, nc, kc, w->ap, t->bp, q->c + ic + jc * q->ldc, q->ldc, q->alpha, beta);
            }
            if (size > 1) pthread_barrier_wait(&t->barrier); /* before B is packed again */
        }
    }
}

/* ---------- the team's other threads: a pool started once, asleep between products ---------- */

static struct {
    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t work, done;
    int started;          /* pool threads running, ids 1..started */
    unsigned long job;    /* bumped for every product handed out */
    const worker *workers;
    int helpers, finished; /* pool threads this product uses, and those done with it */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static pthread_mutex_t pool_user = PTHREAD_MUTEX_INITIALIZER; /* one product at a time has the pool */

static void *pool_thread(void *arg) {
    int id = (int)(intptr_t)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.job == seen) pthread_cond_wait(&pool.work, &pool.lock);
        seen = pool.job;
        if (id > pool.helpers) continue;
        pthread_mutex_unlock(&pool.lock);
        blocked(&pool.workers[id]);
        pthread_mutex_lock(&pool.lock);
        if (++pool.finished == pool.helpers) pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* A forked child has none of the parent's threads: it starts its pool afresh. */
static void pool_forget(void) {
    pthread_mutex_init(&pool.lock, NULL), pthread_mutex_init(&pool_user, NULL);
    pthread_cond_init(&pool.work, NULL), pthread_cond_init(&pool.done, NULL);
    pool.started = 0, pool.job = 0;
}
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static void pool_init(void) { pthread_atfork(NULL, NULL, pool_forget); }

/* How many pool threads can help now (up to `wanted`, starting more if needed; 0 if another
 * product has the pool). On a positive answer the caller has the pool until pool_run returns. */
static int pool_take(int wanted) {
    pthread_once(&pool_once, pool_init);
    if (wanted < 1 || pthread_mutex_trylock(&pool_user)) return 0;
    pthread_mutex_lock(&pool.lock);
    for (pthread_t id; pool.started < wanted && !pthread_create(&id, NULL, pool_thread, (void *)(intptr_t)(pool.started + 1));)
        pthread_detach(id), pool.started++;
    pthread_mutex_unlock(&pool.lock);
    int helpers = pool.started < wanted ? pool.started : wanted;
    if (!helpers) pthread_mutex_unlock(&pool_user);
    return helpers;
}

int nk_gemm_pool_size(void) {
    pthread_mutex_lock(&pool.lock);
    int size = pool.started;
    pthread_mutex_unlock(&pool.lock);
    return size;
}

/* workers[0] on this thread, workers[1..helpers] on the pool's; returns when all are done. */
static void pool_run(const worker *workers, int helpers) {
    pthread_mutex_lock(&pool.lock);
    pool.workers = workers, pool.helpers = helpers, pool.finished = 0, pool.job++;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    blocked(&workers[0]);
    pthread_mutex_lock(&pool.lock);
    while (pool.finished < helpers) pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool_user);
}

static int at_most(const problem *q, int64_t multiply_adds) { return (double)q->m * q->n * q->k <= multiply_adds; }

static int threads_for(const method *how, const problem *q) {
    int64_t tiles = (q->m + how->kernel->mr - 1) / how->kernel->mr; /* a row of micro-tiles each at least */
    if (at_most(q, how->one_thread_up_to)) return 1;
    return (int)min64(how->threads, tiles);
}

/* ---------- packing buffers: the calling thread keeps its own from one call to the next ---------- */

typedef struct { void *p[2]; size_t bytes[2]; } kept;
static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static void kept_free(void *k) { free(((kept *)k)->p[0]), free(((kept *)k)->p[1]), free(k); }
static void kept_init(void) { pthread_key_create(&kept_key, kept_free); }

#define KEPT_UP_TO (8 << 20) /* larger buffers go back at once: the rungs without cache blocks pack whole matrices */

static kept *kept_here(void) {
    pthread_once(&kept_once, kept_init);
    kept *k = pthread_getspecific(kept_key);
    if (!k && (k = calloc(1, sizeof *k)) && pthread_setspecific(kept_key, k)) free(k), k = NULL;
    return k;
}

/* Buffers of 2 MiB and more on 2 MiB pages where the kernel allows it (transparent huge pages,
 * "madvise" mode): a 6 MiB packed B panel spans 1536 pages of 4 KiB, more than the TLB holds; on
 * 3 huge pages it stays mapped (paired runs, one thread: +1.5–4 % at n = 1024 and 2048). */
#define HUGE_PAGE (2 << 20)
static void *pages_for(size_t size) {
    if (size < HUGE_PAGE) return aligned_alloc(64, size);
    size = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = aligned_alloc(HUGE_PAGE, size);
    if (p) madvise(p, size, MADV_HUGEPAGE);
    return p;
}

/* A 64-byte-aligned buffer of at least `bytes`; slot 0 or 1 is kept by this thread (freed when it
 * exits): small products would otherwise spend as long in malloc and page faults as in arithmetic. */
static double *buffer(int slot, int64_t bytes) {
    size_t size = (size_t)round_up(bytes, 64);
    kept *k = size <= KEPT_UP_TO ? kept_here() : NULL;
    if (!k) return pages_for(size);
    if (k->bytes[slot] < size) {
        free(k->p[slot]);
        k->p[slot] = pages_for(size);
        k->bytes[slot] = k->p[slot] ? size : 0;
    }
    return k->p[slot];
}

static void release(int slot, double *p) {
    kept *k = kept_here();
    if (!k || k->p[slot] != p) free(p);
}

/* Returns 0 when a buffer cannot be allocated: the caller falls back to the unpacked loops. */
static int packed(const method *how, const problem *q) {
    const nk_kernel *kn = how->kernel;
    team t = {q, how, round_up(how->mc ? min64(how->mc, q->m) : q->m, kn->mr), how->kc ? min64(how->kc, q->k) : q->k,
              round_up(how->nc ? min64(how->nc, q->n) : q->n, kn->nr)};
    int helpers = pool_take(threads_for(how, q) - 1), ok = 1;
    worker w[MAX_THREADS] = {{0}};
    t.bp = buffer(0, t.kc * t.nc * 8);
    for (int i = 0; i <= helpers; i++) {
        w[i] = (worker){&t, i, i ? aligned_alloc(64, (size_t)round_up(t.mc * t.kc * 8, 64)) : buffer(1, t.mc * t.kc * 8)};
        ok = ok && w[i].ap;
    }
    t.size = 1 + helpers;
    last_threads = ok && t.bp ? t.size : 1;
    if (ok && t.bp && helpers) {
        pthread_barrier_init(&t.barrier, NULL, (unsigned)t.size);
        pool_run(w, helpers);
        pthread_barrier_destroy(&t.barrier);
    } else {
        if (helpers) pthread_mutex_unlock(&pool_user); /* not used after all */
        if (ok && t.bp) blocked(&w[0]);
    }
    release(1, w[0].ap);
    for (int i = 1; i <= helpers; i++) free(w[i].ap);
    release(0, t.bp);
    return ok && t.bp;
}

/* C = beta·C, where A and B do not matter (alpha = 0 or k = 0); beta = 0 writes zeros, NaN or not. */
static void scale(const problem *q) {
    for (int64_t i = 0; i < q->m; i++)
        for (int64_t j = 0; j < q->n; j++) {
            double *cij = q->c + i + j * q->ldc;
            *cij = q->beta == 0.0 ? 0.0 : q->beta * *cij;
        }
}

/* The library's small products — up to its kernel's unpacked_up_to, all on one thread — skip packing when the
 * kernel can read their A in place: at n = 64 packing took 35 % of the time (perf, on the Xeon). The rungs keep
 * their choice. */
static int direct(const method *how, const problem *q) {
    return how->pack == LARGE && q->a.rs == 1 && at_most(q, how->unpacked_up_to);
}

static void run(const method *how, const problem *q) {
    last_threads = 1; /* the calling thread alone, unless packed() runs a team */
    if (q->m == 0 || q->n == 0) return;
    if (q->alpha == 0.0 || q->k == 0) scale(q);
    else if (how->pack == NEVER || direct(how, q) || !packed(how, q)) unpacked(how->kernel, q);
}

/* ---------- the dgemm contract ---------- */

/* op(X) as a matrix with strides: rows ld apart for row-major NoTrans and column-major Trans. */
static mat operand(const double *p, int64_t ld, int row_major, int trans) {
    return row_major != trans ? (mat){p, ld, 1} : (mat){p, 1, ld};
}

/* Any dgemm call as one column-major problem: a row-major C is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ. */
static problem normalise(int row_major, int transa, int transb, int64_t m, int64_t n, int64_t k, double alpha,
                         const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c,
                         int64_t ldc) {
    mat A = operand(a, lda, row_major, transa), B = operand(b, ldb, row_major, transb);
    if (row_major) return (problem){n, m, k, alpha, beta, {B.p, B.cs, B.rs}, {A.p, A.cs, A.rs}, c, ldc};
    return (problem){m, n, k, alpha, beta, A, B, c, ldc};
}

static void dgemm(int row_major, int transa, int transb, int64_t m, int64_t n, int64_t k, double alpha,
                  const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c, int64_t ldc) {
    nk_gemm_config cfg = nk_gemm_config_get();
    method how = {nk_kernel_pick(cfg.kernel), cfg.mc, cfg.kc, cfg.nc, LARGE, cfg.threads, cfg.unpacked_up_to,
                  cfg.one_thread_up_to};
    problem q = normalise(row_major, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    run(&how, &q);
}

void nk_gemm_cblas_dgemm(int order, int transa, int transb, int64_t m, int64_t n, int64_t k, double alpha,
                         const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c,
                         int64_t ldc) {
    dgemm(order == 101, transa != 111, transb != 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static int transposed(const char *t) { return *t != 'N' && *t != 'n'; }

void nk_gemm_dgemm_(const char *transa, const char *transb, const int64_t *m, const int64_t *n, const int64_t *k,
                    const double *alpha, const double *a, const int64_t *lda, const double *b, const int64_t *ldb,
                    const double *beta, double *c, const int64_t *ldc, size_t transa_len, size_t transb_len) {
    (void)transa_len, (void)transb_len;
    dgemm(0, transposed(transa), transposed(transb), *m, *n, *k, *alpha, a, *lda, b, *ldb, *beta, c, *ldc);
}

int64_t nk_gemm_isamax_(const int64_t *n, const float *x, const int64_t *incx) {
    int64_t best = 0;
    if (*n < 1 || *incx < 1) return 0;
    for (int64_t i = 1; i < *n; i++)
        if (__builtin_fabsf(x[i * *incx]) > __builtin_fabsf(x[best * *incx])) best = i;
    return best + 1;
}

/* ---------- the rungs ---------- */

/* The textbook loop: a serial sum down a column of B. */
static void ijk(int64_t m, int64_t n, int64_t k, const double *a, int64_t lda, const double *b, int64_t ldb, double *c,
                int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0.0;
            for (int64_t p = 0; p < k; p++) s += a[i * lda + p] * b[p * ldb + j];
            c[i * ldc + j] = s;
        }
}

/* The same arithmetic, rows of B and C in the inner loop: memory order, and no serial sum. */
static void ikj(int64_t m, int64_t n, int64_t k, const double *a, int64_t lda, const double *b, int64_t ldb, double *c,
                int64_t ldc) {
    for (int64_t i = 0; i < m; i++) {
        memset(c + i * ldc, 0, sizeof(double) * (size_t)n);
        for (int64_t p = 0; p < k; p++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] += a[i * lda + p] * b[p * ldb + j];
    }
}

static const char *RUNGS[] = {"loops, ijk", "loops, ikj", "micro-kernel, plain C", "+ SIMD intrinsics",
                              "+ packing", "+ cache blocking", "+ threads"};

int nk_gemm_rungs(void) { return sizeof RUNGS / sizeof *RUNGS; }
const char *nk_gemm_rung_name(int rung) { return rung >= 0 && rung < nk_gemm_rungs() ? RUNGS[rung] : NULL; }

void nk_gemm_rung(int rung, int64_t m, int64_t n, int64_t k, const double *a, int64_t lda, const double *b,
                  int64_t ldb, double *c, int64_t ldc) {
    nk_gemm_config cfg = nk_gemm_config_get();
    const nk_kernel *simd = nk_kernel_pick(cfg.kernel), *plain = nk_kernel_pick("portable");
    method how[] = {
        [2] = {plain, 0, 0, 0, NEVER, 1}, [3] = {simd, 0, 0, 0, NEVER, 1}, [4] = {simd, 0, 0, 0, ALWAYS, 1},
        [5] = {simd, cfg.mc, cfg.kc, cfg.nc, ALWAYS, 1}, [6] = {simd, cfg.mc, cfg.kc, cfg.nc, ALWAYS, cfg.threads, 0, cfg.one_thread_up_to},
    };
    problem q = normalise(1, 0, 0, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
    if (rung == 0) ijk(m, n, k, a, lda, b, ldb, c, ldc);
    else if (rung == 1) ikj(m, n, k, a, lda, b, ldb, c, ldc);
    else if (rung > 1 && rung < nk_gemm_rungs()) run(&how[rung], &q);
}
