# amaranth: UnusedElaboratable=no
import dataclasses

import numpy as np
import pytest

from spikeshift import trace
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.dense import STEP_OVERHEAD, DenseLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron
from spikeshift.gen.ir.synthetic import direct_network, random_inputs, random_network
from spikeshift.gen.ir.weights import IntWeights
from spikeshift.hdl.top import Accelerator
from spikeshift.sim.cycles import layer_inputs, step_cycles

from ..recurrent_cases import is_recurrent, recurrent_case
from .harness import rtl_accelerator


@pytest.mark.parametrize("seed", range(24))
def test_accelerator_matches_golden_and_cycle_models_with_gaps_and_backpressure(seed):
    rng = np.random.default_rng(1000 + seed)
    net = random_network(rng)
    x = random_inputs(rng, net, 3)
    x[0, 0] = 0                                     # an empty timestep
    lanes = [int(rng.integers(1, layer.size + 1)) for layer in net.layers]
    _check_against_models(net, x, lanes, seed)


def _check_against_models(net, x, lanes, seed):
    design = plan(net, lanes)
    golden = trace(net, x)
    outputs, cycles = rtl_accelerator(Accelerator(design), x, seed=seed)
    np.testing.assert_array_equal(outputs, golden.outputs)
    np.testing.assert_array_equal(cycles, step_cycles(design, layer_inputs(x, golden)))


def test_accelerator_iterates_only_over_nonzero_inputs():
    rng = np.random.default_rng(5)
    net = random_network(rng, max_layers=1)
    design = plan(net, 1)
    x = np.zeros((1, net.timesteps, net.input.size), np.int64)
    x[0, :, 0] = 1
    _, cycles = rtl_accelerator(Accelerator(design), x)
    # one spike per timestep: chunks * (1 + 1) + 11 cycles, whatever the fan-in
    assert (cycles[..., 0] == net.layers[0].size * 2 + 11).all()


@pytest.mark.parametrize("seed", range(16))
def test_recurrent_accelerator_matches_golden_and_cycle_models_with_gaps_and_backpressure(seed):
    _check_against_models(*recurrent_case(seed), seed)


def test_recurrent_core_walks_only_its_nonzero_previous_spikes():
    # Each neuron fires every timestep on its own input (θ = 1) and feeds back through
    # weight 0, so timestep t > 0 walks n = 1 input and r = size spikes, t = 0 only r(-1).
    size, lanes = 5, 2
    net = Network(name="loop", timesteps=3, input=InputSpec(size=4, bits=1), layers=(
        DenseLayer(size=size, weights=IntWeights(bits=3, values=np.ones((size, 4), int)),
                   neuron=Neuron(model="if", v=IntFormat(bits=6), threshold=1, reset="zero"),
                   recurrent=IntWeights(bits=3, values=np.zeros((size, size), int)),
                   recurrent_init=[0, 1, 0, 0, 1]),), output=OutputSpec(mode="spike_count"))
    x = np.zeros((2, 3, 4), np.int64)
    x[:, :, 3] = 1
    outputs, cycles = rtl_accelerator(Accelerator(plan(net, lanes)), x)
    np.testing.assert_array_equal(outputs, [[3] * size] * 2)
    chunks = 3
    np.testing.assert_array_equal(cycles[..., 0], [[chunks * (1 + r + 1) + 11 for r in (2, 5, 5)]]
                                  * 2)


@pytest.mark.parametrize("seed", range(4))
def test_a_recurrent_core_feeds_r_init_back_at_every_samples_first_timestep(seed):
    # T = 1: every timestep is a sample's first, so only r(-1) is ever fed back.
    net, x, lanes = recurrent_case(seed)
    layers = tuple(dataclasses.replace(layer, recurrent_init=np.full(
        layer.size, layer.neuron.spike_max)) if is_recurrent(layer) else layer
        for layer in net.layers)
    net = dataclasses.replace(net, timesteps=1, layers=layers)
    _check_against_models(net, x[:, :1], lanes, seed)


@pytest.mark.parametrize("seed", range(12))
def test_direct_input_is_sent_once_and_matches_golden_and_cycle_models(seed):
    rng = np.random.default_rng(7000 + seed)
    net = direct_network(random_network(rng, recurrent=0.3 if seed % 3 == 2 else 0.0))
    x = random_inputs(rng, net, 3)
    x[1] = 0                                        # an empty sample: one beat, once
    lanes = [int(rng.integers(1, layer.size + 1)) for layer in net.layers]
    if seed % 4 == 0:
        lanes[0] = 1                                # many chunks
    _check_against_models(net, x, lanes, seed)


@pytest.mark.parametrize("lanes", [1, 3, 7])
def test_a_held_current_fires_its_chunks_only_after_the_first_timestep(lanes):
    # 7 neurons over an input of 5; any input activity, then chunks + 3 cycles per timestep
    # (and the same results as the per-timestep network that walks the inputs again).
    rng = np.random.default_rng(lanes)
    layer = DenseLayer(size=7, weights=IntWeights(bits=4, values=rng.integers(-8, 8, (7, 5))),
                       neuron=Neuron(model="if", v=IntFormat(bits=10), threshold=9),
                       bias=rng.integers(-3, 4, 7))
    net = Network(name="held", timesteps=4, input=InputSpec(size=5, bits=3), layers=(layer,),
                  output=OutputSpec(mode="spike_count"))
    x = np.repeat(rng.integers(0, 8, (3, 1, 5)), 4, axis=1)
    x[2] = 0
    outputs, cycles = rtl_accelerator(Accelerator(plan(direct_network(net), lanes)), x)
    np.testing.assert_array_equal(outputs, trace(net, x).outputs)
    chunks = -(-7 // lanes)
    n = np.count_nonzero(x[:, 0], axis=1)
    np.testing.assert_array_equal(cycles[..., 0], [[chunks * (k + 1) + STEP_OVERHEAD]
                                                   + [chunks + STEP_OVERHEAD] * 3 for k in n])
    assert outputs.any() and n[0] > 1
