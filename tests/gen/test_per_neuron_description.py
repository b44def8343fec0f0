"""Per-neuron threshold, leak and v_init (DESIGN.md §3.1) in the description: round trips,
the scalar form unchanged, and one message per bad value naming the field, index and range."""

import json

import numpy as np
import pytest

from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.network import network_from_dict, network_to_dict
from spikeshift.gen.ir.neuron import Neuron, ShiftLeak, SubtractLeak

from . import test_description, test_map_description
from .round_trip import assert_round_trips


def per_neuron(neuron: dict, layers=None, map_=False):
    module = test_map_description if map_ else test_description
    obj = module.valid()
    obj["layers"][0]["neuron"] |= neuron
    return obj


def test_per_neuron_values_load_as_arrays_and_round_trip_inline_and_through_npz(tmp_path):
    obj = per_neuron({"model": "lif", "threshold": [12, 5], "leak": {"shift": [1, 3]},
                      "v_init": [8, -2]})
    obj["layers"][1]["neuron"]["leak"] = {"subtract": [2, 7]}
    net = network_from_dict(obj)
    first, last = net.layers[0].neuron, net.layers[1].neuron
    np.testing.assert_array_equal(first.threshold, [12, 5])
    np.testing.assert_array_equal(first.leak.shift, [1, 3])
    np.testing.assert_array_equal(last.leak.amount, [2, 7])
    assert first.per_neuron == ("threshold", "leak", "v_init")
    assert last.per_neuron == ("leak",)
    assert network_to_dict(net)["layers"][0]["neuron"] == {
        "model": "lif", "threshold": [12, 5], "leak": {"shift": [1, 3]}, "reset": "subtract",
        "spike_bits": 1, "v_init": [8, -2], "v_bits": 12}
    x = np.random.default_rng(0).integers(0, 16, (5, 4, 3))
    npz = assert_round_trips(net, x, tmp_path, "per_neuron")[1]
    saved = json.loads((tmp_path / "per_neuron_npz.json").read_text())["layers"]
    assert saved[0]["neuron"]["threshold"] == {"npz": "per_neuron_npz.npz",
                                               "key": "layers.0.threshold"}
    assert set(saved[0]["neuron"]["leak"]["shift"]) == {"npz", "key"}
    assert set(saved[1]["neuron"]["leak"]["subtract"]) == {"npz", "key"}
    np.testing.assert_array_equal(npz.layers[0].neuron.leak.shift, [1, 3])


def test_a_single_value_keeps_todays_json():
    obj = test_description.valid()
    obj["layers"][0]["neuron"] |= {"model": "lif", "leak": {"shift": 2}}
    neuron = network_to_dict(network_from_dict(obj))["layers"][0]["neuron"]
    assert neuron == obj["layers"][0]["neuron"]
    assert isinstance(neuron["threshold"], int) and isinstance(neuron["leak"]["shift"], int)


def test_conv2d_takes_one_value_per_output_neuron_in_flat_order(tmp_path):
    theta = np.arange(60) % 7 + 1                   # 3 x 5 x 4 output neurons
    obj = per_neuron({"threshold": theta.tolist(), "model": "lif",
                      "leak": {"subtract": (np.arange(60) % 3).tolist()}}, map_=True)
    net = network_from_dict(obj)
    np.testing.assert_array_equal(net.layers[0].neuron.threshold, theta)
    x = np.random.default_rng(1).integers(0, 2, (3, 2, 60))
    assert_round_trips(net, x, tmp_path, "conv_per_neuron")


@pytest.mark.parametrize("neuron, map_, error, message", [
    ({"threshold": [12, 5000]}, False, ValueError,
     "layers[0].neuron.threshold[1] must be an integer in [1, 2047], not 5000"),
    ({"threshold": [12, 0]}, False, ValueError,
     "layers[0].neuron.threshold[1] must be an integer in [1, 2047], not 0"),
    ({"threshold": [12, "5"]}, False, TypeError,
     "layers[0].neuron.threshold[1] must be an integer, not '5'"),
    ({"threshold": [12, 5.5]}, False, TypeError,
     "layers[0].neuron.threshold[1] must be an integer, not 5.5"),
    ({"threshold": [[12, 5]]}, False, ValueError,
     ("layers[0].neuron.threshold must be a 1-dimensional array of integers, not one of "
      "shape (1, 2)")),
    ({"threshold": []}, False, ValueError,
     "layers[0].neuron.threshold must hold one value per neuron, not an empty list"),
    ({"threshold": [16, 4, 8]}, False, ValueError,
     "layers[0].neuron.threshold must hold one value per neuron (2), not 3"),
    ({"threshold": [16, 12], "spike_bits": 2}, False, ValueError,
     "layers[0].neuron.threshold[1] must be a power of two when spike_bits > 1, not 12"),
    ({"model": "lif", "leak": {"shift": [1, 63]}}, False, ValueError,
     "layers[0].neuron.leak.shift[1] must be an integer in [0, 62], not 63"),
    ({"model": "lif", "leak": {"shift": [1]}}, False, ValueError,
     "layers[0].neuron.leak.shift must hold one value per neuron (2), not 1"),
    ({"model": "lif", "leak": {"subtract": [-1, 2]}}, False, ValueError,
     "layers[0].neuron.leak.subtract[0] must be an integer in [0, 281474976710656], not -1"),
    ({"model": "lif", "leak": {"subtract": [1, 2, 3]}}, False, ValueError,
     "layers[0].neuron.leak.subtract must hold one value per neuron (2), not 3"),
    ({"threshold": [4, 5, 6]}, True, ValueError,
     ("layers[0].neuron.threshold must hold one value per neuron (60), not 3; give a value "
      "per output channel as one per neuron, each repeated 20 times (flat order c, y, x)")),
])
def test_bad_per_neuron_value_gets_one_message_naming_field_index_and_range(neuron, map_,
                                                                             error, message):
    with pytest.raises(error) as info:
        network_from_dict(per_neuron(neuron, map_=map_))
    assert str(info.value) == message


def test_python_construction_takes_lists_or_arrays_and_compares_by_value():
    neuron = Neuron(model="lif", v=IntFormat(bits=10), threshold=[3, 17, 8],
                    leak=ShiftLeak(shift=np.array([1, 2, 3])), v_init=0)
    assert neuron.threshold.dtype == np.int64 and not neuron.threshold.flags.writeable
    assert neuron.threshold_max == 17
    assert neuron.leak == ShiftLeak(shift=[1, 2, 3]) != ShiftLeak(shift=[1, 2, 4])
    assert ShiftLeak(shift=2) == ShiftLeak(shift=2) and SubtractLeak(amount=[1]) != \
        ShiftLeak(shift=[1])
    assert len({ShiftLeak(shift=[1, 2]), ShiftLeak(shift=[1, 2])}) == 1
    np.testing.assert_array_equal(ShiftLeak.nearest([0.5, 0.875, 0.9]).shift, [1, 3, 3])
    assert ShiftLeak.nearest(0.75) == ShiftLeak(shift=2)
    multi = Neuron(model="if", v=IntFormat(bits=10), threshold=[1, 4, 64], spike_bits=2)
    np.testing.assert_array_equal(multi.threshold_shift, [0, 2, 6])


def test_the_membrane_format_of_an_import_holds_the_largest_per_neuron_values():
    from spikeshift.gen.frontends.convert import membrane_format_for
    values = np.array([[1, -2], [3, 0]])
    per = membrane_format_for(values, None, 1, 4, threshold=np.array([5, 900]),
                              v_init=np.array([-300, 2]))
    assert per == membrane_format_for(values, None, 1, 4, threshold=900, v_init=300)
    assert per.max >= 4 * 3 + 300 + 900
