import copy
import json

import numpy as np
import pytest

from spikeshift import Network
from spikeshift.gen.ir.network import network_from_dict, network_to_dict
from spikeshift.gen.ir.synthetic import random_inputs, random_network

from .round_trip import assert_round_trips


def valid():
    return {
        "format": "spikeshift-network", "version": 1, "name": "tiny", "timesteps": 4,
        "input": {"size": 3, "bits": 4},
        "layers": [
            {"kind": "dense", "size": 2,
             "weights": {"format": "pot", "e_min": 0, "e_max": 3,
                         "values": [[1, -2, 0], [8, 4, -1]]},
             "bias": None,
             "neuron": {"model": "if", "threshold": 12, "leak": None, "reset": "subtract",
                        "v_init": 8, "spike_bits": 1, "v_bits": 12}},
            {"kind": "dense", "size": 2,
             "weights": {"format": "int", "bits": 4, "values": [[3, -4], [-8, 7]]},
             "neuron": {"model": "integrator", "v_bits": 16}},
        ],
        "output": {"mode": "membrane"},
    }


def edited(path, value):
    obj = copy.deepcopy(valid())
    *parents, key = path
    node = obj
    for p in parents:
        node = node[p]
    if value is KeyError:
        del node[key]
    else:
        node[key] = value
    return obj


@pytest.mark.parametrize("path, value, error, message", [
    (("layers", 0, "weights", "values", 0, 0), 3, ValueError,
     r"layers[0].weights.values[0][0] must be 0 or ±2^e with 0 <= e <= 3, not 3"),
    (("layers", 0, "weights", "values", 1, 0), 16, ValueError,
     r"layers[0].weights.values[1][0] must be 0 or ±2^e with 0 <= e <= 3, not 16"),
    (("layers", 0, "neuron", "spike_bits"), 2, ValueError,
     r"layers[0].neuron.threshold must be a power of two when spike_bits > 1, not 12"),
    (("layers", 0, "neuron", "threshold"), 5000, ValueError,
     r"layers[0].neuron.threshold must be an integer in [1, 2047], not 5000"),
    (("layers", 0, "neuron", "threshold"), "12", TypeError,
     r"layers[0].neuron.threshold must be an integer, not '12'"),
    (("layers", 1, "weights", "values", 0, 1), -9, ValueError,
     r"layers[1].weights.values[0][1] must be an integer in [-8, 7] for bits=4, not -9"),
    (("layers", 1, "weights", "values"), [[3, -4, 1], [-8, 7, 1]], ValueError,
     r"layers[1].weights.values must have 2 columns (layers[0].size), not 3"),
    (("layers", 0, "size"), 3, ValueError,
     r"layers[0].weights.values must have one row per neuron (3), not 2"),
    (("layers", 0, "neuron", "colour"), "red", ValueError,
     (r"layers[0].neuron.colour is not a known field; allowed: 'model', 'v_bits', "
      r"'threshold', 'leak', 'reset', 'v_init', 'spike_bits', 'syn_shift', 'i_bits'")),
    (("layers", 0, "neuron", "reset"), "hard", ValueError,
     r"layers[0].neuron.reset must be one of 'subtract', 'zero', 'none', not 'hard'"),
    (("layers", 0, "neuron", "model"), "lif", ValueError,
     r"layers[0].neuron.leak must be given for model 'lif', not None"),
    (("layers", 0, "neuron", "leak"), {"shift": -1}, ValueError,
     r"layers[0].neuron.leak.shift must be an integer in [0, 62], not -1"),
    (("layers", 0, "neuron", "leak"), {"decay": 0.9}, ValueError,
     ("layers[0].neuron.leak must be null, {\"shift\": k} or {\"subtract\": c}, "
      "not {'decay': 0.9}")),
    (("layers", 0, "neuron", "v_init"), [8, 4096], ValueError,
     (r"layers[0].neuron.v_init[1] must be an integer in [-2048, 2047] for v_bits=12, "
      r"not 4096")),
    (("layers", 0, "neuron", "v_init"), [8], ValueError,
     r"layers[0].neuron.v_init must hold one value per neuron (2), not 1"),
    (("layers", 0, "bias"), [1, 2, 3], ValueError,
     r"layers[0].bias must hold one value per neuron (2), not 3"),
    (("layers", 0, "neuron", "model"), "integrator", ValueError,
     (r"layers[0].neuron.model 'integrator' is only allowed in the last layer, "
      r"not in layer 0 of 2")),
    (("layers", 0, "kind"), "conv3d", ValueError,
     (r"layers[0].kind must be one of 'conv2d', 'dense', 'flatten', 'maxpool2d', "
          r"'sumpool2d', not 'conv3d'")),
    (("input", "bits"), 0, ValueError, r"input.bits must be an integer in [1, 16], not 0"),
    (("output", "mode"), "rate", ValueError,
     r"output.mode must be one of 'spike_count', 'membrane', not 'rate'"),
    (("timesteps",), KeyError, ValueError, r"timesteps is required"),
    (("version",), 2, ValueError, r"version must be 1, not 2"),
    (("layers", 0, "neuron", "v_bits"), 64, ValueError,
     r"layers[0].neuron.v_bits must be an integer in [2, 48], not 64"),
])
def test_invalid_field_gets_one_message_naming_path_value_and_allowed(path, value, error,
                                                                       message):
    with pytest.raises(error) as info:
        network_from_dict(edited(path, value))
    assert str(info.value) == message


def test_description_round_trips_inline_and_through_npz(tmp_path):
    rng = np.random.default_rng(1)
    for seed in range(20):
        net = random_network(np.random.default_rng(seed))
        want = json.dumps(network_to_dict(net), sort_keys=True)
        for loaded in assert_round_trips(net, random_inputs(rng, net, 3), tmp_path,
                                         f"net_{seed}"):
            for a, b in zip(loaded.layers, net.layers, strict=True):
                assert a.weights.values.dtype.kind == b.weights.values.dtype.kind == "i"
        inline = json.loads((tmp_path / f"net_{seed}_inline.json").read_text())
        assert json.dumps(inline, sort_keys=True) == want
    assert (tmp_path / "net_0_npz.npz").exists()
    assert "npz" in json.loads((tmp_path / "net_0_npz.json").read_text())["layers"][0][
        "weights"]["values"]


def test_missing_npz_reference_is_named(tmp_path):
    obj = edited(("layers", 0, "weights", "values"), {"npz": "gone.npz", "key": "w"})
    (tmp_path / "net.json").write_text(json.dumps(obj))
    with pytest.raises(ValueError, match=r"^layers\[0\].weights.values refers to 'gone.npz', "
                                         r"which is not a file$"):
        Network.load(tmp_path / "net.json")


def test_failed_save_leaves_no_half_written_file(tmp_path, monkeypatch):
    net = network_from_dict(valid())
    path = tmp_path / "net.json"
    path.write_text("previous")

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(json, "dumps", broken)
    with pytest.raises(OSError):
        net.save(path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]
