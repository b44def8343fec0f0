"""Exact integer products of inputs and weights, shared by the kinds that multiply."""

import numpy as np

__all__ = ["exact_product", "product_dtype"]

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
