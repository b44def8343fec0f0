"""Golden output of a flatten layer (DESIGN.md §3.1): the values themselves, since a map's
flat index is already ``c*H*W + y*W + x``."""

from ...gen.ir.kinds.flatten import FlattenLayer
from .registry import current_of

__all__ = ["flatten_values"]


@current_of("flatten")
def flatten_values(layer: FlattenLayer, in_max: int, in_shape: tuple):
    """The input values, (batch, C * H * W)."""
    return lambda s: s
