# amaranth: UnusedElaboratable=no
import numpy as np
import pytest

from spikeshift import trace
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.synthetic import random_inputs, random_network
from spikeshift.hdl.top import Accelerator
from spikeshift.sim.cycles import layer_inputs, step_cycles

from .harness import rtl_accelerator


@pytest.mark.parametrize("seed", range(24))
def test_accelerator_matches_golden_and_cycle_models_with_gaps_and_backpressure(seed):
    rng = np.random.default_rng(1000 + seed)
    net = random_network(rng)
    x = random_inputs(rng, net, 3)
    x[0, 0] = 0                                     # an empty timestep
    lanes = [int(rng.integers(1, layer.size + 1)) for layer in net.layers]
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
    # one spike per timestep: chunks * (1 + 1) + 3 cycles, whatever the fan-in
    assert (cycles[..., 0] == net.layers[0].size * 2 + 3).all()
