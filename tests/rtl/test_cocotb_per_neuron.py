"""The generated Verilog of networks whose every neuron has its own threshold and leak
(DESIGN.md §3.1) under cocotb (Icarus), against the golden and cycle models: dense and conv2d
cores, per-lane constants from one chunk or a ROM, per-position or per-channel values."""

import dataclasses

import numpy as np
import pytest

import spikeshift
from spikeshift.gen.ir.neuron import ShiftLeak, SubtractLeak
from spikeshift.gen.ir.synthetic import random_inputs, random_network

pytestmark = pytest.mark.cocotb

MAP_KINDS = ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")


def _spread(rng, value: int, size: int, per_channel: int | None) -> np.ndarray:
    """`size` values around `value` (at least 1), the same for each run of `per_channel`."""
    count = size if per_channel is None else size // per_channel
    values = np.maximum(1, (value * rng.uniform(0.3, 1.7, count)).astype(np.int64))
    return values if per_channel is None else np.repeat(values, per_channel)


def per_neuron(rng, net, *, per_channel: bool = False):
    """`net` with every neuron's threshold and leak made per neuron (per output channel of a
    conv2d when `per_channel`)."""
    layers = []
    for index, layer in enumerate(net.layers):
        n = layer.neuron
        if n is None:
            layers.append(layer)
            continue
        size = net.layer_size(index)
        run = size // layer.out_channels if per_channel and layer.kind == "conv2d" else None
        changes = {}
        if n.fires:
            theta = np.minimum(_spread(rng, n.threshold_max, size, run), n.v.max)
            if n.spike_bits > 1:
                theta = 1 << (np.frexp(theta.astype(float))[1] - 1)
            changes["threshold"] = theta
        if isinstance(n.leak, ShiftLeak):
            changes["leak"] = ShiftLeak(shift=_spread(rng, 3, size, run) - 1)
        elif isinstance(n.leak, SubtractLeak):
            changes["leak"] = SubtractLeak(amount=_spread(rng, n.threshold_max or 8, size, run)
                                           // 4)
        layers.append(dataclasses.replace(layer, neuron=dataclasses.replace(n, **changes)))
    return dataclasses.replace(net, layers=tuple(layers))


def verify_equal(net, x, lanes, tmp_path, seed=None):
    """The generated Verilog of `net` equals the golden and cycle models on `x`."""
    result = spikeshift.verify(net, x, lanes=lanes, build_dir=tmp_path, seed=seed,
                               progress=False)
    assert result.ok, result.first_difference
    np.testing.assert_array_equal(result.outputs, spikeshift.predict(net, x)[0])


def _check(net, x, lanes, tmp_path, seed=None):
    assert any(layer.neuron is not None and "threshold" in layer.neuron.per_neuron
               for layer in net.layers)
    verify_equal(net, x, lanes, tmp_path, seed)


@pytest.mark.parametrize("seed", range(4))
def test_dense_verilog_with_per_neuron_thresholds_and_leaks_matches_models(seed, tmp_path):
    rng = np.random.default_rng(7000 + seed)
    net = per_neuron(rng, random_network(rng))
    x = random_inputs(rng, net, 4)
    lanes = [int(rng.integers(1, layer.max_lanes + 1)) for layer in net.layers]
    _check(net, x, lanes, tmp_path, seed=seed if seed % 2 else None)


@pytest.mark.parametrize("seed", range(4))
def test_conv_verilog_with_per_neuron_thresholds_and_leaks_matches_models(seed, tmp_path):
    rng = np.random.default_rng(7100 + seed)
    kinds = MAP_KINDS[:1] if seed % 2 else MAP_KINDS
    net = random_network(rng, kinds=kinds, max_size=12, max_timesteps=4)
    net = per_neuron(rng, net, per_channel=seed >= 2)
    x = random_inputs(rng, net, 3, activity=0.5)
    lanes = [int(rng.integers(1, layer.max_lanes + 1)) for layer in net.layers]
    _check(net, x, lanes, tmp_path, seed=seed if seed == 3 else None)


def test_the_per_neuron_cases_fire_with_differing_thresholds_on_several_chunks():
    nets = [per_neuron(rng, random_network(rng))
            for rng in (np.random.default_rng(7000 + s) for s in range(4))]
    layers = [layer for net in nets for layer in net.layers]
    assert all(len(set(layer.neuron.threshold_array(layer.size).tolist())) > 1
               for layer in layers if layer.neuron.fires and layer.size > 3)
    assert {type(layer.neuron.leak).__name__ for layer in layers} >= {"ShiftLeak",
                                                                      "SubtractLeak"}
