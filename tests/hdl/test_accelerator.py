# amaranth: UnusedElaboratable=no
import dataclasses

import numpy as np
import pytest

from spikeshift import trace
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.dense import DenseLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron
from spikeshift.gen.ir.synthetic import random_inputs, random_network
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
    # one spike per timestep: chunks * (1 + 1) + 8 cycles, whatever the fan-in
    assert (cycles[..., 0] == net.layers[0].size * 2 + 8).all()


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
    np.testing.assert_array_equal(cycles[..., 0], [[chunks * (1 + r + 1) + 8 for r in (2, 5, 5)]]
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
