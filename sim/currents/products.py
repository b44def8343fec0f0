"""Exact integer products of inputs and weights, shared by the kinds that multiply."""

import numpy as np

__all__ = ["exact_product"]

_FLOAT_EXACT = 1 << 52      # float64 matrix products are exact below this magnitude


def exact_product(w_t: np.ndarray, magnitude: int):
    """``s -> s @ w_t`` in int64, exactly; through float64 BLAS when no partial sum or result
    can exceed 2**52 in `magnitude` (decided, and the weights converted, once per run)."""
    if magnitude < _FLOAT_EXACT:
        w_float = w_t.astype(np.float64)
        return lambda s: np.rint(s.astype(np.float64) @ w_float).astype(np.int64)
    return lambda s: s @ w_t
