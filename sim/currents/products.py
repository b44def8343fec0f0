"""Exact integer products of inputs and weights, shared by the kinds that multiply."""

import numpy as np

__all__ = ["exact_product"]

#: Float types whose matrix products are exact integers while every partial sum stays below
#: 2**(mantissa bits): any order of summation BLAS picks only adds subsets of the terms, each
#: bounded by `CurrentRange.magnitude`. The narrowest that fits is the fastest.
_FLOAT_EXACT = ((np.float32, 1 << 24), (np.float64, 1 << 53))


def exact_product(w_t: np.ndarray, magnitude: int):
    """``s -> s @ w_t`` in int64, exactly; through float32 or float64 BLAS when no partial sum
    or result can reach 2**24 or 2**53 in `magnitude` (decided, and the weights converted,
    once per run), else in int64."""
    for dtype, limit in _FLOAT_EXACT:
        if magnitude < limit:
            w_float = w_t.astype(dtype)
            return lambda s: (s.astype(dtype) @ w_float).astype(np.int64)
    return lambda s: s @ w_t
