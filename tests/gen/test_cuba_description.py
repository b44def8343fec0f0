"""The current-based LIF neuron (``model: "cuba_lif"``) in the description: its fields, the
defaults, round trips and one message per bad value."""

import numpy as np
import pytest

from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.network import network_from_dict, network_to_dict
from spikeshift.gen.ir.neuron import Neuron

from . import test_description
from .round_trip import assert_round_trips


def cuba(**neuron):
    obj = test_description.valid()
    obj["layers"][0]["neuron"] |= {"model": "cuba_lif", "syn_shift": 2, "i_bits": 10} | neuron
    return obj


def test_cuba_lif_loads_its_synapse_and_writes_it_back(tmp_path):
    net = network_from_dict(cuba(leak={"shift": 3}))
    n = net.layers[0].neuron
    assert n.has_synapse and n.syn_shift == 2 and n.i == IntFormat(bits=10) and n.fires
    assert network_to_dict(net)["layers"][0]["neuron"] == {
        "model": "cuba_lif", "threshold": 12, "leak": {"shift": 3}, "reset": "subtract",
        "spike_bits": 1, "v_init": 8, "v_bits": 12, "syn_shift": 2, "i_bits": 10}
    x = np.random.default_rng(0).integers(0, 16, (4, 4, 3))
    assert_round_trips(net, x, tmp_path, "cuba")


def test_cuba_lif_defaults_i_bits_to_v_bits_and_takes_no_leak_or_a_per_neuron_syn_shift(
        tmp_path):
    obj = cuba(syn_shift=[1, 4])
    del obj["layers"][0]["neuron"]["i_bits"]
    net = network_from_dict(obj)
    n = net.layers[0].neuron
    assert n.i == n.v and n.leak is None and n.per_neuron == ("syn_shift",)
    np.testing.assert_array_equal(n.syn_shift, [1, 4])
    x = np.random.default_rng(1).integers(0, 16, (4, 4, 3))
    assert_round_trips(net, x, tmp_path, "cuba_per_neuron")


def test_other_models_keep_their_json_without_synapse_fields():
    neuron = network_to_dict(network_from_dict(test_description.valid()))["layers"][0]["neuron"]
    assert "syn_shift" not in neuron and "i_bits" not in neuron


@pytest.mark.parametrize("obj, error, message", [
    (cuba(syn_shift=63), ValueError,
     "layers[0].neuron.syn_shift must be an integer in [0, 62], not 63"),
    (cuba(syn_shift=[1, -1]), ValueError,
     "layers[0].neuron.syn_shift[1] must be an integer in [0, 62], not -1"),
    (cuba(syn_shift=[1, 2, 3]), ValueError,
     "layers[0].neuron.syn_shift must hold one value per neuron (2), not 3"),
    (cuba(syn_shift=None), ValueError,
     "layers[0].neuron.syn_shift must be given for model 'cuba_lif', not None"),
    (cuba(i_bits=1), ValueError, "layers[0].neuron.i_bits must be an integer in [2, 48], not 1"),
    (cuba(i_bits="16"), ValueError,
     "layers[0].neuron.i_bits must be an integer in [2, 48], not '16'"),
    (cuba(model="lif", leak={"shift": 1}), ValueError,
     "layers[0].neuron.syn_shift applies only to model 'cuba_lif', not 'lif'"),
])
def test_bad_cuba_lif_field_gets_one_message(obj, error, message):
    with pytest.raises(error) as info:
        network_from_dict(obj)
    assert str(info.value) == message


def test_i_bits_applies_only_to_cuba_lif():
    with pytest.raises(ValueError, match=r"^i_bits applies only to model 'cuba_lif', "
                                         r"not 'if'$"):
        Neuron(model="if", v=IntFormat(bits=8), threshold=4, i=IntFormat(bits=8))
