"""The conv2d layer kind (DESIGN.md §3.1): PyTorch's cross-correlation with zero padding,
``I[o, y, x] = sum_{c, ky, kx} s[c, y*sh + ky - ph, x*sw + kx - pw] * w[o][c][ky][kx] + b_o``,
then §3's neuron update on every output neuron with the layer's neuron parameters.

It has no hardware core yet: the golden model runs it, `plan` refuses it.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..checks import check_int
from ..fields import build, fields
from ..layer import CurrentRange, SimulationOnlyLayer, check_bias, register_kind
from ..maps import MAX_PADDING, MAX_STRIDE, MAX_WINDOW, pair, shape_text, window_out
from ..neuron import Neuron, neuron_from_dict, neuron_to_dict
from ..weights import (
    IntWeights,
    PotWeights,
    Weights,
    random_weights,
    weights_from_dict,
    weights_to_dict,
)

__all__ = ["Conv2dLayer", "MAX_CHANNELS"]

MAX_CHANNELS = 1 << 12


@register_kind("conv2d")
@dataclass(frozen=True, kw_only=True, eq=False)
class Conv2dLayer(SimulationOnlyLayer):
    """2-D convolution of a ``(C, H, W)`` map into ``(out_channels, H', W')`` neurons.

    `weights.values` is ``[out_channels][C][kh][kw]`` (PyTorch order), `bias` one value per
    output channel; `kernel`, `stride` and `padding` take an int (the same value twice) or
    two ints ``(rows, columns)`` and are stored as pairs.
    """

    kind: ClassVar[str] = "conv2d"
    takes: ClassVar[str] = "map"
    out_channels: int
    kernel: tuple
    weights: Weights
    neuron: Neuron
    stride: tuple = (1, 1)
    padding: tuple = (0, 0)
    bias: np.ndarray | None = None

    def __post_init__(self):
        check_int("out_channels", self.out_channels, 1, MAX_CHANNELS)
        object.__setattr__(self, "kernel", pair("kernel", self.kernel, 1, MAX_WINDOW))
        object.__setattr__(self, "stride", pair("stride", self.stride, 1, MAX_STRIDE))
        object.__setattr__(self, "padding", pair("padding", self.padding, 0, MAX_PADDING))
        if not isinstance(self.weights, (PotWeights, IntWeights)) or self.weights.ndim != 4:
            raise TypeError(f"weights must be 4-dimensional PotWeights or IntWeights, "
                            f"not {self.weights!r}")
        shape = self.weights.values.shape
        if shape[0] != self.out_channels:
            raise ValueError(f"weights.values must hold one filter per output channel "
                             f"(out_channels = {self.out_channels}), not {shape[0]}")
        if shape[2:] != self.kernel:
            raise ValueError(f"weights.values filters must be kernel {shape_text(self.kernel)} "
                             f"(kh x kw), not {shape_text(shape[2:])}")
        if not isinstance(self.neuron, Neuron):
            raise TypeError(f"neuron must be a Neuron, not {self.neuron!r}")
        if self.bias is not None:
            object.__setattr__(self, "bias", check_bias(self.bias, self.out_channels,
                                                        "output channel"))

    @property
    def in_channels(self) -> int:
        return self.weights.values.shape[1]

    def bias_array(self) -> np.ndarray:
        """The bias as one int64 value per output channel (zeros when there is none)."""
        return (self.bias if self.bias is not None
                else np.zeros(self.out_channels, dtype=np.int64))

    def check_input(self, in_shape: tuple, source: str) -> None:
        if in_shape[0] != self.in_channels:
            raise ValueError(f"weights.values must have {in_shape[0]} input channels ({source} "
                             f"{shape_text(in_shape)}), not {self.in_channels}")
        window_out(in_shape, source, kernel=self.kernel, stride=self.stride,
                   padding=self.padding)
        self.neuron.check_size(int(np.prod(self.out_shape(in_shape))))

    def out_shape(self, in_shape: tuple) -> tuple:
        return (self.out_channels, *window_out(in_shape, "the input", kernel=self.kernel,
                                               stride=self.stride, padding=self.padding))

    @classmethod
    def from_dict(cls, obj, path: str, arrays) -> "Conv2dLayer":
        fields(obj, path, required=("kind", "out_channels", "kernel", "weights", "neuron"),
               optional=("stride", "padding", "bias"))
        weights = weights_from_dict(obj["weights"], f"{path}.weights", arrays, ndim=4)
        neuron = neuron_from_dict(obj["neuron"], f"{path}.neuron", arrays)
        bias = obj.get("bias")
        bias = None if bias is None else arrays(bias, f"{path}.bias")
        return build(path, cls, out_channels=obj["out_channels"], kernel=obj["kernel"],
                     stride=obj.get("stride", 1), padding=obj.get("padding", 0),
                     weights=weights, neuron=neuron, bias=bias)

    def to_dict(self, arrays, key: str) -> dict:
        return {"kind": self.kind, "out_channels": self.out_channels,
                "kernel": list(self.kernel), "stride": list(self.stride),
                "padding": list(self.padding),
                "weights": weights_to_dict(self.weights, arrays, f"{key}.weights"),
                "bias": None if self.bias is None else arrays.out(self.bias, f"{key}.bias"),
                "neuron": neuron_to_dict(self.neuron, arrays, key)}

    def current_range(self, in_max: int) -> CurrentRange:
        return CurrentRange.of_weights(self.weights.values.reshape(self.out_channels, -1),
                                       self.bias_array(), in_max)

    @classmethod
    def random(cls, rng, *, in_shape: tuple, in_max: int, max_size: int,
               make_neuron) -> "Conv2dLayer":
        """A random convolution of the map `in_shape`: kernels 1-5, stride 1-2, padding 0-2
        (each per axis, fitting the padded map), 1 to min(4, max_size) output channels."""
        c, h, w = in_shape
        padding = tuple(int(rng.integers(0, 3)) for _ in range(2))
        kernel = tuple(int(rng.integers(1, min(5, n + 2 * p) + 1))
                       for n, p in zip((h, w), padding))
        stride = tuple(int(rng.integers(1, 3)) for _ in range(2))
        out_channels = int(rng.integers(1, min(4, max_size) + 1))
        weights = random_weights(rng, (out_channels, c, *kernel))
        fan_in = c * kernel[0] * kernel[1]
        typical = max(1.0, np.abs(weights.values).mean() * np.sqrt(fan_in) * in_max * 1.5)
        out_h, out_w = window_out(in_shape, "the input", kernel=kernel, stride=stride,
                                  padding=padding)
        neuron = make_neuron(rng, out_channels * out_h * out_w, typical)
        bias = None
        if rng.random() < 0.4:
            half = (neuron.threshold or int(typical)) // 2
            bias = rng.integers(-half - 1, half + 2, out_channels)
        return cls(out_channels=out_channels, kernel=kernel, stride=stride, padding=padding,
                   weights=weights, neuron=neuron, bias=bias)
