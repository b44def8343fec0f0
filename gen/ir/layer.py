"""What every layer kind provides: the `Layer` IR class and the `LayerPlan` of its core.

A kind (one module of `spikeshift.gen.ir.kinds`) subclasses both. The network, the codec,
the planner, the report, the fit estimate and the random-network generator only use the
members declared here, so they work for every registered kind.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .checks import int_array
from .formats import IntFormat, UIntFormat, signed_bits_for, unsigned_bits_for
from .neuron import MAX_V_BITS, Neuron
from .registry import Registry

__all__ = ["KINDS", "register_kind", "CurrentRange", "MemoryGeometry", "MemoryImage", "Resources",
           "Layer", "SimulationOnlyLayer", "LayerPlan", "SingleBankOutput",
           "MAX_ACCUMULATOR_BITS", "TAKES", "check_bias"]

MAX_ACCUMULATOR_BITS = 62   # the golden model computes in int64
#: What a kind takes: flat values ``(size,)`` or a ``(C, H, W)`` map (`Layer.takes`).
TAKES = ("flat", "map")

#: Kind name -> `Layer` subclass, filled by the modules of `spikeshift.gen.ir.kinds`.
KINDS = Registry("layer kind")
register_kind = KINDS.register


def check_bias(value, count: int, per: str) -> np.ndarray:
    """`value` as int64, one value per `per` (``neuron``, ``output channel``), each within the
    widest membrane."""
    bias = int_array("bias", value, 1)
    if bias.shape[0] != count:
        raise ValueError(f"bias must hold one value per {per} ({count}), not {bias.shape[0]}")
    limit = 1 << (MAX_V_BITS - 1)
    if bias.size and np.abs(bias).max() >= limit:
        bad = int(np.argmax(np.abs(bias)))
        raise ValueError(f"bias[{bad}] must be an integer in [{-limit + 1}, {limit - 1}], "
                         f"not {int(bias[bad])!r}")
    return bias


@dataclass(frozen=True, kw_only=True)
class CurrentRange:
    """Worst cases of a layer's current: of any partial weight sum, and of ``I = sum + b``."""

    partial_lo: int
    partial_hi: int
    lo: int
    hi: int

    @classmethod
    def of_weights(cls, rows: np.ndarray, bias: np.ndarray, in_max: int) -> "CurrentRange":
        """The range of ``sum_i s_i * rows[j][i] + bias[j]`` for inputs in [0, `in_max`]."""
        pos = np.where(rows > 0, rows, 0).sum(axis=1) * in_max
        neg = np.where(rows < 0, rows, 0).sum(axis=1) * in_max
        return cls(partial_lo=int(min(neg.min(), 0)), partial_hi=int(max(pos.max(), 0)),
                   lo=int(min((neg + bias).min(), 0)), hi=int(max((pos + bias).max(), 0)))

    @property
    def magnitude(self) -> int:
        return max(-self.partial_lo, self.partial_hi, -self.lo, self.hi)

    @property
    def accumulator(self) -> IntFormat:
        """The narrowest format that holds every partial sum and every current."""
        return IntFormat(bits=max(2, signed_bits_for(min(self.partial_lo, self.lo),
                                                     max(self.partial_hi, self.hi))))


@dataclass(frozen=True, kw_only=True)
class MemoryGeometry:
    """One on-chip memory of a layer core: `depth` words of `width` bits."""

    name: str
    depth: int
    width: int

    @property
    def bits(self) -> int:
        return self.depth * self.width


@dataclass(frozen=True, kw_only=True, eq=False)
class MemoryImage:
    """The initial contents of a memory: one packed integer per word (lane 0 in the low bits)."""

    geometry: MemoryGeometry
    words: tuple

    def __post_init__(self):
        words = tuple(int(w) for w in self.words)
        if len(words) != self.geometry.depth:
            raise ValueError(f"memory {self.geometry.name!r} must hold {self.geometry.depth} "
                             f"words, not {len(words)}")
        if words and (min(words) < 0 or max(words) >> self.geometry.width):
            raise ValueError(f"memory {self.geometry.name!r} words must fit "
                             f"{self.geometry.width} unsigned bits")
        object.__setattr__(self, "words", words)

    def hex_lines(self) -> str:
        """The words as ``$readmemh`` text, one word per line."""
        digits = max(1, -(-self.geometry.width // 4))
        return "".join(f"{w:0{digits}x}\n" for w in self.words)


@dataclass(frozen=True, kw_only=True)
class Resources:
    """A rough resource estimate of one layer core (see `spikeshift.boards.fit`)."""

    luts: int
    ram_bits: int


class Layer(ABC):
    """A layer of the network. Subclasses are frozen keyword-only dataclasses that validate
    themselves; `neuron` is None for a kind without one (pooling, flatten), whose values pass
    on unchanged by any neuron update.

    A layer need not know its own size: a convolution's output map follows from the map it
    receives, so the network gives every layer's size (`Network.layer_size`) from `out_shape`.

    Members
    -------
    kind : the registered name
    takes : ``"flat"`` (``(size,)`` values) or ``"map"`` (a ``(C, H, W)`` map); the network
        refuses any other input before `check_input` runs
    has_core : whether ``hdl.cores`` holds a core for the kind; a kind without one runs in
        the golden model only, and `plan` refuses a network that holds it
    """

    kind: ClassVar[str]
    takes: ClassVar[str] = "flat"
    has_core: ClassVar[bool] = True

    neuron: Neuron | None

    @abstractmethod
    def check_input(self, in_shape: tuple, source: str) -> None:
        """Raise ValueError (message relative to the layer) unless the layer takes values of
        shape `in_shape` (``(size,)`` or ``(C, H, W)``, flat index in PyTorch order);
        `source` names where they come from (``input.size``)."""

    def core_refusal(self) -> str | None:
        """Why `plan` refuses this layer (``"has no hardware core yet"``), or None when its
        core takes it."""
        return None if self.has_core else "has no hardware core yet"

    @abstractmethod
    def out_shape(self, in_shape: tuple) -> tuple:
        """Shape of the values the layer passes on (flat: ``(size,)``)."""

    def out_bits(self, in_bits: int) -> int:
        """Bits of the values the layer passes on, given `in_bits` bits of input values."""
        return self.neuron.spike_bits

    @classmethod
    @abstractmethod
    def from_dict(cls, obj, path: str, arrays) -> "Layer":
        """The layer from its description object at field path `path`."""

    @abstractmethod
    def to_dict(self, arrays, key: str) -> dict:
        """The description object; large arrays go through ``arrays.out(array, key...)``."""

    @abstractmethod
    def current_range(self, in_max: int) -> CurrentRange:
        """Worst-case currents when every input value lies in [0, `in_max`]."""

    @property
    @abstractmethod
    def max_lanes(self) -> int:
        """The most lanes the core can use."""

    @abstractmethod
    def default_lanes(self) -> int:
        """Lanes when the user gives none."""

    @property
    def max_result_lanes(self) -> int:
        """The most lanes the core can use as the last layer, which writes the results."""
        return self.max_lanes

    @abstractmethod
    def plan(self, *, index: int, lanes: int, in_bits: int, in_shape: tuple) -> "LayerPlan":
        """The core's widths, memories and schedule with `lanes` lanes."""

    @classmethod
    @abstractmethod
    def random(cls, rng: np.random.Generator, *, in_shape: tuple, in_max: int, max_size: int,
               make_neuron) -> "Layer":
        """A random valid layer taking values of shape `in_shape`, at most `in_max` (tests and
        benchmarks); ``make_neuron(rng, size, typical_current)`` draws its neuron."""


class SimulationOnlyLayer(Layer):
    """A kind without a hardware core yet: the golden model runs it, `plan` refuses it (before
    any of the members below is reached)."""

    has_core: ClassVar[bool] = False

    def _no_core(self):
        raise NotImplementedError(f"layer kind {self.kind!r} has no hardware core yet")

    @property
    def max_lanes(self) -> int:
        self._no_core()

    def default_lanes(self) -> int:
        self._no_core()

    def plan(self, *, index: int, lanes: int, in_bits: int, in_shape: tuple) -> "LayerPlan":
        self._no_core()


@dataclass(frozen=True, kw_only=True)
class LayerPlan(ABC):
    """Widths and organisation of one layer core.

    Members
    -------
    lanes : values updated in parallel
    in_value : format of the input values (input.bits or the previous layer's output bits)
    in_index_bits : bits of an input index
    accumulator : format of a current; never overflows (worst case of the layer)
    update : format of leak(v) + I before saturation to the membrane format (None: no neuron)
    spike : format of the output values (None for an integrator read-out)
    multipliers : hardware multipliers; 0 for PoT weights
    memories : every on-chip memory of the core
    entries_per_cycle : input spike-list entries the core takes per cycle (2: a paired dense
        core, `spikeshift.gen.ir.kinds.dense`; its input buffer then has two read ports)
    """

    index: int
    kind: str
    size: int
    in_size: int
    lanes: int
    in_value: UIntFormat
    in_index_bits: int
    accumulator: IntFormat
    update: IntFormat | None
    spike: UIntFormat | None
    multipliers: int
    memories: tuple
    entries_per_cycle: int = 1

    @property
    def out_index_bits(self) -> int:
        return unsigned_bits_for(self.size - 1)

    @property
    @abstractmethod
    def out_banks(self) -> int:
        """Banks of the spike buffer this core writes (one per lane that appends)."""

    @property
    @abstractmethod
    def out_depth(self) -> int:
        """Entries per bank of that buffer."""

    @property
    def event_size(self) -> int:
        """Length of the `values` that `step_cycles` and `synaptic_events` take: `in_size`,
        and for a layer that also walks its own spikes of the previous timestep (a recurrent
        dense layer) `in_size` + `size`, those spikes after the inputs."""
        return self.in_size

    def holding_input(self) -> "LayerPlan":
        """This plan as the first core of a network whose input is the same at every timestep
        (``input.encoding`` ``"direct"``): the host sends each sample once and the core keeps
        its input slot for all T timesteps. By default the core walks that slot again at every
        timestep (the same cycles); a kind that can keep what it computed from it returns a
        plan that does (dense: `DensePlan.held_current`)."""
        return self

    @abstractmethod
    def step_cycles(self, values):
        """Busy cycles of one timestep from the layer's input `values` (..., event_size), flat
        in the order of its input map: an array of shape ``values.shape[:-1]``. Which inputs
        are non-zero is what counts (and, for a map kind, where they lie). A plan that keeps a
        current over a sample's timesteps (`holding_input`) reads the axis before the last as
        the sample's timesteps 0 .. T - 1."""

    @property
    @abstractmethod
    def cycle_formula(self) -> str:
        """`step_cycles` as text: ``n`` the non-zero inputs of the timestep, ``r`` a recurrent
        layer's own non-zero spikes of the previous timestep, ``P`` the window positions of
        one input (map kinds)."""

    @abstractmethod
    def synaptic_events(self, values):
        """Synaptic operations caused by input `values` (..., event_size), shape
        ``values.shape[:-1]``."""

    @abstractmethod
    def resources(self, layer: Layer) -> Resources:
        """Rough LUT and memory-bit estimate of the core."""

    @abstractmethod
    def report_row(self, layer: Layer) -> dict:
        """The kind's own fields of the report row (DESIGN.md §8)."""

    def memory(self, name: str) -> MemoryGeometry:
        for geometry in self.memories:
            if geometry.name == name:
                return geometry
        raise KeyError(f"layer {self.index} has no memory {name!r}")


class SingleBankOutput:
    """Mixin of a `LayerPlan` whose core appends to one bank of up to `size` entries (a
    pooling's emit pass, a flatten's copy)."""

    @property
    def out_banks(self) -> int:
        return 1

    @property
    def out_depth(self) -> int:
        return self.size
