"""Golden current of a dense layer: ``I_j = sum_i s_i * w_ij + b_j`` (DESIGN.md §3)."""

import numpy as np

from ...gen.ir.kinds.dense import DenseLayer
from .registry import current_of

__all__ = ["dense_current"]

_FLOAT_EXACT = 1 << 52      # float64 matrix products are exact below this magnitude


@current_of("dense")
def dense_current(layer: DenseLayer, s: np.ndarray, in_max: int) -> np.ndarray:
    """Exact integer currents; through float64 BLAS when no sum can exceed 2**52."""
    w = layer.weights.values
    if layer.current_range(in_max).magnitude < _FLOAT_EXACT:
        total = np.rint(s.astype(np.float64) @ w.T.astype(np.float64)).astype(np.int64)
    else:
        total = s @ w.T
    return total + layer.bias_array()
