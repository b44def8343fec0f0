"""Golden current of a conv2d layer (DESIGN.md §3.1): ``I[o, y, x] = sum_{c, ky, kx}
s[c, y*sh + ky - ph, x*sw + kx - pw] * w[o][c][ky][kx] + b_o``, zero padding, as im2col: every
output position's window becomes one row, and one exact matrix product gives every channel."""

import numpy as np

from ...gen.ir.kinds.conv2d import Conv2dLayer
from .products import exact_product
from .registry import current_of
from .windows import windows

__all__ = ["conv2d_current"]


@current_of("conv2d")
def conv2d_current(layer: Conv2dLayer, in_max: int, in_shape: tuple):
    """Exact integer currents, (batch, out_channels * H' * W') in PyTorch order."""
    product = exact_product(layer.weights.values.reshape(layer.out_channels, -1).T,
                            layer.current_range(in_max).magnitude)
    bias = layer.bias_array()[:, None, None]

    def current(s):
        win = windows(s, in_shape, kernel=layer.kernel, stride=layer.stride,
                      padding=layer.padding)
        batch, _, out_h, out_w = win.shape[:4]
        # rows (b, y, x), columns (c, ky, kx): the order of weights[o].ravel()
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(batch * out_h * out_w, -1)
        out = product(cols).reshape(batch, out_h, out_w, -1).transpose(0, 3, 1, 2) + bias
        return np.ascontiguousarray(out).reshape(batch, -1)
    return current
