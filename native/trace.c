/* nnkit's in-process tracer of numpy's BLAS calls — see trace.h. Linux (ELF), x86-64 or AArch64. */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#define Py_BUILD_CORE  /* the interpreter's frame stack, read without the GIL: see source_line() */
#include <Python.h>
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#include <internal/pycore_frame.h>
#define NK_FRAMES 1
#else
#define NK_FRAMES 0
#endif
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

#if defined(__x86_64__)
#define JUMP_SLOT R_X86_64_JUMP_SLOT
#define GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define JUMP_SLOT R_AARCH64_JUMP_SLOT
#define GLOB_DAT R_AARCH64_GLOB_DAT
#else
#error "nnkit's tracer knows x86-64 and AArch64 relocations only"
#endif

enum { DGEMM, SGEMM, DSYRK, SSYRK, DGEMV, SGEMV, DDOT, SDOT, DAXPY, SAXPY,
       ZGEMM, CGEMM, ZSYRK, CSYRK, ZGEMV, CGEMV, ZDOTU, CDOTU, ZDOTC, CDOTC, ZAXPY, CAXPY, N_ROUTINES };
static const char *NAMES[N_ROUTINES] = {"dgemm", "sgemm", "dsyrk", "ssyrk", "dgemv", "sgemv", "ddot", "sdot", "daxpy", "saxpy",
                                        "zgemm", "cgemm", "zsyrk", "csyrk", "zgemv", "cgemv", "zdotu_sub", "cdotu_sub",
                                        "zdotc_sub", "cdotc_sub", "zaxpy", "caxpy"};

#define CAPACITY (1 << 16)
typedef struct {
    int64_t position;                    /* next record, atomically incremented */
    nk_call ring[CAPACITY];
} store_t;
static store_t own;
static store_t *store = &own;            /* nk_trace_share may move it into shared memory */
static void *real[N_ROUTINES];           /* the library's own routines */
static __thread int64_t thread_id;       /* the kernel's id (threading.get_native_id()), cached:
                                            a syscall per call would cost ~340 ns */

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* --- which line of the traced source made the call -------------------------------------------- */
#define MAX_SOURCES 8
#define MAX_PATH 4096
static char sources[MAX_SOURCES][MAX_PATH];  /* UTF-8 paths of the files whose lines are recorded: fixed */
static size_t source_length[MAX_SOURCES];    /* storage, never freed (a call in flight may still read it) */
static int n_sources;
static size_t nk_utf8(PyObject *s, char *out, size_t size);

/* Does the str object `s` hold exactly the UTF-8 bytes `text` (length n)? Reads the immutable
 * string in place: no allocation, no reference count, so it is safe without the GIL. */
static int same_text(PyObject *s, const char *text, size_t n) {
    if (PyUnicode_IS_COMPACT_ASCII(s))
        return (size_t)PyUnicode_GET_LENGTH(s) == n && !memcmp(PyUnicode_DATA(s), text, n);
    char utf8[4 * 256];
    return nk_utf8(s, utf8, sizeof utf8) == n && !memcmp(utf8, text, n);
}

/* Writes `s` as UTF-8 into out (NUL-terminated, cut at a character boundary); returns its length. */
static size_t nk_utf8(PyObject *s, char *out, size_t size) {
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    size_t n = 0;
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(s); i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        char bytes[4];
        size_t len = c < 0x80 ? (bytes[0] = (char)c, 1)
                   : c < 0x800 ? (bytes[0] = (char)(0xC0 | c >> 6), bytes[1] = (char)(0x80 | (c & 0x3F)), 2)
                   : c < 0x10000 ? (bytes[0] = (char)(0xE0 | c >> 12), bytes[1] = (char)(0x80 | (c >> 6 & 0x3F)),
                                    bytes[2] = (char)(0x80 | (c & 0x3F)), 3)
                   : (bytes[0] = (char)(0xF0 | c >> 18), bytes[1] = (char)(0x80 | (c >> 12 & 0x3F)),
                      bytes[2] = (char)(0x80 | (c >> 6 & 0x3F)), bytes[3] = (char)(0x80 | (c & 0x3F)), 4);
        if (n + len >= size) break;
        memcpy(out + n, bytes, len);
        n += len;
    }
    out[n] = 0;
    return n;
}

/* Line tables registered by nk_trace_code_lines: code object → line of each code unit, so that a
 * call from a long module need not scan its whole location table (PyCode_Addr2Line is linear). */
#define MAX_CODES 8192
static struct { const void *code; const int32_t *lines; int64_t n; } codes[MAX_CODES];
static int n_codes;

int nk_trace_code_lines(const void *code, const int32_t *lines, int64_t n) {
    if (2 * n_codes >= MAX_CODES) return -1;  /* kept half empty: a miss ends at an empty slot soon */
    for (uintptr_t i = ((uintptr_t)code >> 4) & (MAX_CODES - 1);; i = (i + 1) & (MAX_CODES - 1)) {
        const void *key = __atomic_load_n(&codes[i].code, __ATOMIC_ACQUIRE);
        if (key == code) return 0;
        if (!key) {
            codes[i].lines = lines, codes[i].n = n;
            __atomic_store_n(&codes[i].code, code, __ATOMIC_RELEASE);  /* readers see the entry whole */
            n_codes++;
            return 0;
        }
    }
}

#if NK_FRAMES
static int line_of(PyCodeObject *code, int unit) {
    for (uintptr_t i = ((uintptr_t)code >> 4) & (MAX_CODES - 1);; i = (i + 1) & (MAX_CODES - 1)) {
        const void *key = __atomic_load_n(&codes[i].code, __ATOMIC_ACQUIRE);
        if (key == code && unit >= 0 && unit < codes[i].n) return codes[i].lines[unit];
        if (!key || key == code) return PyCode_Addr2Line(code, unit * (int)sizeof(_Py_CODEUNIT));
    }
}
#endif

/* The innermost frame of the calling thread that runs code from one of the sources: its file (index),
 * line and function, into r. numpy released the GIL around the call, but this thread's frames cannot
 * change while it waits in BLAS: they are read in place, through the thread's own state
 * (PyGILState_GetThisThreadState needs no GIL); nothing is allocated, nothing reference-counted. */
static void source_line(nk_call *r) {
    r->file = -1;
#if NK_FRAMES
    int n = __atomic_load_n(&n_sources, __ATOMIC_ACQUIRE);
    if (!n) return;
    PyThreadState *state = PyGILState_GetThisThreadState();
    if (!state || !state->cframe) return;
    for (_PyInterpreterFrame *f = state->cframe->current_frame; f; f = f->previous) {
        PyCodeObject *code = f->f_code;
        if (f->owner != FRAME_OWNED_BY_GENERATOR && f->prev_instr < _PyCode_CODE(code) + code->_co_firsttraceable)
            continue;  /* a frame being set up: not yet running its code */
        for (int i = 0; i < n; i++)
            if (same_text(code->co_filename, sources[i], source_length[i])) {
                r->file = i;
                r->line = line_of(code, _PyInterpreterFrame_LASTI(f));
                nk_utf8(code->co_qualname, r->function, sizeof r->function);
                return;
            }
    }
#else
    (void)r;
#endif
}

int nk_trace_lines_supported(void) { return NK_FRAMES; }

int nk_trace_watch(const char *path) {
    size_t n = strlen(path);
    for (int i = 0; i < n_sources; i++)
        if (source_length[i] == n && !memcmp(sources[i], path, n)) return i;
    if (n_sources == MAX_SOURCES || n >= MAX_PATH) return -1;
    memcpy(sources[n_sources], path, n + 1);
    source_length[n_sources] = n;
    __atomic_store_n(&n_sources, n_sources + 1, __ATOMIC_RELEASE);
    return n_sources - 1;
}

void nk_trace_unwatch(void) { __atomic_store_n(&n_sources, 0, __ATOMIC_RELEASE); }

static nk_call *begin(int routine) {
    if (!thread_id) thread_id = (int64_t)syscall(SYS_gettid);
    int64_t i = __atomic_fetch_add(&store->position, 1, __ATOMIC_RELAXED);
    nk_call *r = &store->ring[i & (CAPACITY - 1)];
    __atomic_store_n(&r->done, 0, __ATOMIC_RELAXED);
    memset((char *)r + offsetof(nk_call, order), 0, sizeof *r - offsetof(nk_call, order));
    r->routine = routine;
    r->number = i;
    r->thread = thread_id;
    source_line(r);
    r->start_ns = now_ns();
    return r;
}

static void end(nk_call *r) {
    r->end_ns = now_ns();
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

/* One wrapper per routine and integer width (I = int32_t or int64_t); T is the element type. */
#define GEMM(NAME, ID, T, I)                                                                              \
    static void NAME(int order, int ta, int tb, I m, I n, I k, T alpha, const T *a, I lda, const T *b,   \
                     I ldb, T beta, T *c, I ldc) {                                                        \
        nk_call *r = begin(ID);                                                                           \
        r->order = order, r->transa = ta, r->transb = tb, r->m = m, r->n = n, r->k = k;                  \
        r->alpha = alpha, r->beta = beta, r->a = (uint64_t)a, r->lda = lda, r->b = (uint64_t)b;          \
        r->ldb = ldb, r->c = (uint64_t)c, r->ldc = ldc;                                                   \
        ((void (*)(int, int, int, I, I, I, T, const T *, I, const T *, I, T, T *, I))real[ID])(          \
            order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);                                 \
        end(r);                                                                                           \
    }
#define SYRK(NAME, ID, T, I)                                                                              \
    static void NAME(int order, int uplo, int trans, I n, I k, T alpha, const T *a, I lda, T beta, T *c, \
                     I ldc) {                                                                             \
        nk_call *r = begin(ID);                                                                           \
        r->order = order, r->uplo = uplo, r->transa = trans, r->n = n, r->k = k, r->alpha = alpha;       \
        r->a = (uint64_t)a, r->lda = lda, r->beta = beta, r->c = (uint64_t)c, r->ldc = ldc;              \
        ((void (*)(int, int, int, I, I, T, const T *, I, T, T *, I))real[ID])(order, uplo, trans, n, k,  \
                                                                              alpha, a, lda, beta, c, ldc); \
        end(r);                                                                                           \
    }
#define GEMV(NAME, ID, T, I)                                                                              \
    static void NAME(int order, int trans, I m, I n, T alpha, const T *a, I lda, const T *x, I incx,     \
                     T beta, T *y, I incy) {                                                              \
        nk_call *r = begin(ID);                                                                           \
        r->order = order, r->transa = trans, r->m = m, r->n = n, r->alpha = alpha, r->a = (uint64_t)a;   \
        r->lda = lda, r->b = (uint64_t)x, r->incx = incx, r->beta = beta, r->c = (uint64_t)y;            \
        r->incy = incy;                                                                                   \
        ((void (*)(int, int, I, I, T, const T *, I, const T *, I, T, T *, I))real[ID])(                  \
            order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);                                   \
        end(r);                                                                                           \
    }
#define DOT(NAME, ID, T, I)                                                                               \
    static T NAME(I n, const T *x, I incx, const T *y, I incy) {                                         \
        nk_call *r = begin(ID);                                                                           \
        r->n = n, r->a = (uint64_t)x, r->incx = incx, r->b = (uint64_t)y, r->incy = incy;               \
        T result = ((T(*)(I, const T *, I, const T *, I))real[ID])(n, x, incx, y, incy);                \
        end(r);                                                                                           \
        return result;                                                                                    \
    }
#define AXPY(NAME, ID, T, I)                                                                              \
    static void NAME(I n, T alpha, const T *x, I incx, T *y, I incy) {                                   \
        nk_call *r = begin(ID);                                                                           \
        r->n = n, r->alpha = alpha, r->a = (uint64_t)x, r->incx = incx, r->c = (uint64_t)y;             \
        r->incy = incy;                                                                                   \
        ((void (*)(I, T, const T *, I, T *, I))real[ID])(n, alpha, x, incx, y, incy);                   \
        end(r);                                                                                           \
    }
/* Complex routines take alpha and beta by pointer (to a re, im pair); the record keeps the real parts.
 * R is the real type of the pair: double for z, float for c. */
#define ZGEMM(NAME, ID, R, I)                                                                             \
    static void NAME(int order, int ta, int tb, I m, I n, I k, const void *alpha, const void *a, I lda,  \
                     const void *b, I ldb, const void *beta, void *c, I ldc) {                           \
        nk_call *r = begin(ID);                                                                           \
        r->order = order, r->transa = ta, r->transb = tb, r->m = m, r->n = n, r->k = k;                  \
        r->alpha = *(const R *)alpha, r->beta = *(const R *)beta, r->a = (uint64_t)a, r->lda = lda;      \
        r->b = (uint64_t)b, r->ldb = ldb, r->c = (uint64_t)c, r->ldc = ldc;                              \
        ((void (*)(int, int, int, I, I, I, const void *, const void *, I, const void *, I, const void *, \
                   void *, I))real[ID])(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);    \
        end(r);                                                                                           \
    }
#define ZSYRK(NAME, ID, R, I)                                                                             \
    static void NAME(int order, int uplo, int trans, I n, I k, const void *alpha, const void *a, I lda,  \
                     const void *beta, void *c, I ldc) {                                                  \
        nk_call *r = begin(ID);                                                                           \
        r->order = order, r->uplo = uplo, r->transa = trans, r->n = n, r->k = k;                         \
        r->alpha = *(const R *)alpha, r->beta = *(const R *)beta, r->a = (uint64_t)a, r->lda = lda;      \
        r->c = (uint64_t)c, r->ldc = ldc;                                                                 \
        ((void (*)(int, int, int, I, I, const void *, const void *, I, const void *, void *, I))real[ID])( \
            order, uplo, trans, n, k, alpha, a, lda, beta, c, ldc);                                       \
        end(r);                                                                                           \
    }
#define ZGEMV(NAME, ID, R, I)                                                                             \
    static void NAME(int order, int trans, I m, I n, const void *alpha, const void *a, I lda,            \
                     const void *x, I incx, const void *beta, void *y, I incy) {                          \
        nk_call *r = begin(ID);                                                                           \
        r->order = order, r->transa = trans, r->m = m, r->n = n, r->alpha = *(const R *)alpha;           \
        r->beta = *(const R *)beta, r->a = (uint64_t)a, r->lda = lda, r->b = (uint64_t)x;                \
        r->incx = incx, r->c = (uint64_t)y, r->incy = incy;                                               \
        ((void (*)(int, int, I, I, const void *, const void *, I, const void *, I, const void *, void *, \
                   I))real[ID])(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);              \
        end(r);                                                                                           \
    }
#define ZDOT(NAME, ID, I)                                                                                 \
    static void NAME(I n, const void *x, I incx, const void *y, I incy, void *result) {                  \
        nk_call *r = begin(ID);                                                                           \
        r->n = n, r->a = (uint64_t)x, r->incx = incx, r->b = (uint64_t)y, r->incy = incy;               \
        r->c = (uint64_t)result;                                                                          \
        ((void (*)(I, const void *, I, const void *, I, void *))real[ID])(n, x, incx, y, incy, result);  \
        end(r);                                                                                           \
    }
#define ZAXPY(NAME, ID, R, I)                                                                             \
    static void NAME(I n, const void *alpha, const void *x, I incx, void *y, I incy) {                   \
        nk_call *r = begin(ID);                                                                           \
        r->n = n, r->alpha = *(const R *)alpha, r->a = (uint64_t)x, r->incx = incx;                      \
        r->c = (uint64_t)y, r->incy = incy;                                                               \
        ((void (*)(I, const void *, const void *, I, void *, I))real[ID])(n, alpha, x, incx, y, incy);   \
        end(r);                                                                                           \
    }
#define WRAPPERS(W, I)                                                                                    \
    GEMM(dgemm##W, DGEMM, double, I) GEMM(sgemm##W, SGEMM, float, I)                                     \
    SYRK(dsyrk##W, DSYRK, double, I) SYRK(ssyrk##W, SSYRK, float, I)                                     \
    GEMV(dgemv##W, DGEMV, double, I) GEMV(sgemv##W, SGEMV, float, I)                                     \
    DOT(ddot##W, DDOT, double, I) DOT(sdot##W, SDOT, float, I)                                           \
    AXPY(daxpy##W, DAXPY, double, I) AXPY(saxpy##W, SAXPY, float, I)                                     \
    ZGEMM(zgemm##W, ZGEMM, double, I) ZGEMM(cgemm##W, CGEMM, float, I)                                   \
    ZSYRK(zsyrk##W, ZSYRK, double, I) ZSYRK(csyrk##W, CSYRK, float, I)                                   \
    ZGEMV(zgemv##W, ZGEMV, double, I) ZGEMV(cgemv##W, CGEMV, float, I)                                   \
    ZDOT(zdotu##W, ZDOTU, I) ZDOT(cdotu##W, CDOTU, I) ZDOT(zdotc##W, ZDOTC, I) ZDOT(cdotc##W, CDOTC, I)  \
    ZAXPY(zaxpy##W, ZAXPY, double, I) ZAXPY(caxpy##W, CAXPY, float, I)
WRAPPERS(_32, int32_t)
WRAPPERS(_64, int64_t)
#define TABLE(W)                                                                                          \
    {dgemm##W, sgemm##W, dsyrk##W, ssyrk##W, dgemv##W, sgemv##W, ddot##W, sdot##W, daxpy##W, saxpy##W,     \
     zgemm##W, cgemm##W, zsyrk##W, csyrk##W, zgemv##W, cgemv##W, zdotu##W, cdotu##W, zdotc##W, cdotc##W,   \
     zaxpy##W, caxpy##W}
static void *const WRAPPER[2][N_ROUTINES] = {TABLE(_32), TABLE(_64)};

/* --- finding and rewriting the slots -------------------------------------------------------- */
#define MAX_HOOKS 64
static struct { void **slot; void *original; void *wrapper; char symbol[64]; } hooks[MAX_HOOKS];
static int n_hooks, installs, scanned;
static int read_only[MAX_HOOKS];  /* slots on a read-only page (full RELRO): opened, then closed again */

/* "scipy_cblas_dgemm64_" → DGEMM: "cblas_<routine>" then only an integer-width suffix. */
static int routine_of(const char *symbol) {
    const char *p = strstr(symbol, "cblas_");
    if (!p) return -1;
    p += 6;
    for (int i = 0; i < N_ROUTINES; i++) {
        size_t len = strlen(NAMES[i]);
        if (strncmp(p, NAMES[i], len) == 0) {
            const char *rest = p + len;
            if (!*rest || !strcmp(rest, "64_") || !strcmp(rest, "_64") || !strcmp(rest, "64")) return i;
        }
    }
    return -1;
}

struct module { const char *suffix; ElfW(Addr) base; const ElfW(Dyn) *dynamic; };

static int find_module(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct module *m = data;
    size_t n = strlen(info->dlpi_name), s = strlen(m->suffix);
    if (n < s || strcmp(info->dlpi_name + n - s, m->suffix)) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            m->dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    m->base = info->dlpi_addr;
    return 1;
}

/* Is the page holding `address` writable now? From /proc/self/maps (-1: cannot tell). */
static int page_writable(const void *address) {
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return -1;
    char line[512], perms[8];
    unsigned long low, high;
    int writable = -1;
    while (fgets(line, sizeof line, maps))
        if (sscanf(line, "%lx-%lx %7s", &low, &high, perms) == 3 && (uintptr_t)address >= low && (uintptr_t)address < high) {
            writable = perms[1] == 'w';
            break;
        }
    fclose(maps);
    return writable;
}

static int set_protection(void **slot, int protection) {
    long page = sysconf(_SC_PAGESIZE);
    return mprotect((void *)((uintptr_t)slot & ~(uintptr_t)(page - 1)), (size_t)page, protection);
}

static int note_relocations(ElfW(Addr) base, const ElfW(Rela) *rel, size_t count, const ElfW(Sym) *symtab,
                            const char *strtab, void *library, int width) {
    for (size_t i = 0; i < count; i++) {
        unsigned type = ELF64_R_TYPE(rel[i].r_info);
        if (type != JUMP_SLOT && type != GLOB_DAT) continue;
        const char *name = strtab + symtab[ELF64_R_SYM(rel[i].r_info)].st_name;
        int routine = routine_of(name);
        if (routine < 0) continue;
        if (n_hooks == MAX_HOOKS) return -5;
        void *function = dlsym(library, name);  /* the real routine, never the slot's old value */
        if (!function) return -3;
        real[routine] = function;
        hooks[n_hooks].slot = (void **)(base + rel[i].r_offset);
        read_only[n_hooks] = page_writable(hooks[n_hooks].slot) != 1;
        hooks[n_hooks].wrapper = WRAPPER[width == 64][routine];
        strncpy(hooks[n_hooks].symbol, name, sizeof hooks[n_hooks].symbol - 1);
        n_hooks++;
    }
    return 0;
}

static ElfW(Addr) absolute(ElfW(Addr) p, ElfW(Addr) base) { return p < base ? p + base : p; }

/* Find numpy's slots once; later installs only rewrite them. */
static int scan(const char *module_suffix, const char *blas_path, int int_width) {
    struct module m = {module_suffix, 0, NULL};
    if (!dl_iterate_phdr(find_module, &m) || !m.dynamic) return -1;
    void *library = dlopen(blas_path, RTLD_NOLOAD | RTLD_LAZY);
    if (!library) return -2;
    ElfW(Addr) jmprel = 0, rela = 0, symtab = 0, strtab = 0;
    size_t pltsz = 0, relasz = 0;
    for (const ElfW(Dyn) *d = m.dynamic; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
            case DT_JMPREL: jmprel = absolute(d->d_un.d_ptr, m.base); break;
            case DT_PLTRELSZ: pltsz = d->d_un.d_val; break;
            case DT_RELA: rela = absolute(d->d_un.d_ptr, m.base); break;
            case DT_RELASZ: relasz = d->d_un.d_val; break;
            case DT_SYMTAB: symtab = absolute(d->d_un.d_ptr, m.base); break;
            case DT_STRTAB: strtab = absolute(d->d_un.d_ptr, m.base); break;
        }
    }
    n_hooks = 0;
    int status = 0;
    if (jmprel) status = note_relocations(m.base, (const ElfW(Rela) *)jmprel, pltsz / sizeof(ElfW(Rela)),
                                          (const ElfW(Sym) *)symtab, (const char *)strtab, library, int_width);
    if (!status && rela) status = note_relocations(m.base, (const ElfW(Rela) *)rela, relasz / sizeof(ElfW(Rela)),
                                                   (const ElfW(Sym) *)symtab, (const char *)strtab, library, int_width);
    dlclose(library);  /* NOLOAD took a reference; numpy keeps the library loaded */
    if (status) n_hooks = 0;
    return status ? status : n_hooks;
}

int nk_trace_install(const char *module_suffix, const char *blas_path, int int_width) {
    if (installs) return installs++, n_hooks;  /* nested: already hooked */
    if (!scanned) {
        int found = scan(module_suffix, blas_path, int_width);
        if (found <= 0) return found;
        scanned = 1;
    }
    for (int i = 0; i < n_hooks; i++) {
        if (read_only[i] && set_protection(hooks[i].slot, PROT_READ | PROT_WRITE)) {
            installs = 1;
            nk_trace_uninstall();
            return -4;
        }
        hooks[i].original = __atomic_load_n(hooks[i].slot, __ATOMIC_SEQ_CST);
        __atomic_store_n(hooks[i].slot, hooks[i].wrapper, __ATOMIC_SEQ_CST);
    }
    installs = 1;
    return n_hooks;
}

int nk_trace_uninstall(void) {
    if (installs > 1) return --installs;
    for (int i = 0; i < n_hooks && installs; i++) {
        void *expected = hooks[i].wrapper;  /* restore only if nobody re-pointed the slot since */
        if (hooks[i].original)
            __atomic_compare_exchange_n(hooks[i].slot, &expected, hooks[i].original, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        if (read_only[i]) set_protection(hooks[i].slot, PROT_READ);  /* a RELRO page goes back to read-only */
        hooks[i].original = NULL;
    }
    installs = 0;
    return 0;
}

int64_t nk_trace_position(void) { return nk_trace_store_position(store); }

int64_t nk_trace_read(int64_t from, int64_t to, nk_call *out, int64_t max) { return nk_trace_read_store(store, from, to, out, max); }

int64_t nk_trace_store_size(void) { return sizeof(store_t); }

int nk_trace_share(void *memory, int64_t size) {
    if (installs) return -1;
    if (size < (int64_t)sizeof(store_t)) return -2;
    store = memory;
    return 0;
}

int64_t nk_trace_store_position(const void *memory) {
    return __atomic_load_n(&((const store_t *)memory)->position, __ATOMIC_ACQUIRE);
}

int64_t nk_trace_read_store(const void *memory, int64_t from, int64_t to, nk_call *out, int64_t max) {
    const store_t *s = memory;
    int64_t n = 0;
    for (int64_t i = from; i < to && n < max; i++) {
        const nk_call *r = &s->ring[i & (CAPACITY - 1)];
        if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) out[n++] = *r;
    }
    return n;
}

int64_t nk_trace_capacity(void) { return CAPACITY; }
const char *nk_trace_routine_name(int routine) { return routine >= 0 && routine < N_ROUTINES ? NAMES[routine] : "?"; }
const char *nk_trace_hooked_symbol(int i) { return i >= 0 && i < n_hooks ? hooks[i].symbol : NULL; }
