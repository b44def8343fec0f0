"""Default lanes: the layer cores balanced for streamed throughput within a LUT budget.

Streamed samples pass the cores as a pipeline (README "Cycle model"), so a batch runs at the
pace of its slowest core: lanes beyond what makes a core as fast as the slowest one buy
nothing, and lanes taken from a fast core cost no throughput. `balanced_lanes` starts every
core at one lane and gives the slowest one more until the next step would leave the budget.

A core's cost per sample is its kind's own cycle formula (`LayerPlan.step_cycles`) summed over
the timesteps, of the values it receives: measured ones when given (a golden-model run on
real inputs, `sim.cycles.layer_inputs`), else the worst case, every value non-zero every
timestep. Its area is its kind's LUT estimate (`LayerPlan.resources`), the one the board fit
check uses.
"""

import numpy as np

__all__ = ["balanced_lanes", "default_budget", "MEASURED_SAMPLES"]

#: Samples of measured inputs the balance looks at (the cycle cost is a mean).
MEASURED_SAMPLES = 64


def _most_lanes(net, index: int) -> int:
    layer = net.layers[index]
    return layer.max_result_lanes if index == len(net.layers) - 1 else layer.max_lanes


class _Core:
    """One layer's plans by lane count, made once each, with their cycles and LUTs."""

    def __init__(self, net, index: int, values):
        self.net, self.index, self.values = net, index, values
        self.most = _most_lanes(net, index)
        self._cost = {}

    def plan(self, lanes: int):
        return self.net.layer_plan(self.index, lanes)

    def cost(self, lanes: int) -> tuple[float, int]:
        """(cycles per sample, LUTs) with `lanes` lanes."""
        if lanes not in self._cost:
            lp = self.plan(lanes)
            values = (self.values if self.values is not None
                      else np.ones((1, self.net.timesteps, lp.event_size), np.int8))
            cycles = float(np.asarray(lp.step_cycles(values)).sum(axis=-1).mean())
            self._cost[lanes] = (cycles, lp.resources(self.net.layers[self.index]).luts)
        return self._cost[lanes]

    def faster(self, lanes: int) -> int | None:
        """The fewest lanes above `lanes` that make the core faster (None: none does)."""
        now = self.cost(lanes)[0]
        if lanes >= self.most or self.cost(self.most)[0] >= now:
            return None
        return self._first(lanes + 1, self.most, lambda cycles: cycles < now)

    def fewest(self, pace: float, lanes: int) -> int:
        """The fewest lanes, at most `lanes`, whose cycles stay within `pace`."""
        return self._first(1, lanes, lambda cycles: cycles <= pace)

    def _first(self, low: int, high: int, good) -> int:
        """The lowest lane count in [low, high] whose cycles are `good` (`high` is):
        cycles never grow with lanes, so a bisection finds it."""
        while low < high:
            mid = (low + high) // 2
            if good(self.cost(mid)[0]):
                high = mid
            else:
                low = mid + 1
        return low


def default_budget(net) -> int:
    """LUTs of the cores at their kinds' own default lanes (`Layer.default_lanes`): the
    balance spends the same area where it pays."""
    total = 0
    for index, layer in enumerate(net.layers):
        lanes = min(layer.default_lanes(), _most_lanes(net, index))
        total += _Core(net, index, None).plan(lanes).resources(layer).luts
    return total


def balanced_lanes(net, *, max_luts: int | None = None, inputs=None) -> list[int]:
    """Lanes per layer that minimise the slowest core's cycles per sample while the cores'
    LUT estimate stays within `max_luts` (default: `default_budget`), each core then with the
    fewest lanes that keep it no slower than that. `inputs`: per layer the values it
    receives, (batch, T, event_size), as `sim.cycles.layer_inputs` gives them; None means the
    worst case. With a budget below one lane per core, every core gets one."""
    budget = default_budget(net) if max_luts is None else int(max_luts)
    cores = [_Core(net, index, None if inputs is None
                   else np.asarray(inputs[index])[:MEASURED_SAMPLES])
             for index in range(len(net.layers))]
    lanes = [1] * len(cores)
    luts = sum(core.cost(1)[1] for core in cores)
    while True:
        slowest = max(range(len(cores)), key=lambda i: (cores[i].cost(lanes[i])[0], -i))
        core = cores[slowest]
        more = core.faster(lanes[slowest])
        if more is None:
            break
        extra = core.cost(more)[1] - core.cost(lanes[slowest])[1]
        if luts + extra > budget:
            break
        lanes[slowest], luts = more, luts + extra
    pace = max(core.cost(p)[0] for core, p in zip(cores, lanes))
    return [core.fewest(pace, p) for core, p in zip(cores, lanes)]
