"""The conv2d layer kind (DESIGN.md §3.1): PyTorch's cross-correlation with zero padding,
``I[o, y, x] = sum_{c, ky, kx} s[c, y*sh + ky - ph, x*sw + kx - pw] * w[o][c][ky][kx] + b_o``,
then §3's neuron update on every output neuron with the layer's neuron parameters.

Core (`hdl.cores.conv2d`, schedule in `spikeshift.gen.ir.maps.WindowPlan`): each non-zero
input event scatters its weights into the window positions it falls in, `lanes` output
channels at a time, then a fire pass updates every neuron and clears the currents::

    cycles = sum over non-zero inputs of max(chunks * P, 1) + chunks * H' * W' + 4
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..blocks import blocks_used
from ..checks import check_int
from ..fields import build, fields
from ..formats import IntFormat, UIntFormat, signed_bits_for, unsigned_bits_for
from ..layer import CurrentRange, Layer, MemoryGeometry, Resources, check_bias, register_kind
from ..maps import (
    LUTS_PER_ADDRESS_BIT,
    LUTS_PER_LANE_BIT,
    MAX_PADDING,
    MAX_STRIDE,
    MAX_WINDOW,
    WindowPlan,
    pair,
    shape_text,
    window_memory,
    window_out,
    window_table,
)
from ..neuron import Neuron, neuron_from_dict, neuron_to_dict
from ..weights import (
    IntWeights,
    PotWeights,
    Weights,
    random_weights,
    weights_from_dict,
    weights_to_dict,
)

__all__ = ["Conv2dLayer", "Conv2dPlan", "MAX_CHANNELS", "MAX_LANES", "DEFAULT_MAX_LANES"]

MAX_CHANNELS = 1 << 12
MAX_LANES = 256
DEFAULT_MAX_LANES = 16


@register_kind("conv2d")
@dataclass(frozen=True, kw_only=True, eq=False)
class Conv2dLayer(Layer):
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
        self.neuron.check_size(int(np.prod(self.out_shape(in_shape))), self.out_channels)

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

    @property
    def max_lanes(self) -> int:
        return min(self.out_channels, MAX_LANES)

    @property
    def max_result_lanes(self) -> int:
        """1: its fire pass then meets the neurons in flat order, the order of the results."""
        return 1

    def default_lanes(self) -> int:
        """Fewest lanes that keep ceil(out_channels / 16) chunks: no lane idles needlessly."""
        chunks = -(-self.out_channels // DEFAULT_MAX_LANES)
        return -(-self.out_channels // chunks)

    def plan(self, *, index: int, lanes: int, in_bits: int, in_shape: tuple) -> "Conv2dPlan":
        check_int(f"lanes[{index}]", lanes, 1, self.max_lanes)
        out_map = self.out_shape(in_shape)
        in_size, size = int(np.prod(in_shape)), int(np.prod(out_map))
        acc = self.current_range((1 << in_bits) - 1).accumulator
        v = self.neuron.v
        chunks = -(-self.out_channels // lanes)
        kernel_size = self.kernel[0] * self.kernel[1]
        table = window_table(in_shape, out_map[1:], kernel=self.kernel, stride=self.stride,
                             padding=self.padding, state_channel_stride=0,
                             weight_channel_stride=kernel_size)
        positions = chunks * out_map[1] * out_map[2]
        memories = (
            MemoryGeometry(name="weights", depth=chunks * in_shape[0] * kernel_size,
                           width=lanes * self.weights.code_bits),
            window_memory(table, in_size),
            MemoryGeometry(name="currents", depth=positions, width=lanes * acc.bits),
            MemoryGeometry(name="membranes", depth=positions, width=lanes * v.bits),
        ) + ((MemoryGeometry(name="syn_currents", depth=positions,
                             width=lanes * self.neuron.i.bits),) if self.neuron.has_synapse
             else ())
        multiplies = isinstance(self.weights, IntWeights) and in_bits > 1
        return Conv2dPlan(
            index=index, kind=self.kind, size=size, in_size=in_size, lanes=lanes,
            chunks=chunks, in_value=UIntFormat(bits=in_bits),
            in_index_bits=unsigned_bits_for(in_size - 1), accumulator=acc,
            update=IntFormat(bits=signed_bits_for(v.min + acc.min, v.max + acc.max)),
            spike=UIntFormat(bits=self.neuron.spike_bits) if self.neuron.fires else None,
            multipliers=lanes if multiplies else 0, memories=memories,
            in_shape=tuple(in_shape), out_map=out_map, kernel=self.kernel, stride=self.stride,
            padding=self.padding)

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
            half = (neuron.threshold_max or int(typical)) // 2
            bias = rng.integers(-half - 1, half + 2, out_channels)
        return cls(out_channels=out_channels, kernel=kernel, stride=stride, padding=padding,
                   weights=weights, neuron=neuron, bias=bias)


@dataclass(frozen=True, kw_only=True)
class Conv2dPlan(WindowPlan):
    """A conv2d core. Word ``chunk * C*kh*kw + c*kh*kw + ky*kw + kx`` of the weight memory
    holds the codes of ``w[o][c][ky][kx]`` for the chunk's lanes ``o = chunk * lanes + lane``;
    the current and membrane memories hold word ``chunk * H'*W' + oy * W' + ox``, lane `lane`
    being neuron ``(chunk * lanes + lane, oy, ox)``."""

    @property
    def fire_ops(self) -> int:
        return self.chunks * self.out_positions

    @property
    def state_channel_stride(self) -> int:
        return 0                    # every input channel adds into the same output positions

    @property
    def weight_channel_stride(self) -> int:
        return self.kernel[0] * self.kernel[1]

    @property
    def updates_per_position(self) -> int:
        return self.out_map[0]

    @property
    def out_banks(self) -> int:
        return self.lanes

    @property
    def out_depth(self) -> int:
        return self.fire_ops

    def resources(self, layer: Conv2dLayer) -> Resources:
        # a cuba_lif lane also decays, adds and saturates its synaptic current
        width = max(self.accumulator.bits, layer.neuron.v.bits) + layer.neuron.synapse_bits
        return Resources(luts=self.lanes * LUTS_PER_LANE_BIT * width
                         + LUTS_PER_ADDRESS_BIT * unsigned_bits_for(self.fire_ops),
                         ram_bits=sum(m.bits for m in self.memories))

    def report_row(self, layer: Conv2dLayer) -> dict:
        weights = self.memory("weights")
        return {
            **self._window_report(), "out_channels": layer.out_channels,
            "synapses": int(self.positions.sum()) * layer.out_channels,
            "nonzero_synapses": int(np.count_nonzero(layer.weights.values)),
            "weight_format": layer.weights.format, "weight_code_bits": layer.weights.code_bits,
            "weight_memory": {"depth": weights.depth, "width": weights.width,
                              "bits": weights.bits, "minimum_bits": layer.weights.stored_bits,
                              "blocks": blocks_used(weights.width, weights.depth)},
            "membrane_memory_bits": self.memory("membranes").bits,
            "current_memory_bits": self.memory("currents").bits, "v_bits": layer.neuron.v.bits,
        }
