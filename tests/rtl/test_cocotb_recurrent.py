"""The generated Verilog of random recurrent networks under cocotb (Icarus) against the golden
and cycle models: every output, every layer-timestep cycle count and, gap-free, every latency."""

import numpy as np
import pytest

import spikeshift

from ..recurrent_cases import is_recurrent, recurrent_case

pytestmark = pytest.mark.cocotb

DEFAULT_SEEDS = range(5)
SLOW_SEEDS = range(5, 40)


def test_the_recurrent_cases_cover_every_option():
    cases = [recurrent_case(seed) for seed in [*DEFAULT_SEEDS, *SLOW_SEEDS]]
    layers = [layer for net, _, _ in cases for layer in net.layers if is_recurrent(layer)]
    assert {layer.recurrent.format for layer in layers} == {"pot", "int"}
    assert {layer.weights.format for layer in layers} == {"pot", "int"}
    assert {layer.neuron.spike_bits > 1 for layer in layers} == {True, False}
    assert {layer.neuron.model for layer in layers} == {"if", "lif", "cuba_lif"}
    assert {type(layer.neuron.leak).__name__ for layer in layers} >= {"NoneType", "ShiftLeak",
                                                                      "SubtractLeak"}
    assert {layer.neuron.reset for layer in layers} == {"subtract", "zero", "none"}
    assert {layer.recurrent_init is None for layer in layers} == {True, False}
    assert any(is_recurrent(net.layers[-1]) for net, _, _ in cases)
    assert any(len(net.layers) > 1 and is_recurrent(net.layers[0]) for net, _, _ in cases)
    lanes = [p for net, _, ls in cases for layer, p in zip(net.layers, ls) if is_recurrent(layer)]
    assert max(lanes) > 4 and min(lanes) == 1


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("seed", DEFAULT_SEEDS)
def test_generated_recurrent_verilog_matches_models(seed, gaps, tmp_path):
    """Gap-free (latency compared too) and with input gaps and output backpressure."""
    net, x, lanes = recurrent_case(seed)
    result = spikeshift.verify(net, x, lanes=lanes, build_dir=tmp_path,
                               seed=seed if gaps else None, progress=False)
    assert result.ok, result.first_difference
    np.testing.assert_array_equal(result.outputs, spikeshift.predict(net, x)[0])
    for layer, row in zip(net.layers, result.report["layers"]):
        names = {m["name"] for m in row["memories"]}
        assert ({"recurrent", "fed_back"} <= names) == is_recurrent(layer)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW_SEEDS)
def test_generated_recurrent_verilog_on_more_random_networks(seed, tmp_path):
    test_generated_recurrent_verilog_matches_models(seed, seed % 2 == 1, tmp_path)
