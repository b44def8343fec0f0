"""Golden current of a dense layer: ``I_j = sum_i s_i * w_ij + b_j`` (DESIGN.md §3)."""

from ...gen.ir.kinds.dense import DenseLayer
from .products import exact_product
from .registry import current_of

__all__ = ["dense_current"]


@current_of("dense")
def dense_current(layer: DenseLayer, in_max: int, in_shape: tuple):
    """Exact integer currents (`exact_product`)."""
    bias = layer.bias_array()
    product = exact_product(layer.weights.values.T, layer.current_range(in_max).magnitude)
    return lambda s: product(s) + bias
