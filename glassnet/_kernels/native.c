/* glassnet's compiled loops: the few sliding-window loops that NumPy cannot run at
 * memory speed (see glassnet/_kernels/native.py for why, and for the Python side).
 *
 * They are plain C functions over raw pointers, called through ctypes (which lets go
 * of the GIL during the call, so parts of one array can run on several threads). No
 * Python object is touched here: the module init below exists only so that the
 * shared library can be built and found as an ordinary extension module.
 *
 * Built without -ffast-math: the max-pooling loop depends on NaN comparing false.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t i64;

/* Along one axis, output k of a window reads position k*step + start. The first k
 * (of n) whose position is >= 0: */
static inline i64 first_inside(i64 start, i64 step, i64 n)
{
    if (start >= 0)
        return 0;
    i64 k = (-start + step - 1) / step;
    return k < n ? k : n;
}

/* ... and one past the last k whose position is < size (never below first_inside). */
static inline i64 end_inside(i64 start, i64 step, i64 size, i64 n)
{
    if (start >= size)
        return first_inside(start, step, n);
    i64 k = (size - 1 - start) / step + 1;
    if (k > n)
        k = n;
    i64 lo = first_inside(start, step, n);
    return k < lo ? lo : k;
}

/* The depthwise convolution's loops, vectorised by the compiler: with 8-lane AVX2 where
 * the CPU has it (GCC picks the clone when the library loads), else the x86-64 baseline. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DEPTHWISE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DEPTHWISE_CLONES
#endif

#define T float
#define NAME(f) f##_f32
#define SQRT sqrtf
#include "native_loops.h"
#undef T
#undef NAME
#undef SQRT

#define T double
#define NAME(f) f##_f64
#define SQRT sqrt
#include "native_loops.h"
#undef T
#undef NAME
#undef SQRT

#include "native_conv.h"
#include "native_gelu.h"
#include "native_rnn.h"

/* The ABI version: native.py refuses a library whose functions it does not know. */
int glassnet_native_version(void) { return 16; }

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native",
                                    "glassnet's compiled loops, called through ctypes.", -1, NULL};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
