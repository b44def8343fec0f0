"""Golden current of a dense layer: ``I_j = sum_i s_i * w_ij + b_j`` (DESIGN.md §3)."""

import numpy as np

from ...gen.ir.kinds.dense import DenseLayer
from .registry import current_of

__all__ = ["dense_current"]

_FLOAT_EXACT = 1 << 52      # float64 matrix products are exact below this magnitude


@current_of("dense")
def dense_current(layer: DenseLayer, in_max: int):
    """Exact integer currents; through float64 BLAS when no sum can exceed 2**52 (decided,
    and the weights converted, once per run)."""
    bias = layer.bias_array()
    if layer.current_range(in_max).magnitude < _FLOAT_EXACT:
        w_t = layer.weights.values.T.astype(np.float64)
        return lambda s: np.rint(s.astype(np.float64) @ w_t).astype(np.int64) + bias
    w_t = layer.weights.values.T
    return lambda s: s @ w_t + bias
