"""Default lanes: the layer cores balanced for streamed throughput within a LUT budget.

Streamed samples pass the cores as a pipeline (README "Cycle model"): core l works on
timestep t while core l + 1 works on t - 1, and the double-buffered spike lists between them
let no core run more than a timestep ahead. So each timestep passes at the pace of the core
slowest *at that timestep*, and a sample costs about the sum over its timesteps of the
slowest core's cycles (`pace`). Lanes that make a core faster than the others at every
timestep buy nothing; a direct network's first core, busy at t = 0 only, is the slowest then
and idle after. A core's cycles are its kind's own formula (`LayerPlan.step_cycles`) of the
values it receives: measured ones when given (a golden-model run on real inputs,
`sim.cycles.layer_inputs`), else the worst case, every value non-zero every timestep. Its
area is its kind's LUT estimate (`LayerPlan.resources`), the one the board fit check uses.

A core's useful lane counts are few (those that change its chunks: about 2·sqrt(neurons)),
so `balanced_lanes` tries every combination of them when there are at most `EXHAUSTIVE`, and
takes the fastest within the budget, the fewest LUTs among equals. Otherwise it starts every
core at one lane and takes the step (one core to its next faster lane count) that lowers the
pace most per LUT, or, where no single step lowers it (cores tied at every timestep), the
slowest core's, until no step fits the budget; then each core keeps the fewest lanes that
leave the pace where it is.
"""

import itertools

import numpy as np

__all__ = ["balanced_lanes", "default_budget", "pace", "MEASURED_SAMPLES", "EXHAUSTIVE"]

#: Samples of measured inputs the balance looks at (the pace is a mean over them).
MEASURED_SAMPLES = 64
#: Most combinations of useful lane counts tried one by one.
EXHAUSTIVE = 20_000


def pace(cycles) -> float:
    """Cycles per sample of streamed cores whose step cycles are `cycles` (one (samples, T)
    array per core): per timestep the slowest core's, summed, averaged over the samples."""
    return float(np.max(np.stack(cycles), axis=0).sum(axis=-1).mean())


class _Core:
    """One layer's plans by lane count, made once each, with their step cycles and LUTs."""

    def __init__(self, net, index: int, values):
        self.net, self.index, self.values = net, index, values
        self.most = net.max_lanes(index)
        self._cost = {}

    def plan(self, lanes: int):
        return self.net.layer_plan(self.index, lanes)

    def cost(self, lanes: int) -> tuple[np.ndarray, int]:
        """((samples, T) step cycles, LUTs) with `lanes` lanes."""
        if lanes not in self._cost:
            lp = self.plan(lanes)
            values = (self.values if self.values is not None
                      else np.ones((1, self.net.timesteps, lp.event_size), np.int8))
            cycles = np.asarray(lp.step_cycles(values), np.int64)
            self._cost[lanes] = (cycles, lp.resources(self.net.layers[self.index]).luts)
        return self._cost[lanes]

    def total(self, lanes: int) -> int:
        return int(self.cost(lanes)[0].sum())

    def faster(self, lanes: int) -> int | None:
        """The fewest lanes above `lanes` that make the core faster (None: none does)."""
        now = self.total(lanes)
        if lanes >= self.most or self.total(self.most) >= now:
            return None
        return _first(lanes + 1, self.most, lambda p: self.total(p) < now)

    def useful(self) -> list[int]:
        """Every lane count that is the fewest for its cycles, ascending."""
        counts = [1]
        while (more := self.faster(counts[-1])) is not None:
            counts.append(more)
        return counts


def _first(low: int, high: int, good) -> int:
    """The lowest lane count in [low, high] that is `good` (`high` is): cycles never grow
    with lanes, so a bisection finds it."""
    while low < high:
        mid = (low + high) // 2
        if good(mid):
            high = mid
        else:
            low = mid + 1
    return low


def default_budget(net) -> int:
    """LUTs of the cores at their kinds' own default lanes (`Layer.default_lanes`): the
    balance spends the same area where it pays."""
    total = 0
    for index, layer in enumerate(net.layers):
        lanes = min(layer.default_lanes(), net.max_lanes(index))
        total += _Core(net, index, None).plan(lanes).resources(layer).luts
    return total


def balanced_lanes(net, *, max_luts: int | None = None, inputs=None) -> list[int]:
    """Lanes per layer that lower the `pace` of the streamed cores as far as the steps
    described above go while their LUT estimate stays within `max_luts` (default:
    `default_budget`). `inputs`: per layer the values it receives, (batch, T, event_size),
    as `sim.cycles.layer_inputs` gives them; None means the worst case. With a budget below
    one lane per core, every core gets one."""
    budget = default_budget(net) if max_luts is None else int(max_luts)
    cores = [_Core(net, index, None if inputs is None
                   else np.asarray(inputs[index])[:MEASURED_SAMPLES])
             for index in range(len(net.layers))]

    def pace_of(lanes) -> float:
        return pace([core.cost(p)[0] for core, p in zip(cores, lanes)])

    options = [core.useful() for core in cores]
    if np.prod([len(o) for o in options], dtype=float) <= EXHAUSTIVE:
        best = None
        for lanes in itertools.product(*options):
            luts = sum(core.cost(p)[1] for core, p in zip(cores, lanes))
            if luts > budget and any(p > 1 for p in lanes):
                continue
            key = (pace_of(lanes), luts)
            if best is None or key < best[0]:
                best = key, list(lanes)
        return best[1]
    return _stepped(cores, budget, pace_of)


def _stepped(cores, budget: int, pace_of) -> list[int]:
    """The stepwise balance of the module docstring, for networks of many combinations."""
    lanes = [1] * len(cores)
    luts = sum(core.cost(1)[1] for core in cores)
    while True:
        now = pace_of(lanes)
        steps = []                # (gain per LUT, the core's own cycles, index, lanes, LUTs added)
        for i, core in enumerate(cores):
            more = core.faster(lanes[i])
            extra = None if more is None else core.cost(more)[1] - core.cost(lanes[i])[1]
            if more is None or luts + extra > budget:
                continue
            gain = now - pace_of(lanes[:i] + [more] + lanes[i + 1:])
            steps.append((gain / max(extra, 1), core.total(lanes[i]), i, more, extra))
        if not steps:
            break
        gain, _, i, more, extra = max(steps)
        if gain <= 0:                               # ties: the slowest core first
            _, _, i, more, extra = max(steps, key=lambda s: (s[1], -s[2]))
        lanes[i], luts = more, luts + extra
    target = pace_of(lanes)
    for i in range(len(cores)):
        def keeps_pace(p, i=i):
            return pace_of(lanes[:i] + [p] + lanes[i + 1:]) <= target
        lanes[i] = _first(1, lanes[i], keeps_pace)
    return lanes
