"""The window tables (gen/ir/maps.py) against a brute-force enumeration of the windows."""

import numpy as np
import pytest

from spikeshift.gen.ir.maps import window_out, window_ranges, window_table


def brute_updates(in_shape, kernel, stride, padding):
    """Per flat input index, the (state address, weight address) of every window position it
    falls in, in the order the cores visit them (rows, then columns)."""
    c_in, h, w = in_shape
    out_h, out_w = window_out(in_shape, "x", kernel=kernel, stride=stride, padding=padding)
    updates = []
    for c in range(c_in):
        for y in range(h):
            for x in range(w):
                found = []
                for oy in range(out_h):
                    for ox in range(out_w):
                        ky, kx = y + padding[0] - oy * stride[0], x + padding[1] - ox * stride[1]
                        if 0 <= ky < kernel[0] and 0 <= kx < kernel[1]:
                            found.append((oy * out_w + ox,
                                          c * kernel[0] * kernel[1] + ky * kernel[1] + kx))
                updates.append(found)
    return updates, (out_h, out_w)


def replay(table, index, out_w, kernel, stride):
    """The addresses the cores' counters step through from one table entry."""
    ny, nx = table["ny"][index], table["nx"][index]
    return [(table["state"][index] + iy * out_w + ix,
             table["weight"][index] - iy * stride[0] * kernel[1] - ix * stride[1])
            for iy in range(ny) for ix in range(nx)]


@pytest.mark.parametrize("seed", range(60))
def test_window_table_visits_exactly_the_windows_each_input_falls_in(seed):
    rng = np.random.default_rng(seed)
    in_shape = (int(rng.integers(1, 3)), int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    padding = tuple(int(rng.integers(0, 3)) for _ in range(2))
    kernel = tuple(int(rng.integers(1, min(5, n + 2 * p) + 1))
                   for n, p in zip(in_shape[1:], padding))
    stride = tuple(int(rng.integers(1, 4)) for _ in range(2))
    updates, out_hw = brute_updates(in_shape, kernel, stride, padding)
    table = window_table(in_shape, out_hw, kernel=kernel, stride=stride, padding=padding,
                         state_channel_stride=0, weight_channel_stride=kernel[0] * kernel[1])
    for index, want in enumerate(updates):
        assert replay(table, index, out_hw[1], kernel, stride) == want, index


def test_a_row_beyond_the_last_window_or_between_strided_windows_has_no_window():
    # 5 rows, kernel 1, stride 2: windows on rows 0, 2, 4; rows 1 and 3 are never read
    np.testing.assert_array_equal(window_ranges(5, 1, 2, 0, 3)[:, 2], [1, 0, 1, 0, 1])
    # 4 rows, kernel 3, stride 1, padding 1: 4 windows; the border rows fall in 2, inner in 3
    np.testing.assert_array_equal(window_ranges(4, 3, 1, 1, 4),
                                  [[0, 1, 2], [0, 2, 3], [1, 2, 3], [2, 2, 2]])
