"""Builds glassnet's one compiled module; everything else is in pyproject.toml.

The module (glassnet/_kernels/native.c) is optional: where no C compiler is found
the install goes on without it and glassnet runs the same loops in NumPy, slower.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "glassnet._kernels._native",
    sources=["glassnet/_kernels/native.c"],
    depends=["glassnet/_kernels/native_loops.h", "glassnet/_kernels/native_conv.h",
             "glassnet/_kernels/native_gelu.h", "glassnet/_kernels/native_rnn.h"],
    # -std=c99: no contraction of a*b+c into one FMA, so the loops round as NumPy does;
    # -fno-math-errno: sqrt may be vectorised (nothing here reads errno)
    extra_compile_args=["-O3", "-std=c99", "-fno-math-errno", "-Wall", "-Wno-unused-function"],
    optional=True,
)])
