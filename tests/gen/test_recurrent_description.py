"""Recurrent dense layers in the description (DESIGN.md §3.1): round trips, refusals that
name the layer and the field, and a plan that refuses them until a core takes them."""


import numpy as np
import pytest

from spikeshift.gen.ir.design import plan
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


def test_plan_refuses_a_recurrent_layer_until_a_core_takes_it():
    with pytest.raises(ValueError, match=r"^layers\[0\] \(dense\) has recurrent weights, which "
                                         r"its hardware core does not take yet; spikeshift "
                                         r"predict runs it in the golden model$"):
        plan(network_from_dict(valid()))
