"""The dense (fully connected) layer kind: ``I_j = sum_i s_i * w_ij + b_j``, and with
`recurrent` weights ``u`` (DESIGN.md §3.1) ``+ sum_k r_k(t-1) * u_jk``, where ``r(t-1)`` is the
layer's own spike values of the previous timestep (``r(-1)``: `recurrent_init`, default 0).

Core schedule of one timestep (DESIGN.md §4, README "Cycle model"): ``START_CYCLES`` to
decide to start and load the input walks' begin values (registers of the input list's
counts), then, for each of ``chunks`` groups of ``lanes`` neurons, one operation per input
spike followed by one *fire* operation, and ``PIPELINE_DEPTH`` cycles for the last operation
to leave the pipeline::

    cycles(n) = chunks * (n + 1) + STEP_OVERHEAD,   STEP_OVERHEAD = 2 + PIPELINE_DEPTH = 11

A recurrent layer's chunk walks, after the input spikes and before its fire operation, the
``r`` non-zero spikes the layer itself produced in the previous timestep (r(-1) at a sample's
first), one operation each, the list switch costing no cycle::

    cycles(n, r) = chunks * (n + r + 1) + STEP_OVERHEAD

Those spikes are the layer's own output of the timestep it finished last, so no hand-off
between cores changes: the core keeps a private copy of them (README "Hardware"; r(-1) laid
out by `fed_back_lists`).

A non-recurrent first layer of a network whose input is the same at every timestep
(``input.encoding`` ``"direct"``, `DensePlan.held_current`) accumulates at t = 0 as above and
keeps each chunk's current in the memory ``currents``; at t >= 1 it issues the fire
operations only, reading that memory instead of the accumulator::

    cycles(t = 0) = chunks * (n + 1) + STEP_OVERHEAD,   cycles(t >= 1) = chunks + STEP_OVERHEAD

A narrow layer, one chunk after another core and not recurrent, cannot go faster with more
lanes; it takes two entries of its input list per cycle instead (`DensePlan.entries_per_cycle`
2: one walk from the list's first entry up, one from its last down, each lane adding both
products), so that it keeps up with the wide layer before it::

    cycles(n) = ceil(n / 2) + 1 + STEP_OVERHEAD
"""

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..blocks import ROW_BITS, WEIGHT_READ_CYCLES, rom_blocks
from ..checks import check_int, int_array
from ..fields import build, fields
from ..formats import IntFormat, UIntFormat, signed_bits_for, unsigned_bits_for
from ..layer import (
    CurrentRange,
    Layer,
    LayerPlan,
    MemoryGeometry,
    Resources,
    check_bias,
    register_kind,
)
from ..neuron import UPDATE_STAGES, Neuron, neuron_from_dict, neuron_to_dict
from ..weights import (
    IntWeights,
    PotWeights,
    Weights,
    random_weights,
    weights_from_dict,
    weights_to_dict,
)

__all__ = ["DenseLayer", "DensePlan", "PIPELINE_DEPTH", "START_CYCLES", "STEP_OVERHEAD",
           "MAX_LANES", "DEFAULT_MAX_LANES", "FED_BACK_SLOTS", "with_random_recurrence",
           "fed_back_lists"]

#: Stages after issue: the spike entry read and registered, the weight read
#: (`WEIGHT_READ_CYCLES`: its address registered, a block read, the block's data registered,
#: the codes selected and registered; the membranes are read in its third stage and
#: registered in its fourth), the accumulate, then the staged neuron update
#: (`UPDATE_STAGES`); an operation leaves it in stage 9.
PIPELINE_DEPTH = 1 + WEIGHT_READ_CYCLES + 1 + UPDATE_STAGES
#: Cycles before the first operation issues: one to decide to start, one to load the walks'
#: begin values (`spikeshift.hdl.cores.events.BankWalk`: registers one cycle behind the counts).
START_CYCLES = 2
STEP_OVERHEAD = START_CYCLES + PIPELINE_DEPTH
MAX_LANES = 256
DEFAULT_MAX_LANES = 16
MAX_SIZE = 1 << 20
#: Slots of a recurrent core's fed-back spike list: the timestep being written and the one
#: being walked (its previous), alternating; r(-1) lies beyond them, never overwritten.
FED_BACK_SLOTS = 2
#: Fit estimate: the accumulator, the product and the neuron update take about 12 LUT4 per
#: bit of the wider of accumulator and membrane, per lane (measured on the digits demo,
#: 26 lanes of 19-20 bits, 6,936 LUT4 with the UART link on the ECP5), plus the issue logic.
LUTS_PER_LANE_BIT = 12
LUTS_PER_INDEX_BIT = 16
PAIRED_LUTS_PER_LANE_BIT = 4


@register_kind("dense")
@dataclass(frozen=True, kw_only=True, eq=False)
class DenseLayer(Layer):
    """Fully connected layer: ``I_j = sum_i s_i * w_ij + b_j`` (weights[j][i], PyTorch order),
    plus ``sum_k r_k(t-1) * recurrent[j][k]`` when the layer feeds its own spikes back."""

    kind: ClassVar[str] = "dense"
    size: int
    weights: Weights
    neuron: Neuron
    bias: np.ndarray | None = None
    recurrent: Weights | None = None
    recurrent_init: np.ndarray | None = None

    def __post_init__(self):
        check_int("size", self.size, 1, MAX_SIZE)
        if not isinstance(self.weights, (PotWeights, IntWeights)):
            raise TypeError(f"weights must be PotWeights or IntWeights, not {self.weights!r}")
        if self.weights.values.shape[0] != self.size:
            raise ValueError(f"weights.values must have one row per neuron ({self.size}), "
                             f"not {self.weights.values.shape[0]}")
        if not isinstance(self.neuron, Neuron):
            raise TypeError(f"neuron must be a Neuron, not {self.neuron!r}")
        self.neuron.check_size(self.size)
        if self.bias is not None:
            object.__setattr__(self, "bias", check_bias(self.bias, self.size, "neuron"))
        self._check_recurrence()

    def _check_recurrence(self):
        if self.recurrent is None:
            if self.recurrent_init is not None:
                raise ValueError("recurrent_init needs recurrent weights, not None")
            return
        if not isinstance(self.recurrent, (PotWeights, IntWeights)):
            raise TypeError(f"recurrent must be PotWeights or IntWeights, not "
                            f"{self.recurrent!r}")
        shape = self.recurrent.values.shape
        if shape != (self.size, self.size):
            raise ValueError(f"recurrent.values must be size x size ({self.size} x "
                             f"{self.size}), not {' x '.join(map(str, shape))}")
        if not self.neuron.fires:
            raise ValueError("recurrent weights need a neuron that fires; an integrator has "
                             "no spikes to feed back")
        if self.recurrent_init is not None:
            r = int_array("recurrent_init", self.recurrent_init, 1)
            if r.shape[0] != self.size:
                raise ValueError(f"recurrent_init must hold one spike value per neuron "
                                 f"({self.size}), not {r.shape[0]}")
            bad = (r < 0) | (r > self.neuron.spike_max)
            if bad.any():
                j = int(np.argmax(bad))
                raise ValueError(f"recurrent_init[{j}] must be a spike value in [0, "
                                 f"{self.neuron.spike_max}], not {int(r[j])}")
            object.__setattr__(self, "recurrent_init", r)

    def recurrent_init_array(self) -> np.ndarray:
        """r(-1), one spike value per neuron (zeros when not given)."""
        return (self.recurrent_init if self.recurrent_init is not None
                else np.zeros(self.size, dtype=np.int64))

    @property
    def fan_in(self) -> int:
        return self.weights.values.shape[1]

    def bias_array(self) -> np.ndarray:
        """The bias as one int64 value per neuron (zeros when there is none)."""
        return self.bias if self.bias is not None else np.zeros(self.size, dtype=np.int64)

    def out_shape(self, in_shape: tuple) -> tuple:
        return (self.size,)

    def check_input(self, in_shape: tuple, source: str) -> None:
        in_size = int(np.prod(in_shape))
        if self.fan_in != in_size:
            raise ValueError(f"weights.values must have {in_size} columns ({source}), "
                             f"not {self.fan_in}")

    @classmethod
    def from_dict(cls, obj, path: str, arrays) -> "DenseLayer":
        fields(obj, path, required=("kind", "size", "weights", "neuron"),
               optional=("bias", "recurrent", "recurrent_init"))
        weights = weights_from_dict(obj["weights"], f"{path}.weights", arrays)
        neuron = neuron_from_dict(obj["neuron"], f"{path}.neuron", arrays)
        bias, recurrent, r_init = obj.get("bias"), obj.get("recurrent"), obj.get("recurrent_init")
        bias = None if bias is None else arrays(bias, f"{path}.bias")
        if recurrent is not None:
            recurrent = weights_from_dict(recurrent, f"{path}.recurrent", arrays)
        r_init = None if r_init is None else arrays(r_init, f"{path}.recurrent_init")
        return build(path, cls, size=obj["size"], weights=weights, neuron=neuron, bias=bias,
                     recurrent=recurrent, recurrent_init=r_init)

    def to_dict(self, arrays, key: str) -> dict:
        obj = {"kind": self.kind, "size": self.size,
               "weights": weights_to_dict(self.weights, arrays, f"{key}.weights"),
               "bias": None if self.bias is None else arrays.out(self.bias, f"{key}.bias"),
               "neuron": neuron_to_dict(self.neuron, arrays, key)}
        if self.recurrent is not None:
            obj["recurrent"] = weights_to_dict(self.recurrent, arrays, f"{key}.recurrent")
            if self.recurrent_init is not None:
                obj["recurrent_init"] = arrays.out(self.recurrent_init, f"{key}.recurrent_init")
        return obj

    def current_range(self, in_max: int) -> CurrentRange:
        """Worst cases over inputs in [0, `in_max`] and fed-back spikes in [0, spike_max]."""
        if self.recurrent is None:
            return CurrentRange.of_weights(self.weights.values, self.bias_array(), in_max)
        rows = np.concatenate([self.weights.values * in_max,
                               self.recurrent.values * self.neuron.spike_max], axis=1)
        return CurrentRange.of_weights(rows, self.bias_array(), 1)

    @property
    def max_lanes(self) -> int:
        return min(self.size, MAX_LANES)

    def default_lanes(self) -> int:
        """Fewest lanes that keep ceil(size / 16) chunks: no lane idles needlessly."""
        chunks = -(-self.size // DEFAULT_MAX_LANES)
        return -(-self.size // chunks)

    def plan(self, *, index: int, lanes: int, in_bits: int, in_shape: tuple) -> "DensePlan":
        in_size = int(np.prod(in_shape))
        check_int(f"lanes[{index}]", lanes, 1, self.max_lanes)
        acc = self.current_range((1 << in_bits) - 1).accumulator
        v = self.neuron.v
        chunks = -(-self.size // lanes)
        code_bits = self.weights.code_bits
        memories = (
            MemoryGeometry(name="weights", depth=chunks * self.fan_in, width=lanes * code_bits),
            MemoryGeometry(name="membranes", depth=chunks, width=lanes * v.bits),
        ) + ((MemoryGeometry(name="syn_currents", depth=chunks, width=lanes * self.neuron.i.bits),)
             if self.neuron.has_synapse else ())
        multiplies = isinstance(self.weights, IntWeights) and in_bits > 1
        paired = index > 0 and chunks == 1 and self.recurrent is None
        if self.recurrent is not None:
            init_depth = max(map(len, fed_back_lists(self, lanes)))
            entry_bits = unsigned_bits_for(self.size - 1) + self.neuron.spike_bits
            memories += (
                MemoryGeometry(name="recurrent", depth=chunks * self.size,
                               width=lanes * self.recurrent.code_bits),
                MemoryGeometry(name="fed_back", depth=FED_BACK_SLOTS * chunks + init_depth,
                               width=lanes * entry_bits),
            )
            multiplies += isinstance(self.recurrent, IntWeights) and self.neuron.spike_bits > 1
        return DensePlan(
            index=index, kind=self.kind, size=self.size, in_size=in_size, lanes=lanes,
            chunks=chunks, in_value=UIntFormat(bits=in_bits),
            in_index_bits=unsigned_bits_for(in_size - 1), accumulator=acc,
            update=IntFormat(bits=signed_bits_for(v.min + acc.min, v.max + acc.max)),
            spike=UIntFormat(bits=self.neuron.spike_bits) if self.neuron.fires else None,
            multipliers=lanes * multiplies * (1 + paired), memories=memories,
            recurrent=self.recurrent is not None, entries_per_cycle=1 + paired)

    @classmethod
    def random(cls, rng, *, in_shape: tuple, in_max: int, max_size: int,
               make_neuron) -> "DenseLayer":
        """A random layer: PoT or int weights of random density, a neuron from
        ``make_neuron(rng, size, typical_current)``, and sometimes a bias."""
        size = int(rng.integers(1, max_size + 1))
        in_size = int(np.prod(in_shape))
        weights = random_weights(rng, (size, in_size))
        typical = max(1.0, np.abs(weights.values).mean() * np.sqrt(in_size) * in_max * 1.5)
        neuron = make_neuron(rng, size, typical)
        bias = None
        if rng.random() < 0.4:
            half = (neuron.threshold_max or int(typical)) // 2
            bias = rng.integers(-half - 1, half + 2, size)
        return cls(size=size, weights=weights, neuron=neuron, bias=bias)


def fed_back_lists(layer: DenseLayer, lanes: int) -> list[list[tuple[int, int]]]:
    """r(-1) as a recurrent core's fed-back spike list holds it: per lane (bank) the
    ``(index, value)`` of its non-zero neurons, in order (neuron j is lane j % lanes of chunk
    j // lanes, as the core appends its own spikes)."""
    r = layer.recurrent_init_array()
    return [[(j, int(r[j])) for j in range(lane, layer.size, lanes) if r[j]]
            for lane in range(lanes)]


def with_random_recurrence(rng, layer: DenseLayer) -> DenseLayer:
    """`layer` with random recurrent weights (size x size, PoT or int) and, half the time, a
    random r(-1) (tests: random recurrent networks)."""
    r_init = (rng.integers(0, layer.neuron.spike_max + 1, layer.size) if rng.random() < 0.5
              else None)
    return dataclasses.replace(layer, recurrent=random_weights(rng, (layer.size, layer.size)),
                               recurrent_init=r_init)


@dataclass(frozen=True, kw_only=True)
class DensePlan(LayerPlan):
    """A dense core: `chunks` = ceil(size / lanes) passes over the input spikes per timestep.

    Word ``chunk * fan_in + i`` of the weight memory holds the codes of input i for the
    chunk's lanes; the membrane memory holds one chunk per word. A `recurrent` core also has
    the memory ``recurrent`` (word ``chunk * size + k``: the codes of its own neuron k for the
    chunk's lanes) and ``fed_back`` (per lane a bank of `FED_BACK_SLOTS` slots of `chunks`
    entries, then that lane's entries of r(-1)), and its `step_cycles` take the inputs
    followed by the layer's own spikes of the previous timestep. A `held_current` core (the
    first of a direct network) also has ``currents`` (one chunk's currents per word, at the
    accumulator's width, the bias added at use).
    """

    chunks: int
    recurrent: bool = False
    held_current: bool = False

    def holding_input(self) -> "DensePlan":
        if self.recurrent:          # r(t - 1) changes every timestep: walk the held slot again
            return self
        currents = MemoryGeometry(name="currents", depth=self.chunks,
                                  width=self.lanes * self.accumulator.bits)
        return dataclasses.replace(self, held_current=True,
                                   memories=self.memories + (currents,))

    def _walked(self, values) -> np.ndarray:
        """Non-zero inputs the core walks: all of them, or for a held current those of t = 0
        only (axis -2 the sample's timesteps)."""
        n = np.count_nonzero(np.asarray(values), axis=-1)
        if self.held_current and n.ndim:
            n = n.copy()
            n[..., 1:] = 0
        return n

    @property
    def fan_in(self) -> int:
        return self.in_size

    @property
    def out_banks(self) -> int:
        return self.lanes

    @property
    def out_depth(self) -> int:
        return self.chunks

    @property
    def event_size(self) -> int:
        return self.in_size + self.size if self.recurrent else self.in_size

    def step_cycles(self, values):
        issued = -(-self._walked(values) // self.entries_per_cycle)
        return self.chunks * (issued + 1) + STEP_OVERHEAD

    @property
    def cycle_formula(self) -> str:
        events = "n + r" if self.recurrent else "n"
        if self.entries_per_cycle > 1:
            events = f"ceil({events} / {self.entries_per_cycle})"
        formula = f"{self.chunks} * ({events} + 1) + {STEP_OVERHEAD}"
        if self.held_current:
            return f"{formula} (t = 0), {self.chunks} + {STEP_OVERHEAD} (t > 0)"
        return formula

    def synaptic_events(self, values):
        return self._walked(values) * self.size

    def resources(self, layer: DenseLayer) -> Resources:
        # a cuba_lif lane also decays, adds and saturates its synaptic current
        width = max(self.accumulator.bits, layer.neuron.v.bits) + layer.neuron.synapse_bits
        walked = self.fan_in.bit_length() + (self.size.bit_length() if self.recurrent else 0)
        # a paired core's second product and adder, its second walk and weight read
        lane_bits = LUTS_PER_LANE_BIT * width + PAIRED_LUTS_PER_LANE_BIT * self.accumulator.bits * (
            self.entries_per_cycle - 1)
        return Resources(luts=self.lanes * lane_bits
                         + LUTS_PER_INDEX_BIT * walked * self.entries_per_cycle,
                         ram_bits=sum(m.bits for m in self.memories))

    def _weight_memory(self, name: str, weights: Weights) -> dict:
        """A weight memory's report: its words, its blocks as `weight_rom` lays it out, the
        blocks a cycle's reads need (one word per entry taken)."""
        memory = self.memory(name)
        ports = self.entries_per_cycle if name == "weights" else 1
        return {"depth": memory.depth, "width": memory.width, "bits": memory.bits,
                "minimum_bits": weights.stored_bits,
                "blocks": rom_blocks(self.lanes, memory.depth, weights.code_bits, ports=ports),
                "read_blocks": -(-memory.width // (ROW_BITS // ports))}

    def report_row(self, layer: DenseLayer) -> dict:
        return {
            "fan_in": self.fan_in, "synapses": self.fan_in * self.size,
            "nonzero_synapses": int(np.count_nonzero(layer.weights.values)),
            "weight_format": layer.weights.format, "weight_code_bits": layer.weights.code_bits,
            "weight_memory": self._weight_memory("weights", layer.weights),
            "membrane_memory_bits": self.memory("membranes").bits,
            "chunks": self.chunks, "v_bits": layer.neuron.v.bits,
            **(self._recurrent_row(layer) if self.recurrent else {}),
        }

    def _recurrent_row(self, layer: DenseLayer) -> dict:
        fed_back = self.memory("fed_back")
        return {
            "recurrent_synapses": self.size * self.size,
            "nonzero_recurrent_synapses": int(np.count_nonzero(layer.recurrent.values)),
            "recurrent_weight_format": layer.recurrent.format,
            "recurrent_weight_code_bits": layer.recurrent.code_bits,
            "recurrent_memory": self._weight_memory("recurrent", layer.recurrent),
            "fed_back_memory_bits": fed_back.bits,
        }
