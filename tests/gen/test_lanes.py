"""Default lanes balance the cores: a pace (per timestep the slowest core's cycles, summed)
that no search over all lanes beats within the LUT budget, and no core with lanes it does
not need."""

import itertools

import numpy as np
import pytest

from spikeshift.gen.ir import lanes as lanes_module
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.lanes import balanced_lanes, default_budget
from spikeshift.gen.ir.synthetic import dense_pot_network, random_network
from spikeshift.sim.cycles import layer_inputs, step_cycles
from spikeshift.sim.golden import trace


def _costs(net, lanes, inputs=None):
    """(pace, cycles per sample of each core, LUTs of the cores), by the cycle model."""
    design = plan(net, list(lanes))
    if inputs is None:
        inputs = tuple(np.ones((1, net.timesteps, lp.event_size), np.int64)
                       for lp in design.layers)
    cycles = step_cycles(design, inputs)                 # (batch, T, layers)
    luts = sum(lp.resources(layer).luts for layer, lp in design.pairs())
    return cycles.max(axis=2).sum(axis=1).mean(), cycles.sum(axis=1).mean(axis=0), luts


def _best_pace(net, budget, inputs=None):
    """The slowest core's cycles of the best lanes within `budget`, over every combination."""
    most = [layer.max_result_lanes if i == len(net.layers) - 1 else layer.max_lanes
            for i, layer in enumerate(net.layers)]
    best = None
    for lanes in itertools.product(*(range(1, m + 1) for m in most)):
        pace, _, luts = _costs(net, lanes, inputs)
        if luts <= budget or all(p == 1 for p in lanes):
            best = pace if best is None else min(best, pace)
    return best


@pytest.mark.parametrize("encoding", ["per_timestep", "direct"])
@pytest.mark.parametrize("seed", range(6))
def test_balanced_lanes_reach_the_best_pace_within_the_budget(seed, encoding):
    rng = np.random.default_rng(seed)
    net = random_network(rng, max_layers=2, max_size=9, max_timesteps=3, kinds=("dense",))
    net = net.with_encoding(encoding)
    budget = int(default_budget(net) * rng.uniform(0.3, 1.5))
    lanes = balanced_lanes(net, max_luts=budget)
    pace, _, luts = _costs(net, lanes)
    assert luts <= budget or all(p == 1 for p in lanes)
    assert pace == _best_pace(net, budget)
    for index, p in enumerate(lanes):        # one lane fewer slows the whole pipeline
        if p > 1:
            fewer = list(lanes)
            fewer[index] -= 1
            assert _costs(net, fewer)[0] > pace


def test_measured_activity_moves_lanes_to_the_busy_layer():
    rng = np.random.default_rng(3)
    net = dense_pot_network(rng, (64, 32, 10), input_bits=4)
    # worst case: layer 0 walks 64 inputs per chunk, layer 1 only 32
    assert balanced_lanes(net, max_luts=default_budget(net)) == [16, 4]
    x = np.zeros((4, net.timesteps, 64), np.int64)
    x[:, :, :2] = 15                          # two busy pixels: layer 0 is nearly idle
    inputs = layer_inputs(x, trace(net, x))
    lanes = balanced_lanes(net, max_luts=default_budget(net), inputs=inputs)
    assert _costs(net, lanes, inputs)[0] == _best_pace(net, default_budget(net), inputs)
    # layer 1 in one chunk, taking two entries per cycle; layer 0 keeps the lanes that its
    # quietest timesteps need
    assert lanes == [16, 10]


def test_a_direct_first_layer_needs_fewer_lanes_as_it_walks_its_input_once():
    net = dense_pot_network(np.random.default_rng(3), (64, 32, 10), input_bits=4)
    budget = default_budget(net)
    direct = net.with_encoding("direct")
    lanes = balanced_lanes(direct, max_luts=budget)
    # layer 0 walks its 64 inputs once per sample, layer 1 its 32 at each of 8 timesteps: now
    # layer 1 paces 7 of the 8 timesteps and takes all its 10 lanes
    assert lanes[1] == 10 > balanced_lanes(net, max_luts=budget)[1]
    assert _costs(direct, lanes)[0] == _best_pace(direct, budget)


def test_a_budget_below_one_lane_per_core_gives_one_lane_each_and_plan_uses_it():
    net = dense_pot_network(np.random.default_rng(1), (64, 32, 10))
    assert balanced_lanes(net, max_luts=1) == [1, 1]
    assert plan(net, max_luts=1).lanes == (1, 1)
    assert plan(net).lanes == tuple(balanced_lanes(net))
    assert plan(net, 3, max_luts=1).lanes == (3, 3)          # given lanes win


@pytest.mark.parametrize("seed", range(6))
def test_the_stepwise_balance_of_large_networks_reaches_the_best_per_timestep_pace(
        seed, monkeypatch):
    monkeypatch.setattr(lanes_module, "EXHAUSTIVE", 0)        # as for a network of many cores
    rng = np.random.default_rng(seed)
    net = random_network(rng, max_layers=3, max_size=7, max_timesteps=3, kinds=("dense",))
    budget = int(default_budget(net) * rng.uniform(0.3, 1.5))
    lanes = balanced_lanes(net, max_luts=budget)
    pace, _, luts = _costs(net, lanes)
    assert luts <= budget or all(p == 1 for p in lanes)
    assert pace == _best_pace(net, budget)       # equal timesteps: the slowest core paces all
    direct = net.with_encoding("direct")         # no longer optimal, but no step improves it
    lanes = balanced_lanes(direct, max_luts=budget)
    pace, _, luts = _costs(direct, lanes)
    for index, p in enumerate(lanes):
        fewer, more = list(lanes), list(lanes)
        fewer[index], more[index] = p - 1, p + 1
        if p > 1:
            assert _costs(direct, fewer)[0] > pace
        if p < net.layers[index].max_lanes and _costs(direct, more)[2] <= budget:
            assert _costs(direct, more)[0] >= pace
