"""The flatten layer kind (DESIGN.md §3.1): a ``(C, H, W)`` map becomes ``C*H*W`` flat values
in PyTorch order; since the flat index of ``(c, y, x)`` is already ``c*H*W + y*W + x``, it
changes no value and no index. A dense layer takes flat values only, so a map reaches one
through a flatten.

Every spike list carries flat indices (README "Hardware"), so the core (`hdl.cores.flatten`)
only copies the entries of a timestep into the one bank it writes, one per cycle::

    cycles = n + 2,     n the non-zero inputs (one start cycle, one for the last write)
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..checks import check_int
from ..fields import build, fields
from ..formats import IntFormat, UIntFormat, signed_bits_for, unsigned_bits_for
from ..layer import (
    CurrentRange,
    Layer,
    LayerPlan,
    Resources,
    SingleBankOutput,
    register_kind,
)

__all__ = ["FlattenLayer", "FlattenPlan", "FLATTEN_OVERHEAD", "LUTS_FLATTEN"]

FLATTEN_OVERHEAD = 2
LUTS_FLATTEN = 40           # the bank walker and the write enable


@register_kind("flatten")
@dataclass(frozen=True, kw_only=True, eq=False)
class FlattenLayer(Layer):
    """``(C, H, W)`` -> ``(C*H*W,)``; no field but its kind, no neuron."""

    kind: ClassVar[str] = "flatten"
    takes: ClassVar[str] = "map"
    neuron: ClassVar[None] = None

    def check_input(self, in_shape: tuple, source: str) -> None:
        pass                                    # every map flattens

    def out_shape(self, in_shape: tuple) -> tuple:
        return (int(np.prod(in_shape)),)

    def out_bits(self, in_bits: int) -> int:
        return in_bits

    def current_range(self, in_max: int) -> CurrentRange:
        return CurrentRange(partial_lo=0, partial_hi=in_max, lo=0, hi=in_max)

    @property
    def max_lanes(self) -> int:
        return 1

    def default_lanes(self) -> int:
        return 1

    def plan(self, *, index: int, lanes: int, in_bits: int, in_shape: tuple) -> "FlattenPlan":
        check_int(f"lanes[{index}]", lanes, 1, self.max_lanes)
        size = int(np.prod(in_shape))
        bits = unsigned_bits_for(size - 1)
        return FlattenPlan(index=index, kind=self.kind, size=size, in_size=size, lanes=1,
                           in_value=UIntFormat(bits=in_bits), in_index_bits=bits,
                           accumulator=IntFormat(bits=signed_bits_for(0, (1 << in_bits) - 1)),
                           update=None, spike=UIntFormat(bits=in_bits), multipliers=0,
                           memories=())

    @classmethod
    def from_dict(cls, obj, path: str, arrays) -> "FlattenLayer":
        fields(obj, path, required=("kind",))
        return build(path, cls)

    def to_dict(self, arrays, key: str) -> dict:
        return {"kind": self.kind}

    @classmethod
    def random(cls, rng, *, in_shape: tuple, in_max: int, max_size: int,
               make_neuron) -> "FlattenLayer":
        return cls()


@dataclass(frozen=True, kw_only=True)
class FlattenPlan(SingleBankOutput, LayerPlan):
    """A flatten core: no memory of its own; it writes one bank of up to `size` entries."""

    def step_cycles(self, values):
        return np.count_nonzero(np.asarray(values), axis=-1) + FLATTEN_OVERHEAD

    @property
    def cycle_formula(self) -> str:
        return f"n + {FLATTEN_OVERHEAD}"

    def synaptic_events(self, values):
        return np.zeros(np.shape(values)[:-1], np.int64)   # a copy adds nothing

    def resources(self, layer: FlattenLayer) -> Resources:
        return Resources(luts=LUTS_FLATTEN, ram_bits=0)

    def report_row(self, layer: FlattenLayer) -> dict:
        return {"value_bits": self.spike.bits}
