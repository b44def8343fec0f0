"""Recurrent dense layers in the description (DESIGN.md §3.1): round trips, refusals that
name the layer and the field, and the plan of their core (memories, schedule)."""


import numpy as np
import pytest

from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.kinds.dense import fed_back_lists
from spikeshift.gen.ir.network import network_from_dict
from spikeshift.gen.ir.synthetic import random_inputs, random_network

from .round_trip import assert_round_trips


def valid():
    return {
        "format": "spikeshift-network", "version": 1, "name": "rnn", "timesteps": 3,
        "input": {"size": 2, "bits": 1},
        "layers": [
            {"kind": "dense", "size": 3,
             "weights": {"format": "int", "bits": 4, "values": [[1, 2], [3, -1], [0, 2]]},
             "recurrent": {"format": "pot", "e_min": 0, "e_max": 2,
                           "values": [[0, 1, -2], [4, 0, 0], [-1, 1, 1]]},
             "recurrent_init": [1, 0, 1],
             "neuron": {"model": "if", "threshold": 2, "v_bits": 6}},
            {"kind": "dense", "size": 2,
             "weights": {"format": "int", "bits": 4, "values": [[1, 1, 0], [0, 1, 1]]},
             "neuron": {"model": "integrator", "v_bits": 8}}],
        "output": {"mode": "membrane"},
    }


def test_recurrent_descriptions_round_trip_inline_and_through_npz(tmp_path):
    rng = np.random.default_rng(2)
    seen = 0
    for seed in range(20):
        net = random_network(np.random.default_rng(seed), recurrent=1.0)
        seen += any(getattr(layer, "recurrent", None) is not None for layer in net.layers)
        assert_round_trips(net, random_inputs(rng, net, 3), tmp_path, f"net_{seed}")
    assert seen >= 15


def test_the_hand_description_reads_and_feeds_back():
    net = network_from_dict(valid())
    layer = net.layers[0]
    assert layer.recurrent.values.tolist() == [[0, 1, -2], [4, 0, 0], [-1, 1, 1]]
    assert layer.recurrent_init.tolist() == [1, 0, 1]
    # worst case: inputs 1 on w, spikes 1 on u (spike_max), bias 0
    assert (layer.current_range(1).lo, layer.current_range(1).hi) == (-2, 7)


def edited(layer_fields: dict, drop=()):
    obj = valid()
    obj["layers"][0] |= layer_fields
    for key in drop:
        del obj["layers"][0][key]
    return obj


@pytest.mark.parametrize("fields, drop, message", [
    ({"recurrent": {"format": "int", "bits": 4, "values": [[1, 2], [3, 4], [5, 6]]}}, (),
     "layers[0].recurrent.values must be size x size (3 x 3), not 3 x 2"),
    ({"recurrent_init": [1, 2, 0]}, (),
     "layers[0].recurrent_init[1] must be a spike value in [0, 1], not 2"),
    ({"recurrent_init": [1, 0]}, (),
     "layers[0].recurrent_init must hold one spike value per neuron (3), not 2"),
    ({}, ("recurrent",), "layers[0].recurrent_init needs recurrent weights, not None"),
    ({"neuron": {"model": "integrator", "v_bits": 6}}, (),
     ("layers[0].recurrent weights need a neuron that fires; an integrator has no spikes to "
      "feed back")),
])
def test_bad_recurrence_is_refused_naming_layer_and_field(fields, drop, message):
    with pytest.raises(ValueError) as info:
        network_from_dict(edited(fields, drop))
    assert str(info.value) == message


def test_a_recurrent_layer_plans_its_recurrent_memories_and_its_schedule():
    net = network_from_dict(valid())
    layer = net.layers[0]
    lp = plan(net, [2, 2]).layers[0]
    assert lp.recurrent and lp.event_size == 2 + 3
    assert lp.cycle_formula == "2 * (n + r + 1) + 11"
    # r(-1) = [1, 0, 1]: neurons 0 and 2 are lane 0 of chunks 0 and 1
    assert fed_back_lists(layer, 2) == [[(0, 1), (2, 1)], []]
    memories = {m.name: (m.depth, m.width) for m in lp.memories}
    assert memories["recurrent"] == (2 * 3, 2 * layer.recurrent.code_bits)
    # two slots of 2 entries per bank, then r(-1); an entry is a 2-bit index and a 1-bit value
    assert memories["fed_back"] == (2 * 2 + 2, 2 * (2 + 1))
    # inputs [1, 0] and fed-back spikes [1, 1, 0]: n = 1, r = 2
    assert lp.step_cycles(np.array([1, 0, 1, 1, 0])) == 2 * (1 + 2 + 1) + 11
    assert lp.synaptic_events(np.array([1, 0, 1, 1, 0])) == 3 * 3


def test_a_recurrent_int_layer_with_multi_bit_spikes_counts_its_multipliers():
    obj = edited({"recurrent": {"format": "int", "bits": 3, "values": np.eye(3, dtype=int)
                                .tolist()},
                  "neuron": {"model": "if", "threshold": 2, "v_bits": 6, "spike_bits": 2}})
    lp = plan(network_from_dict(obj), [3, 2]).layers[0]
    assert lp.multipliers == 3           # binary inputs on int weights: selects only
