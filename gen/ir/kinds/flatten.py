"""The flatten layer kind (DESIGN.md §3.1): a ``(C, H, W)`` map becomes ``C*H*W`` flat values
in PyTorch order; since the flat index of ``(c, y, x)`` is already ``c*H*W + y*W + x``, it
changes no value and no index. A dense layer takes flat values only, so a map reaches one
through a flatten.

It has no hardware core yet: the golden model runs it, `plan` refuses it.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..fields import build, fields
from ..layer import CurrentRange, SimulationOnlyLayer, register_kind

__all__ = ["FlattenLayer"]


@register_kind("flatten")
@dataclass(frozen=True, kw_only=True, eq=False)
class FlattenLayer(SimulationOnlyLayer):
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
