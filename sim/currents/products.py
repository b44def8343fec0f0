"""Exact integer products of inputs and weights, shared by the kinds that multiply."""

import contextlib
import functools

import numpy as np

__all__ = ["exact_product", "product_dtype", "one_blas_thread"]

#: Float types whose matrix products are exact integers while every partial sum stays below
#: 2**(mantissa bits): any order of summation BLAS picks only adds subsets of the terms, each
#: bounded by `CurrentRange.magnitude`. The narrowest that fits is the fastest.
_FLOAT_EXACT = ((np.float32, 1 << 24), (np.float64, 1 << 53))


def product_dtype(magnitude: int) -> type:
    """The type the products of a layer whose partial sums and currents reach `magnitude`
    (`CurrentRange.magnitude`) are computed in: float32 below 2**24, float64 below 2**53,
    else int64."""
    return next((dtype for dtype, limit in _FLOAT_EXACT if magnitude < limit), np.int64)


def exact_product(w_t: np.ndarray, magnitude: int):
    """``s -> s @ w_t`` in int64, exactly, through BLAS in `product_dtype(magnitude)` (decided,
    and the weights converted, once per run)."""
    dtype = product_dtype(magnitude)
    if dtype is np.int64:
        return lambda s: s @ w_t
    w_float = w_t.astype(dtype)
    return lambda s: (s.astype(dtype) @ w_float).astype(np.int64)


@functools.cache
def _controller():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()      # finds the loaded BLAS libraries once: milliseconds


def one_blas_thread():
    """A context in which BLAS runs on one thread. The golden model's products alternate
    with NumPy updates; a second OpenBLAS thread spins between them and, on a shared machine,
    takes the core those updates need (measured: the 784-128-10 benchmark ran in half the time
    with one). The limit is the process's while it lasts."""
    try:
        return _controller().limit(limits=1, user_api="blas")
    except ImportError:                 # threadpoolctl is a dependency; a bare copy runs too
        return contextlib.nullcontext()
