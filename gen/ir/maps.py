"""What the map kinds share (conv2d, sumpool2d, maxpool2d, flatten; DESIGN.md §3.1): a map is
``(C, H, W)``, flat index ``c*H*W + y*W + x`` (PyTorch order), and a window of `kernel`
``(kh, kw)`` moves by `stride` ``(sh, sw)`` over the map with `padding` ``(ph, pw)`` zeros on
each side, giving PyTorch's ``H' = floor((H + 2 ph - kh) / sh) + 1`` rows (likewise W').

The window tables (`window_ranges`, `WindowPlan`) say, for each input position, which window
positions it falls in; the map cores read them from ROMs and the cycle model counts with
them, so the hardware and the model never compute them apart."""

from abc import abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from .checks import check_int
from .fields import build, fields
from .formats import IntFormat, UIntFormat, signed_bits_for, unsigned_bits_for
from .layer import CurrentRange, Layer, LayerPlan, MemoryGeometry, Resources, SingleBankOutput

__all__ = ["MAX_WINDOW", "MAX_STRIDE", "MAX_PADDING", "MAP_STEP_OVERHEAD", "pair",
           "shape_text", "window_out", "window_ranges", "WindowPlan", "PoolLayer", "PoolPlan"]

MAX_WINDOW = 64
MAX_STRIDE = 64
MAX_PADDING = 64
#: Cycles of a map core's timestep besides its operations: the start cycle, two to fill the
#: event pipeline (spike-list read, window-table read), one for the last write to land.
MAP_STEP_OVERHEAD = 4
#: Fit estimate of a map core: issue counters and address adders per address bit, and the
#: update datapath per lane and bit (as the dense core's).
LUTS_PER_ADDRESS_BIT = 24
LUTS_PER_LANE_BIT = 12


def pair(name: str, value, lo: int, hi: int) -> tuple[int, int]:
    """``(a, b)`` from an integer (the same value twice) or two integers, each in [lo, hi]."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an integer or two integers, not {list(value)!r}")
        return tuple(check_int(f"{name}[{i}]", n, lo, hi) for i, n in enumerate(value))
    value = check_int(name, value, lo, hi)
    return (value, value)


def shape_text(shape) -> str:
    """``[2, 8, 8]``: a shape as the description writes it."""
    return "[" + ", ".join(str(int(n)) for n in shape) + "]"


def window_out(in_shape: tuple, source: str, *, kernel: tuple, stride: tuple,
               padding: tuple = (0, 0)) -> tuple[int, int]:
    """``(H', W')`` of the window positions; ValueError (naming `kernel`, the map of `source`
    and the padding) when the kernel is larger than the padded map, so that H' or W' < 1."""
    _, h, w = in_shape
    hp, wp = h + 2 * padding[0], w + 2 * padding[1]
    if kernel[0] > hp or kernel[1] > wp:
        raise ValueError(f"kernel {shape_text(kernel)} is larger than the padded map: {source} "
                         f"{shape_text(in_shape)} with padding {shape_text(padding)} is "
                         f"{hp} x {wp} (H x W)")
    return ((hp - kernel[0]) // stride[0] + 1, (wp - kernel[1]) // stride[1] + 1)


def window_ranges(size: int, kernel: int, stride: int, padding: int, out: int) -> np.ndarray:
    """(size, 3) int64: for each input coordinate ``i`` along one axis, the first window
    position ``o0`` covering it, the kernel offset ``k0 = i + padding - o0 * stride`` there, and
    the number ``n`` of window positions covering it: ``o0 + j`` with offset ``k0 - j * stride``
    for j < n. A coordinate no window covers (beyond the last window, or skipped by a stride
    above the kernel) has ``n = 0`` (and o0 = k0 = 0)."""
    i = np.arange(size, dtype=np.int64)
    lo = np.maximum(0, -(-(i + padding - kernel + 1) // stride))
    hi = np.minimum(out - 1, (i + padding) // stride)
    n = np.maximum(hi - lo + 1, 0)
    covered = n > 0
    return np.stack([np.where(covered, lo, 0), np.where(covered, i + padding - lo * stride, 0),
                     n], axis=1)


def window_table(in_shape: tuple, out_hw: tuple, *, kernel: tuple, stride: tuple,
                 padding: tuple, state_channel_stride: int,
                 weight_channel_stride: int | None) -> dict:
    """The window ROM of a map core, one entry per flat input index ``c*H*W + y*W + x``:
    ``ny``, ``nx`` (window positions covering the row y and the column x), ``state`` (the
    address ``c * state_channel_stride + oy0 * W' + ox0`` of the first output position it
    updates) and, for a convolution, ``weight`` (``c * weight_channel_stride + ky0 * kw + kx0``,
    the first weight it needs). Uncovered entries hold ny or nx = 0 and start addresses 0."""
    c, h, w = in_shape
    rows = window_ranges(h, kernel[0], stride[0], padding[0], out_hw[0])
    cols = window_ranges(w, kernel[1], stride[1], padding[1], out_hw[1])
    ch = np.arange(c, dtype=np.int64)[:, None, None]
    ry, rx = rows[None, :, None, :], cols[None, None, :, :]
    covered = (ry[..., 2] > 0) & (rx[..., 2] > 0)
    shape = (c, h, w)

    def flat(values):
        return np.broadcast_to(np.where(covered, values, 0), shape).reshape(-1).astype(np.int64)
    table = {"ny": flat(ry[..., 2]), "nx": flat(rx[..., 2]),
             "state": flat(ch * state_channel_stride + ry[..., 0] * out_hw[1] + rx[..., 0])}
    if weight_channel_stride is not None:
        table["weight"] = flat(ch * weight_channel_stride + ry[..., 1] * kernel[1] + rx[..., 1])
    return table


def _table_bits(table: dict) -> dict:
    return {name: unsigned_bits_for(int(values.max(initial=0))) for name, values in table.items()}


@dataclass(frozen=True, kw_only=True)
class WindowPlan(LayerPlan):
    """What the conv2d and pooling cores share: events scatter into the window positions they
    fall in, found in a window ROM (`window_table`), then a pass over the output map.

    Schedule of one timestep: one start cycle, two to fill the event pipeline, one cycle per
    (event, chunk, window position) update, or one cycle for an event no window covers, then
    `fire_ops` operations over the output map (fire or emit, then clear), and one cycle for the
    last write::

        cycles = sum over non-zero inputs of max(chunks * P, 1) + fire_ops + 4

    with P = ny * nx the window positions of the input's (y, x).

    Members
    -------
    in_shape, out_map : ``(C, H, W)`` of the input and ``(C', H', W')`` of the output
    kernel, stride, padding : pairs (rows, columns)
    chunks : passes of `lanes` output channels per event
    """

    in_shape: tuple
    out_map: tuple
    kernel: tuple
    stride: tuple
    padding: tuple
    chunks: int

    @property
    def out_positions(self) -> int:
        """H' * W'."""
        return self.out_map[1] * self.out_map[2]

    @property
    @abstractmethod
    def fire_ops(self) -> int:
        """Operations of the pass over the output map."""

    @property
    @abstractmethod
    def state_channel_stride(self) -> int:
        """Address step of the state memory from one input channel to the next."""

    @property
    def weight_channel_stride(self) -> int | None:
        return None

    @cached_property
    def window_table(self) -> dict:
        """The window ROM's fields (`window_table`), one entry per flat input index."""
        return window_table(self.in_shape, self.out_map[1:], kernel=self.kernel,
                            stride=self.stride, padding=self.padding,
                            state_channel_stride=self.state_channel_stride,
                            weight_channel_stride=self.weight_channel_stride)

    @property
    def window_fields(self) -> dict:
        """Bits of each field of a window ROM word, in packing order (first: low bits)."""
        return _table_bits(self.window_table)

    @cached_property
    def positions(self) -> np.ndarray:
        """(in_size,) window positions P = ny * nx each input index updates."""
        return self.window_table["ny"] * self.window_table["nx"]

    @cached_property
    def _event_cycles(self) -> np.ndarray:
        return np.maximum(self.chunks * self.positions, 1)

    def step_cycles(self, values):
        nonzero = (np.asarray(values) != 0).astype(np.int64)
        return nonzero @ self._event_cycles + self.fire_ops + MAP_STEP_OVERHEAD

    @property
    def cycle_formula(self) -> str:
        per = "P" if self.chunks == 1 else f"{self.chunks}*P"
        return f"sum(max({per}, 1)) + {self.fire_ops + MAP_STEP_OVERHEAD}"

    def synaptic_events(self, values):
        nonzero = (np.asarray(values) != 0).astype(np.int64)
        return nonzero @ self.positions * self.updates_per_position

    @property
    def updates_per_position(self) -> int:
        """Output values one event changes at one window position (a pooling: 1)."""
        return 1

    def _window_report(self) -> dict:
        return {"in_shape": list(self.in_shape), "out_shape": list(self.out_map),
                "kernel": list(self.kernel), "stride": list(self.stride),
                "padding": list(self.padding), "chunks": self.chunks,
                "window_memory_bits": self.memory("windows").bits}


def window_memory(table: dict, in_size: int) -> MemoryGeometry:
    """The geometry of a window ROM holding `table`."""
    return MemoryGeometry(name="windows", depth=in_size, width=sum(_table_bits(table).values()))


@dataclass(frozen=True, kw_only=True, eq=False)
class PoolLayer(Layer):
    """What sumpool2d and maxpool2d share: a `kernel` window moving by `stride` (default: the
    kernel, as in PyTorch) over each channel of the map, without padding and without a neuron;
    its output values pass on to the next layer as they are. Subclasses name their kind and
    give `pool_max`."""

    takes: ClassVar[str] = "map"
    neuron: ClassVar[None] = None
    kernel: tuple
    stride: tuple | None = None

    def __post_init__(self):
        self._check_fields()

    def _check_fields(self):
        object.__setattr__(self, "kernel", pair("kernel", self.kernel, 1, MAX_WINDOW))
        stride = self.kernel if self.stride is None else self.stride
        object.__setattr__(self, "stride", pair("stride", stride, 1, MAX_STRIDE))

    @property
    def window(self) -> int:
        """Values in one window, kh * kw."""
        return self.kernel[0] * self.kernel[1]

    @abstractmethod
    def pool_max(self, in_max: int) -> int:
        """The largest output value for input values in [0, `in_max`]."""

    def check_input(self, in_shape: tuple, source: str) -> None:
        window_out(in_shape, source, kernel=self.kernel, stride=self.stride)

    def out_shape(self, in_shape: tuple) -> tuple:
        return (in_shape[0], *window_out(in_shape, "the input", kernel=self.kernel,
                                         stride=self.stride))

    def out_bits(self, in_bits: int) -> int:
        return unsigned_bits_for(self.pool_max((1 << in_bits) - 1))

    def current_range(self, in_max: int) -> CurrentRange:
        hi = self.pool_max(in_max)
        return CurrentRange(partial_lo=0, partial_hi=hi, lo=0, hi=hi)

    @property
    def max_lanes(self) -> int:
        return 1                                # an event changes one channel only

    def default_lanes(self) -> int:
        return 1

    def plan(self, *, index: int, lanes: int, in_bits: int, in_shape: tuple) -> "PoolPlan":
        check_int(f"lanes[{index}]", lanes, 1, self.max_lanes)
        out_map = self.out_shape(in_shape)
        in_size, size = int(np.prod(in_shape)), int(np.prod(out_map))
        out_bits = self.out_bits(in_bits)
        geometry = {"in_shape": tuple(in_shape), "out_map": out_map, "kernel": self.kernel,
                    "stride": self.stride, "padding": (0, 0)}
        table = window_table(in_shape, out_map[1:], kernel=self.kernel, stride=self.stride,
                             padding=(0, 0), state_channel_stride=out_map[1] * out_map[2],
                             weight_channel_stride=None)
        memories = (window_memory(table, in_size),
                    MemoryGeometry(name="values", depth=size, width=out_bits))
        hi = self.pool_max((1 << in_bits) - 1)
        return PoolPlan(index=index, kind=self.kind, size=size, in_size=in_size, lanes=1,
                        chunks=1, in_value=UIntFormat(bits=in_bits),
                        in_index_bits=unsigned_bits_for(in_size - 1),
                        accumulator=IntFormat(bits=signed_bits_for(0, hi)), update=None,
                        spike=UIntFormat(bits=out_bits), multipliers=0, memories=memories,
                        **geometry)

    @classmethod
    def from_dict(cls, obj, path: str, arrays) -> "PoolLayer":
        fields(obj, path, required=("kind", "kernel"), optional=("stride",))
        return build(path, cls, kernel=obj["kernel"], stride=obj.get("stride"))

    def to_dict(self, arrays, key: str) -> dict:
        return {"kind": self.kind, "kernel": list(self.kernel), "stride": list(self.stride)}

    @classmethod
    def random(cls, rng, *, in_shape: tuple, in_max: int, max_size: int,
               make_neuron) -> "PoolLayer":
        """A random pooling of the map `in_shape`: kernels 1-3 per axis (fitting the map),
        stride 1-2 or the kernel."""
        kernel = tuple(int(rng.integers(1, min(3, n) + 1)) for n in in_shape[1:])
        stride = None if rng.random() < 0.3 else tuple(int(rng.integers(1, 3)) for _ in "hw")
        return cls(kernel=kernel, stride=stride)


@dataclass(frozen=True, kw_only=True)
class PoolPlan(SingleBankOutput, WindowPlan):
    """A pooling core: each event updates the window values of its channel (sum or max) in the
    state memory, laid out in flat output order; the emit pass then walks all C * H' * W'
    values, appends the non-zero ones to the one bank it writes, and clears them."""

    @property
    def fire_ops(self) -> int:
        return self.size

    @property
    def state_channel_stride(self) -> int:
        return self.out_positions

    def resources(self, layer) -> Resources:
        return Resources(luts=LUTS_PER_ADDRESS_BIT * unsigned_bits_for(self.size)
                         + LUTS_PER_LANE_BIT * self.spike.bits,
                         ram_bits=sum(m.bits for m in self.memories))

    def report_row(self, layer) -> dict:
        return {**self._window_report(), "value_bits": self.spike.bits}
