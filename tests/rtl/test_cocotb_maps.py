"""The generated Verilog of conv networks under cocotb (Icarus) against the golden and cycle
models: input map -> conv2d / sumpool2d / maxpool2d layers -> flatten -> dense, and (every
third case) chains that end in a conv2d, whose membranes or spike counts are the results."""

import numpy as np
import pytest

import spikeshift
from spikeshift.gen.ir.synthetic import random_inputs, random_network

pytestmark = pytest.mark.cocotb

MAP_KINDS = ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")
DEFAULT_SEEDS = range(5)
SLOW_SEEDS = range(5, 60)


def conv_case(seed: int):
    """A random conv network, random lanes and 3 samples (one with an empty timestep)."""
    rng = np.random.default_rng(6000 + seed)
    kinds = MAP_KINDS[:3] if seed % 3 == 2 else MAP_KINDS
    net = random_network(rng, kinds=kinds, max_size=12, max_timesteps=4)
    x = random_inputs(rng, net, 3, activity=float(rng.uniform(0.2, 0.8)))
    x[0, 0] = 0
    lanes = [int(rng.integers(1, layer.max_lanes + 1)) for layer in net.layers]
    return net, x, lanes


def test_the_conv_cases_cover_every_map_option():
    layers = [layer for seed in [*DEFAULT_SEEDS, *SLOW_SEEDS]
              for layer in conv_case(seed)[0].layers]
    convs = [layer for layer in layers if layer.kind == "conv2d"]
    assert {k for c in convs for k in c.kernel} == {1, 2, 3, 4, 5}
    assert {s for c in convs for s in c.stride} == {1, 2}
    assert {p for c in convs for p in c.padding} == {0, 1, 2}
    assert any(c.kernel[0] != c.kernel[1] for c in convs)
    assert {c.weights.format for c in convs} == {"pot", "int"}
    assert {c.neuron.spike_bits > 1 for c in convs} == {True, False}
    assert {c.neuron.reset for c in convs} == {"subtract", "zero", "none"}
    assert {layer.kind for layer in layers} == set(MAP_KINDS)
    assert any(c.in_channels > 1 and c.out_channels > 1 for c in convs)
    endings = {(case.layers[-1].kind, case.output.mode)
               for case in (conv_case(seed)[0] for seed in [*DEFAULT_SEEDS, *SLOW_SEEDS])}
    assert {("conv2d", "membrane"), ("conv2d", "spike_count"), ("dense", "membrane"),
            ("dense", "spike_count")} <= endings


def _check(seed, tmp_path, gaps: bool):
    net, x, lanes = conv_case(seed)
    result = spikeshift.verify(net, x, lanes=lanes, build_dir=tmp_path,
                               seed=seed if gaps else None, progress=False)
    assert result.ok, result.first_difference
    assert (result.step_cycles > 0).all()


@pytest.mark.parametrize("seed", DEFAULT_SEEDS)
def test_generated_conv_verilog_matches_models_gap_free_including_latency(seed, tmp_path):
    _check(seed, tmp_path, gaps=False)


@pytest.mark.parametrize("seed", DEFAULT_SEEDS)
def test_generated_conv_verilog_matches_models_with_gaps_and_backpressure(seed, tmp_path):
    _check(seed, tmp_path, gaps=True)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW_SEEDS)
def test_generated_conv_verilog_on_more_random_networks(seed, tmp_path):
    _check(seed, tmp_path, gaps=seed % 2 == 1)
