"""What the map kinds share (conv2d, sumpool2d, maxpool2d, flatten; DESIGN.md §3.1): a map is
``(C, H, W)``, flat index ``c*H*W + y*W + x`` (PyTorch order), and a window of `kernel`
``(kh, kw)`` moves by `stride` ``(sh, sw)`` over the map with `padding` ``(ph, pw)`` zeros on
each side, giving PyTorch's ``H' = floor((H + 2 ph - kh) / sh) + 1`` rows (likewise W')."""

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .checks import check_int
from .fields import build, fields
from .formats import unsigned_bits_for
from .layer import CurrentRange, SimulationOnlyLayer

__all__ = ["MAX_WINDOW", "MAX_STRIDE", "MAX_PADDING", "pair", "shape_text",
           "window_out", "PoolLayer"]

MAX_WINDOW = 64
MAX_STRIDE = 64
MAX_PADDING = 64


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


@dataclass(frozen=True, kw_only=True, eq=False)
class PoolLayer(SimulationOnlyLayer):
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
