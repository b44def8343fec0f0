"""The sumpool2d layer kind (DESIGN.md §3.1): the exact sum of the incoming values over each
window, ``out[c, y, x] = sum_{ky, kx} s[c, y*sh + ky, x*sw + kx]``, passed on as a multi-bit
value (no neuron) of the bits that hold kh * kw times the input maximum. Average pooling is
sum pooling with 1/(kh * kw) folded into the next layer's scale.

Core: `hdl.cores.pool` (schedule in `spikeshift.gen.ir.maps.WindowPlan` and `PoolPlan`).
"""

from dataclasses import dataclass
from typing import ClassVar

from ..layer import register_kind
from ..maps import PoolLayer

__all__ = ["SumPool2dLayer"]


@register_kind("sumpool2d")
@dataclass(frozen=True, kw_only=True, eq=False)
class SumPool2dLayer(PoolLayer):
    """Window sums of each channel; `stride` defaults to the kernel."""

    kind: ClassVar[str] = "sumpool2d"
    def pool_max(self, in_max: int) -> int:
        return self.window * in_max
