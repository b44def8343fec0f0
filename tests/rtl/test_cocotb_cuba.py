"""The generated Verilog of networks of current-based LIF neurons (``cuba_lif``: a synaptic
current state beside every membrane) under cocotb (Icarus), against the golden and cycle
models, in the dense and conv2d cores."""

import dataclasses

import numpy as np
import pytest

import spikeshift
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.synthetic import random_inputs, random_network

from .test_cocotb_per_neuron import MAP_KINDS, verify_equal

pytestmark = pytest.mark.cocotb


def as_cuba(rng, net):
    """`net` with every firing neuron a cuba_lif: its leak kept (or none), a random synaptic
    decay (per neuron every other layer) and a current width from tight to roomy."""
    layers = []
    for index, layer in enumerate(net.layers):
        n = layer.neuron
        if n is None or not n.fires:
            layers.append(layer)
            continue
        size = net.layer_size(index)
        k = rng.integers(1, 5, size if index % 2 else None)
        i = IntFormat(bits=max(2, n.v.bits + int(rng.integers(-2, 3))))
        layers.append(dataclasses.replace(layer, neuron=dataclasses.replace(
            n, model="cuba_lif", syn_shift=k, i=i)))
    return dataclasses.replace(net, layers=tuple(layers))


def cuba_case(seed: int, **options):
    """A random network with at least one firing layer, made cuba_lif, and its inputs."""
    rng = np.random.default_rng(seed)
    while True:
        plain = random_network(rng, **options)
        if plain.timesteps > 2 and any(layer.neuron is not None and layer.neuron.fires
                                       for layer in plain.layers):
            break
    net = as_cuba(rng, plain)
    return plain, net, random_inputs(rng, net, 4), rng


def _check(net, x, lanes, tmp_path, seed):
    assert any(layer.neuron is not None and layer.neuron.has_synapse for layer in net.layers)
    verify_equal(net, x, lanes, tmp_path, seed)


@pytest.mark.parametrize("seed", range(3))
def test_dense_cuba_lif_verilog_matches_models(seed, tmp_path):
    _, net, x, rng = cuba_case(8000 + seed, max_timesteps=8)
    lanes = [int(rng.integers(1, layer.max_lanes + 1)) for layer in net.layers]
    _check(net, x, lanes, tmp_path, seed if seed == 2 else None)


@pytest.mark.parametrize("seed", range(3))
def test_conv_cuba_lif_verilog_matches_models(seed, tmp_path):
    kinds = MAP_KINDS[:1] if seed == 1 else MAP_KINDS
    _, net, x, rng = cuba_case(8100 + seed, kinds=kinds, max_size=12, max_timesteps=5)
    lanes = [int(rng.integers(1, layer.max_lanes + 1)) for layer in net.layers]
    _check(net, x, lanes, tmp_path, seed if seed == 2 else None)


def test_the_cuba_cases_carry_current_across_timesteps():
    """The synaptic state matters in these cases: with k_syn = 0 (I = the input: no state)
    the same networks give other outputs (all but one whose 2-bit current saturates at
    once either way)."""
    differ = 0
    for seed in range(3):
        _, net, x, _ = cuba_case(8000 + seed, max_timesteps=8)
        stateless = dataclasses.replace(net, layers=tuple(
            dataclasses.replace(layer, neuron=dataclasses.replace(layer.neuron, syn_shift=0))
            if layer.neuron is not None and layer.neuron.has_synapse else layer
            for layer in net.layers))
        differ += not np.array_equal(spikeshift.predict(net, x)[0],
                                     spikeshift.predict(stateless, x)[0])
    assert differ >= 2
