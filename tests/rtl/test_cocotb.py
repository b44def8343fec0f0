"""The generated Verilog under cocotb (Icarus) against the golden and cycle models."""

import numpy as np
import pytest

import spikeshift
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.dense import DenseLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron
from spikeshift.gen.ir.synthetic import random_inputs, random_network
from spikeshift.gen.ir.weights import PotWeights
from spikeshift.sim import golden

pytestmark = pytest.mark.cocotb


@pytest.mark.parametrize("seed", range(6))
def test_generated_verilog_matches_models_gap_free_including_latency(seed, tmp_path):
    rng = np.random.default_rng(2000 + seed)
    net = random_network(rng)
    x = random_inputs(rng, net, 5)
    x[1, 0] = 0
    lanes = [int(rng.integers(1, layer.size + 1)) for layer in net.layers]
    result = spikeshift.verify(net, x, lanes=lanes, build_dir=tmp_path, progress=False)
    assert result.ok, result.first_difference
    np.testing.assert_array_equal(result.outputs, spikeshift.predict(net, x)[0])
    assert (result.latency > 0).all()


@pytest.mark.parametrize("seed", range(4))
def test_generated_verilog_matches_models_with_gaps_and_backpressure(seed, tmp_path):
    rng = np.random.default_rng(3000 + seed)
    net = random_network(rng)
    x = random_inputs(rng, net, 5)
    result = spikeshift.verify(net, x, build_dir=tmp_path, seed=seed, progress=False)
    assert result.ok, result.first_difference


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_generated_verilog_on_more_random_networks(seed, tmp_path):
    rng = np.random.default_rng(4000 + seed)
    net = random_network(rng, max_size=40, max_timesteps=8)
    x = random_inputs(rng, net, 8)
    result = spikeshift.verify(net, x, build_dir=tmp_path, seed=seed if seed % 2 else None,
                               progress=False)
    assert result.ok, result.first_difference


def test_a_one_bit_change_in_the_golden_model_fails_verification(tmp_path, monkeypatch):
    # v reaches θ exactly, so firing on v > θ instead of v >= θ changes the outputs.
    neuron = Neuron(model="if", v=IntFormat(bits=8), threshold=4, reset="subtract")
    layer = DenseLayer(size=2, weights=PotWeights(e_min=0, e_max=2, values=[[4], [2]]),
                       neuron=neuron)
    net = Network(name="edge", timesteps=4, input=InputSpec(size=1, bits=1), layers=(layer,),
                  output=OutputSpec(mode="spike_count"))
    x = np.ones((2, 4, 1), np.int64)
    assert spikeshift.verify(net, x, build_dir=tmp_path / "right", progress=False).ok
    original = golden.ref_fire

    def fire_one_lsb_late(v, neuron):
        return original(v - 1, neuron)
    monkeypatch.setattr(golden, "ref_fire", fire_one_lsb_late)
    assert not np.array_equal(spikeshift.predict(net, x)[0], [[4, 2], [4, 2]])
    result = spikeshift.verify(net, x, build_dir=tmp_path / "mutated", progress=False)
    assert not result.ok
    assert result.first_difference == "output differs at sample 0, neuron 0: RTL 4, model 3"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [None, 3])
def test_generated_verilog_under_verilator(seed, tmp_path):
    """The bench wakes on changes, not edges: under Verilator too it records every cycle
    count, gap-free (latency included) and with gaps and backpressure."""
    rng = np.random.default_rng(5000)
    net = random_network(rng)
    x = random_inputs(rng, net, 5)
    result = spikeshift.verify(net, x, simulator="verilator", build_dir=tmp_path, seed=seed,
                               progress=False)
    assert result.ok, result.first_difference
    assert result.simulator == "verilator" and result.cycles_per_second > 0
