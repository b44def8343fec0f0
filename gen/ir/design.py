"""Hardware plan: every width and the schedule, derived once from a Network.

The hardware (hdl) builds its signals from these formats and the golden and cycle models
(sim) read the same ones, so a width or a cycle count is never computed twice.

Schedule of one layer core for one timestep (DESIGN.md §4, documented in README "Cycle model"):
the core spends one cycle deciding to start, then issues, for each of its ``chunks`` groups of
``lanes`` neurons, one operation per input spike followed by one *fire* operation, and waits
``PIPELINE_DEPTH`` cycles for the last operation to leave its pipeline::

    cycles(n_spikes) = chunks * (n_spikes + 1) + STEP_OVERHEAD,   STEP_OVERHEAD = 1 + 2
"""

from dataclasses import dataclass

import numpy as np

from .formats import IntFormat, UIntFormat, signed_bits_for, unsigned_bits_for
from .network import IntWeights, Network, check_int

__all__ = ["membrane_format_for", "LayerPlan", "NetworkPlan", "plan_network", "default_lanes",
           "current_range", "PIPELINE_DEPTH", "STEP_OVERHEAD", "MAX_LANES", "DEFAULT_MAX_LANES"]

PIPELINE_DEPTH = 2          # spike-buffer read, then weight/membrane read, then update
STEP_OVERHEAD = 1 + PIPELINE_DEPTH
MAX_LANES = 256
DEFAULT_MAX_LANES = 16
MAX_ACCUMULATOR_BITS = 62   # the golden model computes in int64


def default_lanes(size: int, max_lanes: int = DEFAULT_MAX_LANES) -> int:
    """Fewest lanes that keep ceil(size / max_lanes) chunks: no lane idles needlessly."""
    chunks = -(-size // max_lanes)
    return -(-size // chunks)


def current_range(net: Network, index: int) -> tuple[int, int, int, int]:
    """Worst-case (lo, hi) of a partial weight sum and (lo, hi) of I_j = sum + b_j."""
    layer = net.layers[index]
    smax = net.input_max(index)
    w = layer.weights.values
    pos = np.where(w > 0, w, 0).sum(axis=1) * smax
    neg = np.where(w < 0, w, 0).sum(axis=1) * smax
    bias = layer.bias_array()
    return (int(min(neg.min(), 0)), int(max(pos.max(), 0)),
            int(min((neg + bias).min(), 0)), int(max((pos + bias).max(), 0)))


def membrane_format_for(values: np.ndarray, bias: np.ndarray | None, in_max: int,
                        timesteps: int, threshold: int | None = None,
                        v_init: int = 0) -> IntFormat:
    """A membrane format that never saturates: the worst-case current of every timestep, plus
    the threshold and initial value (used by conversion, import and quantization)."""
    bias = np.zeros(values.shape[0], np.int64) if bias is None else np.asarray(bias)
    hi = np.where(values > 0, values, 0).sum(1) * in_max + np.maximum(bias, 0)
    lo = np.where(values < 0, values, 0).sum(1) * in_max + np.minimum(bias, 0)
    swing = timesteps * int(max(hi.max(), -lo.min(), 1)) + abs(v_init)
    return IntFormat(bits=signed_bits_for(-swing - 1, swing + (threshold or 0)))


@dataclass(frozen=True, kw_only=True)
class LayerPlan:
    """Widths and organisation of one layer core.

    Members
    -------
    lanes, chunks : neurons updated in parallel, and ``ceil(size / lanes)`` passes per timestep
    in_value : format of the input values (input.bits or the previous layer's spike_bits)
    in_index_bits : bits of an input index
    accumulator : format of I_j = sum_i s_i w_ij + b_j; never overflows (worst case of the layer)
    update : format of leak(v) + I_j before saturation to the membrane format
    spike : format of the output spike values (None for an integrator)
    multipliers : hardware multipliers (int weights with multi-bit inputs); 0 for PoT
    """

    index: int
    kind: str
    fan_in: int
    size: int
    lanes: int
    chunks: int
    in_value: UIntFormat
    in_index_bits: int
    accumulator: IntFormat
    update: IntFormat
    spike: UIntFormat | None
    multipliers: int

    @property
    def out_index_bits(self) -> int:
        return unsigned_bits_for(self.size - 1)

    def step_cycles(self, n_spikes):
        """Cycles of one timestep with `n_spikes` non-zero inputs (scalar or array)."""
        return self.chunks * (np.asarray(n_spikes) + 1) + STEP_OVERHEAD


@dataclass(frozen=True, kw_only=True)
class NetworkPlan:
    """The plan of every layer, and the format of the result values."""

    layers: tuple
    result: IntFormat

    @property
    def lanes(self) -> tuple[int, ...]:
        return tuple(layer.lanes for layer in self.layers)


def plan_network(net: Network, lanes=None) -> NetworkPlan:
    """Derive every width of `net`; `lanes` is None (automatic), one int, or one per layer."""
    if lanes is None:
        lanes = [default_lanes(layer.size) for layer in net.layers]
    elif isinstance(lanes, (int, np.integer)) and not isinstance(lanes, bool):
        lanes = [min(int(lanes), layer.size) for layer in net.layers]
    else:
        lanes = list(lanes)
        if len(lanes) != len(net.layers):
            raise ValueError(f"lanes must give one value per layer ({len(net.layers)}), "
                             f"not {len(lanes)}")
    layers = []
    for index, (layer, p) in enumerate(zip(net.layers, lanes)):
        check_int(f"lanes[{index}]", p, 1, min(layer.size, MAX_LANES))
        part_lo, part_hi, lo, hi = current_range(net, index)
        acc = IntFormat(bits=max(2, signed_bits_for(min(part_lo, lo), max(part_hi, hi))))
        if acc.bits > MAX_ACCUMULATOR_BITS:
            raise ValueError(f"layers[{index}] needs a {acc.bits}-bit accumulator, more than "
                             f"the {MAX_ACCUMULATOR_BITS} bits allowed")
        v = layer.neuron.v
        in_bits = net.input_bits(index)
        multiplies = isinstance(layer.weights, IntWeights) and in_bits > 1
        layers.append(LayerPlan(
            index=index, kind=layer.kind, fan_in=layer.fan_in, size=layer.size, lanes=p,
            chunks=-(-layer.size // p), in_value=UIntFormat(bits=in_bits),
            in_index_bits=unsigned_bits_for(layer.fan_in - 1), accumulator=acc,
            update=IntFormat(bits=signed_bits_for(v.min + acc.min, v.max + acc.max)),
            spike=UIntFormat(bits=layer.neuron.spike_bits) if layer.neuron.fires else None,
            multipliers=p if multiplies else 0))
    last = net.layers[-1]
    if net.output.mode == "spike_count":
        result = IntFormat(bits=signed_bits_for(0, net.timesteps * last.neuron.spike_max))
    else:
        result = last.neuron.v
    return NetworkPlan(layers=tuple(layers), result=result)
