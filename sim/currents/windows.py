"""The windows of a map, shared by the map kinds' golden currents (DESIGN.md §3.1)."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["windows"]


def windows(s: np.ndarray, in_shape: tuple, *, kernel: tuple, stride: tuple,
            padding: tuple = (0, 0)) -> np.ndarray:
    """A read-only view (batch, C, H', W', kh, kw): entry ``[b, c, y, x, ky, kx]`` is the value
    at ``(c, y*sh + ky - ph, x*sw + kx - pw)`` of the flat maps `s` (batch, C*H*W), 0 outside
    the map (zero padding)."""
    maps = s.reshape(len(s), *in_shape)
    (ph, pw), (sh, sw) = padding, stride
    if ph or pw:
        maps = np.pad(maps, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return sliding_window_view(maps, kernel, axis=(2, 3))[:, :, ::sh, ::sw]
