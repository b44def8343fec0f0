import numpy as np
import pytest

from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.dense import DenseLayer
from spikeshift.gen.ir.network import network_from_dict
from spikeshift.gen.ir.neuron import Neuron
from spikeshift.gen.ir.weights import IntWeights

from .test_description import valid


@pytest.mark.parametrize("size, lanes", [(10, 10), (16, 16), (17, 9), (128, 16), (100, 15),
                                         (1, 1)])
def test_default_lanes_keep_the_fewest_chunks_with_the_fewest_idle_lanes(size, lanes):
    layer = DenseLayer(size=size, weights=IntWeights(bits=2, values=np.zeros((size, 1), int)),
                       neuron=Neuron(model="integrator", v=IntFormat(bits=8)))
    assert layer.default_lanes() == lanes


def test_accumulator_holds_the_worst_case_current_and_no_more():
    net = network_from_dict(valid())
    # layer 0: inputs up to 15; rows [1, -2, 0] and [8, 4, -1] -> I in [-30, 180]
    r = net.layers[0].current_range(net.input_max(0))
    assert (r.partial_lo, r.partial_hi, r.lo, r.hi) == (-30, 180, -30, 180)
    design = plan(net)
    assert design.layers[0].accumulator.bits == 9        # [-256, 255] holds 180, not [-128, 127]
    # layer 1: binary spikes, rows [3, -4] and [-8, 7] -> I in [-8, 7]
    assert design.layers[1].accumulator.bits == 4
    assert design.result.bits == 16                       # membrane read-out


def test_lanes_above_a_layers_maximum_are_reduced_to_it_in_both_forms():
    net = network_from_dict(valid())
    assert plan(net, 1).lanes == (1, 1)
    assert plan(net, [2, 1]).lanes == (2, 1)
    assert plan(net, 99).lanes == (2, 2)
    assert plan(net, [99, 3]).lanes == (2, 2)


@pytest.mark.parametrize("lanes, message", [
    ([1], r"^lanes must give one value per layer \(2\), not 1$"),
    ([0, 1], r"^lanes\[0\] must be a positive integer, not 0$"),
    (-1, r"^lanes\[0\] must be a positive integer, not -1$"),
    ([1, 2.5], r"^lanes\[1\] must be a positive integer, not 2.5$"),
])
def test_bad_lanes_are_named(lanes, message):
    with pytest.raises(ValueError, match=message):
        plan(network_from_dict(valid()), lanes)


def test_step_cycles_formula_counts_the_nonzero_input_values():
    design = plan(network_from_dict(valid()), [1, 2])
    values = np.array([[0, 0, 0], [5, 0, 1]])           # 0 and 2 non-zero of 3 inputs
    np.testing.assert_array_equal(design.layers[0].step_cycles(values), [2 * 1 + 11, 2 * 3 + 11])
    # layer 1: one chunk after another core, two entries per cycle: ceil(2 / 2) + 1 + 11
    assert design.layers[1].entries_per_cycle == 2 and design.layers[0].entries_per_cycle == 1
    np.testing.assert_array_equal(design.layers[1].step_cycles(np.array([[0, 0], [1, 0],
                                                                         [1, 1]])),
                                  [0 + 1 + 11, 1 + 1 + 11, 1 + 1 + 11])
    assert design.layers[0].cycle_formula == "2 * (n + 1) + 11"
    assert design.layers[1].cycle_formula == "1 * (ceil(n / 2) + 1) + 11"


def test_memory_geometry_follows_lanes_and_chunks():
    design = plan(network_from_dict(valid()), [1, 2])
    weights = design.layers[0].memory("weights")
    # 2 chunks of 1 lane, 3 inputs; PoT e in [0, 3]: 2 exponent bits + sign + zero
    assert (weights.depth, weights.width, weights.bits) == (6, 4, 24)
    assert design.layers[1].memory("membranes").bits == 1 * 2 * 16


def test_report_gives_the_weight_memory_beside_its_minimum():
    """The memory holds chunks * lanes rows of codes; the minimum is every weight at its code
    width: 3 chunks of 4 lanes for 10 neurons store 12 rows where 10 are needed."""
    from spikeshift.gen.flow.report import build_report, format_report
    from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
    weights = IntWeights(bits=5, values=np.arange(70).reshape(10, 7) % 9 - 4)
    layer = DenseLayer(size=10, weights=weights,
                       neuron=Neuron(model="if", threshold=4, v=IntFormat(bits=12)))
    net = Network(name="m", timesteps=2, input=InputSpec(size=7, bits=1), layers=(layer,),
                  output=OutputSpec(mode="spike_count"))
    report = build_report(plan(net, 4))
    memory = report["layers"][0]["weight_memory"]
    assert (memory["bits"], memory["minimum_bits"]) == (3 * 7 * 4 * 5, 10 * 7 * 5)
    assert report["totals"]["weight_memory_minimum_bits"] == 350
    assert "weight memory: 420 bits, the minimum 350 (every weight at its code width" in \
        format_report(report)


def test_report_gives_each_layers_lane_utilisation_and_the_streamed_networks():
    """Per layer: ideal (synaptic events / products per cycle) over model cycles. Streamed:
    every synaptic event over all products per cycle times the slowest layer's cycles; a
    paired core's lanes add two products per cycle."""
    from spikeshift.gen.flow.report import build_report, format_report
    from spikeshift.gen.ir.synthetic import random_inputs, random_network
    from spikeshift.sim.cycles import layer_inputs
    from spikeshift.sim.golden import trace
    rng = np.random.default_rng(3)
    net = random_network(rng)
    x = random_inputs(rng, net, 4)
    report = build_report(plan(net), inputs=layer_inputs(x, trace(net, x)))
    layers = report["layers"]
    for e in layers:
        assert e["lane_utilisation"] == e["ideal_cycles_per_inference"] / \
            e["model_cycles_per_inference"] <= 1
    slowest = max(e["model_cycles_per_inference"] for e in layers)
    assert [e["entries_per_cycle"] for e in layers] == [1, 1, 2]     # the last: one chunk
    expected = sum(e["sops_per_inference"] for e in layers) / (
        sum(e["lanes"] * e["entries_per_cycle"] for e in layers) * slowest)
    assert report["totals"]["streamed_lane_utilisation"] == pytest.approx(expected)
    assert "lanes busy" in format_report(report)
