"""Golden output of a maxpool2d layer (DESIGN.md §3.1): the maximum of each window (OR for
binary spikes)."""

from ...gen.ir.kinds.maxpool2d import MaxPool2dLayer
from .registry import current_of
from .windows import windows

__all__ = ["maxpool2d_values"]


@current_of("maxpool2d")
def maxpool2d_values(layer: MaxPool2dLayer, in_max: int, in_shape: tuple):
    """Window maxima, (batch, C * H' * W') int64 in PyTorch order."""
    def values(s):
        win = windows(s, in_shape, kernel=layer.kernel, stride=layer.stride)
        return win.max(axis=(4, 5)).reshape(len(s), -1)
    return values
