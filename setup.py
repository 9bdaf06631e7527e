"""Builds glassnet's one compiled module; everything else is in pyproject.toml.

The module (glassnet/_kernels/native.c) is optional: where no C compiler is found
the install goes on without it and glassnet runs the same loops in NumPy, slower.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "glassnet._kernels._native",
    sources=["glassnet/_kernels/native.c"],
    depends=["glassnet/_kernels/native_loops.h"],
    extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wno-unused-function"],
    optional=True,
)])
