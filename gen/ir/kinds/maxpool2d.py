"""The maxpool2d layer kind (DESIGN.md §3.1): the maximum of the incoming values over each
window, ``out[c, y, x] = max_{ky, kx} s[c, y*sh + ky, x*sw + kx]`` (OR for binary spikes),
passed on with the input's bits (no neuron). Exact for directly trained SNNs; for converted
ones it is not rate-preserving (the maximum of spikes is not the spike of the maximum).

Core: `hdl.cores.pool` (schedule in `spikeshift.gen.ir.maps.WindowPlan` and `PoolPlan`).
"""

from dataclasses import dataclass
from typing import ClassVar

from ..layer import register_kind
from ..maps import PoolLayer

__all__ = ["MaxPool2dLayer"]


@register_kind("maxpool2d")
@dataclass(frozen=True, kw_only=True, eq=False)
class MaxPool2dLayer(PoolLayer):
    """Window maxima of each channel; `stride` defaults to the kernel."""

    kind: ClassVar[str] = "maxpool2d"
    def pool_max(self, in_max: int) -> int:
        return in_max
