/* nnkit's fast path for the BLAS bridge: the common cases of dgemm() checked and called in C.
 *
 * The Python bridge (backends/dgemm.py) spends tens of microseconds reading array headers
 * through __array_interface__; here the same facts come straight from the PyArrayObject. The
 * rules are the Python ones (backends/layout.py: blas_storage, outside_buffer; dgemm.py: _call),
 * for the simple cases only: A and B plain ndarrays (not a subclass such as a masked array), 2-D,
 * aligned, native float64, each with a unit stride in one axis (so their elements are distinct),
 * inside their buffers; out None (a new C-ordered result). Anything else — and every explanation,
 * and a result too large to allocate — returns None and goes the Python way, which names the
 * problem. tests/backends/test_fastpath.py checks that both ways make the same call, and that the
 * fast path never takes what the Python checks refuse.
 */
#define PY_SSIZE_T_CLEAN
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#include <Python.h>
#include <numpy/arrayobject.h>
#include <stdint.h>

enum { ROW_MAJOR = 101, COL_MAJOR = 102, NO_TRANS = 111, TRANS = 112 };
typedef void cblas32_t(int, int, int, int32_t, int32_t, int32_t, double, const double *, int32_t,
                       const double *, int32_t, double, double *, int32_t);
typedef void cblas64_t(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                       const double *, int64_t, double, double *, int64_t);

/* Row-major (1) or column-major (0) with leading dimension *ld, as blas_storage decides; -1: not simple. */
static int storage(PyArrayObject *a, npy_intp *ld) {
    npy_intp rows = PyArray_DIM(a, 0), cols = PyArray_DIM(a, 1), s0 = PyArray_STRIDE(a, 0), s1 = PyArray_STRIDE(a, 1);
    if (rows * cols == 0) return -1;  /* empty products: the Python way explains them */
    if ((rows > 1 && (s0 <= 0 || s0 % 8)) || (cols > 1 && (s1 <= 0 || s1 % 8))) return -1;
    if (cols <= 1 || s1 == 8) {
        *ld = rows > 1 ? s0 / 8 : (cols > 1 ? cols : 1);
        if (*ld >= (cols > 1 ? cols : 1)) return 1;
    }
    if (rows <= 1 || s0 == 8) {
        *ld = cols > 1 ? s1 / 8 : (rows > 1 ? rows : 1);
        if (*ld >= (rows > 1 ? rows : 1)) return 0;
    }
    return -1;
}

/* Inside the memory of the array that owns it (the guard against as_strided views)? */
static int inside_owner(PyArrayObject *a) {
    PyObject *owner = (PyObject *)a;
    while (PyArray_Check(owner) && !PyArray_CHKFLAGS((PyArrayObject *)owner, NPY_ARRAY_OWNDATA)) {
        PyObject *base = PyArray_BASE((PyArrayObject *)owner);
        if (!base) return 0;
        owner = base;
    }
    if (!PyArray_Check(owner)) return 0;  /* a buffer of another kind: the Python way measures it */
    char *start = PyArray_BYTES((PyArrayObject *)owner), *end = start + PyArray_NBYTES((PyArrayObject *)owner);
    char *low = PyArray_BYTES(a), *high = low + 8;
    for (int i = 0; i < 2; i++) high += (PyArray_DIM(a, i) - 1) * PyArray_STRIDE(a, i);  /* strides are positive here */
    return low >= start && high <= end;
}

/* Calls made, and the routine last called: how a test sees that the fast path ran, and where. */
static unsigned long long calls;
static uintptr_t last_function;

static int simple(PyObject *x, PyArrayObject **out) {
    if (!PyArray_CheckExact(x)) return 0;
    PyArrayObject *a = (PyArrayObject *)x;
    if (PyArray_NDIM(a) != 2 || PyArray_TYPE(a) != NPY_DOUBLE || !PyArray_ISNOTSWAPPED(a) || !PyArray_ISALIGNED(a)) return 0;
    if (((uintptr_t)PyArray_DATA(a)) % 8) return 0;
    *out = a;
    return 1;
}

/* fast_dgemm(A, B, function_address, int_width) -> C, or None when the case is not simple. */
static PyObject *fast_dgemm(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "fast_dgemm(A, B, function_address, int_width)");
        return NULL;
    }
    PyObject *A_obj = args[0], *B_obj = args[1];
    unsigned long long function = PyLong_AsUnsignedLongLong(args[2]);
    long width = PyLong_AsLong(args[3]);
    if (PyErr_Occurred()) return NULL;
    PyArrayObject *A, *B;
    if (!simple(A_obj, &A) || !simple(B_obj, &B)) Py_RETURN_NONE;
    npy_intp m = PyArray_DIM(A, 0), k = PyArray_DIM(A, 1), n = PyArray_DIM(B, 1), lda, ldb;
    if (PyArray_DIM(B, 0) != k) Py_RETURN_NONE;  /* the Python way names the error */
    int a_row = storage(A, &lda), b_row = storage(B, &ldb);
    if (a_row < 0 || b_row < 0 || !inside_owner(A) || !inside_owner(B)) Py_RETURN_NONE;
    npy_intp limit = width == 64 ? NPY_MAX_INTP : 2147483647;
    if (m > limit || n > limit || k > limit || lda > limit || ldb > limit) Py_RETURN_NONE;
    npy_intp dims[2] = {m, n};
    PyArrayObject *C = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_DOUBLE);  /* C-ordered: RowMajor */
    if (!C) {
        PyErr_Clear();  /* out of memory: the Python way says so, naming the argument */
        Py_RETURN_NONE;
    }
    npy_intp ldc = n > 1 ? n : 1;
    int ta = a_row ? NO_TRANS : TRANS, tb = b_row ? NO_TRANS : TRANS;
    const double *a = PyArray_DATA(A), *b = PyArray_DATA(B);
    double *c = PyArray_DATA(C);
    calls++;
    last_function = (uintptr_t)function;
    Py_BEGIN_ALLOW_THREADS
    if (width == 64)
        ((cblas64_t *)(uintptr_t)function)(ROW_MAJOR, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
    else
        ((cblas32_t *)(uintptr_t)function)(ROW_MAJOR, ta, tb, (int32_t)m, (int32_t)n, (int32_t)k, 1.0, a,
                                            (int32_t)lda, b, (int32_t)ldb, 0.0, c, (int32_t)ldc);
    Py_END_ALLOW_THREADS
    return (PyObject *)C;
}

/* fast_call(A, B) -> (order, transa, transb, lda, ldb, ldc) the fast path would pass, or None. */
static PyObject *fast_call(PyObject *self, PyObject *args) {
    PyObject *A_obj, *B_obj;
    if (!PyArg_ParseTuple(args, "OO", &A_obj, &B_obj)) return NULL;
    PyArrayObject *A, *B;
    npy_intp lda, ldb;
    if (!simple(A_obj, &A) || !simple(B_obj, &B) || PyArray_DIM(B, 0) != PyArray_DIM(A, 1)) Py_RETURN_NONE;
    int a_row = storage(A, &lda), b_row = storage(B, &ldb);
    if (a_row < 0 || b_row < 0 || !inside_owner(A) || !inside_owner(B)) Py_RETURN_NONE;
    npy_intp n = PyArray_DIM(B, 1);
    return Py_BuildValue("(iiinnn)", ROW_MAJOR, a_row ? NO_TRANS : TRANS, b_row ? NO_TRANS : TRANS, lda, ldb, n > 1 ? n : 1);
}

/* fast_calls() -> (calls made so far, address of the dgemm last called). */
static PyObject *fast_calls(PyObject *self, PyObject *unused) {
    return Py_BuildValue("(KK)", calls, (unsigned long long)last_function);
}

static PyMethodDef methods[] = {
    {"fast_dgemm", (PyCFunction)(void (*)(void))fast_dgemm, METH_FASTCALL, "fast_dgemm(A, B, function_address, int_width) -> C or None"},
    {"fast_call", fast_call, METH_VARARGS, "fast_call(A, B) -> (order, transa, transb, lda, ldb, ldc) or None"},
    {"fast_calls", fast_calls, METH_NOARGS, "fast_calls() -> (calls made so far, address of the dgemm last called)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastpath", "The bridge's fast path (see fastpath.c).", -1, methods};

PyMODINIT_FUNC PyInit__fastpath(void) {
    import_array();
    return PyModule_Create(&module);
}
