"""Golden output of a sumpool2d layer (DESIGN.md §3.1): the exact sum of each window."""

from ...gen.ir.kinds.sumpool2d import SumPool2dLayer
from .registry import current_of
from .windows import windows

__all__ = ["sumpool2d_values"]


@current_of("sumpool2d")
def sumpool2d_values(layer: SumPool2dLayer, in_max: int, in_shape: tuple):
    """Window sums, (batch, C * H' * W') int64 in PyTorch order."""
    def values(s):
        win = windows(s, in_shape, kernel=layer.kernel, stride=layer.stride)
        return win.sum(axis=(4, 5), dtype="int64").reshape(len(s), -1)
    return values
