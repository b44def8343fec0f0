# amaranth: UnusedElaboratable=no
"""The map cores (conv2d, pooling, flatten) in the whole accelerator under amaranth.sim."""

import numpy as np
import pytest

from spikeshift import trace
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.conv2d import Conv2dLayer
from spikeshift.gen.ir.kinds.dense import DenseLayer
from spikeshift.gen.ir.kinds.flatten import FlattenLayer
from spikeshift.gen.ir.kinds.sumpool2d import SumPool2dLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron
from spikeshift.gen.ir.synthetic import conv_pot_network, random_inputs, random_network
from spikeshift.gen.ir.weights import IntWeights, PotWeights
from spikeshift.hdl.top import Accelerator
from spikeshift.sim.cycles import layer_inputs, step_cycles

from .harness import rtl_accelerator

MAP_KINDS = ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")


@pytest.mark.parametrize("seed", range(6))
def test_conv_accelerator_matches_golden_and_cycle_models_with_gaps_and_backpressure(seed):
    rng = np.random.default_rng(7000 + seed)
    kinds = MAP_KINDS[:3] if seed % 2 else MAP_KINDS        # odd seeds: a conv2d is last
    net = random_network(rng, kinds=kinds, max_size=8, max_map=7, max_timesteps=3)
    x = random_inputs(rng, net, 2)
    x[0, 0] = 0                                     # an empty timestep
    design = plan(net, [int(rng.integers(1, layer.max_lanes + 1)) for layer in net.layers])
    golden = trace(net, x)
    outputs, cycles = rtl_accelerator(Accelerator(design), x, seed=seed)
    np.testing.assert_array_equal(outputs, golden.outputs)
    np.testing.assert_array_equal(cycles, step_cycles(design, layer_inputs(x, golden)))


def border_network(pool: bool) -> Network:
    """[1, 5, 5] binary input -> 3x3 conv, padding 1 (two output channels) [-> 2x2 sum pool,
    stride 1] -> flatten -> one integrator."""
    conv = Conv2dLayer(out_channels=2, kernel=3, padding=1,
                       weights=PotWeights(e_min=0, e_max=1, ndim=4,
                                          values=np.ones((2, 1, 3, 3), int)),
                       neuron=Neuron(model="if", v=IntFormat(bits=6), threshold=1))
    layers = [conv, SumPool2dLayer(kernel=2, stride=1)] if pool else [conv]
    fan_in = 2 * (16 if pool else 25)
    layers += [FlattenLayer(), DenseLayer(size=1, weights=IntWeights(bits=2, values=np.ones(
        (1, fan_in), int)), neuron=Neuron(model="integrator", v=IntFormat(bits=12)))]
    return Network(name="border", timesteps=1, input=InputSpec(size=25, bits=1, shape=(1, 5, 5)),
                   layers=tuple(layers), output=OutputSpec(mode="membrane"))


@pytest.mark.parametrize("pool", [False, True])
def test_an_event_costs_its_valid_window_positions_only(pool):
    net = border_network(pool)
    design = plan(net, 2 if not pool else [2, 1, 1, 1])
    x = np.zeros((3, 1, 25), np.int64)
    x[0, 0, 0] = 1                                  # corner: 2 x 2 of the 3 x 3 positions
    x[1, 0, 12] = 1                                 # centre: all 9
    x[2, 0, [0, 12]] = 1                            # both, back to back
    outputs, cycles = rtl_accelerator(Accelerator(design), x)
    np.testing.assert_array_equal(outputs, trace(net, x).outputs)
    fire = 25                                       # one chunk of 2 lanes over 5 x 5 positions
    np.testing.assert_array_equal(cycles[:, 0, 0], [4 + fire + 4, 9 + fire + 4,
                                                    13 + fire + 4])
    if pool:
        # the conv fires on every position it reached: 4, 9, 9 of 25 per channel; each
        # 2 x 2 window position there falls in 1-4 windows of the 4 x 4 output
        np.testing.assert_array_equal(cycles[:, 0, 2], step_cycles(
            design, layer_inputs(x, trace(net, x)))[:, 0, 2])
        assert cycles[0, 0, 1] < cycles[1, 0, 1]


def test_the_benchmark_conv_network_fires_in_every_stage_and_plans():
    rng = np.random.default_rng(0)
    net = conv_pot_network(rng, side=8, channels=(4, 4), timesteps=2)
    x = (rng.random((2, 2, 64)) < 0.3).astype(np.int64)
    result = trace(net, x)
    assert [layer.kind for layer in net.layers] == ["conv2d", "maxpool2d"] * 2 + ["flatten",
                                                                                 "dense"]
    assert all(result.spikes[i].any() for i in range(4))
    # balanced: the 10 read-outs walk 64 inputs in 10 chunks, still faster than the convs
    assert plan(net).lanes == (4, 1, 4, 1, 1, 1)
