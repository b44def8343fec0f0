"""The float description (`spikeshift quantize`) goes through the same codec helpers as the
integer one: one message naming the field path, the value and what is allowed."""

import copy
import json

import numpy as np
import pytest

from spikeshift.gen.cli.main import main
from spikeshift.gen.frontends.quantize import float_network_from_dict

from .test_quantize import float_description


def edited(path, value):
    obj = copy.deepcopy(float_description(np.random.default_rng(0)))
    node = obj
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return obj


@pytest.mark.parametrize("path, value, error, message", [
    (("layers", 0, "size"), KeyError, ValueError, "layers[0].size is required"),
    (("layers", 0, "kind"), "conv2d", ValueError,
     "layers[0].kind must be one of 'dense', not 'conv2d'"),
    (("layers", 0, "colour"), 1, ValueError,
     ("layers[0].colour is not a known field; allowed: 'kind', 'size', 'weights', 'neuron', "
      "'bias'")),
    (("layers", 0, "neuron", "beta"), 1.5, ValueError,
     "layers[0].neuron.beta must be in [0, 1], not 1.5"),
    (("layers", 0, "neuron", "threshold"), float("inf"), TypeError,
     "layers[0].neuron.threshold must be a finite number, not inf"),
    (("layers", 0, "neuron", "threshold"), KeyError, ValueError,
     "layers[0].neuron.threshold is required for model 'if'"),
    (("layers", 1, "weights"), [[1.0] * 16] * 3, ValueError,
     "layers[1].bias must hold one value per neuron (3), not 4"),
    (("layers", 1, "weights"), [[1.0] * 15] * 4, ValueError,
     "layers[1].weights must have 16 columns (layers[0].size), not 15"),
    (("timesteps",), -1, ValueError, "timesteps must be an integer in [1, 65536], not -1"),
    (("layers", 0, "weights", 0, 0), float("nan"), ValueError,
     "layers[0].weights[0][0] must be a finite number, not nan"),
    (("input",), 5, TypeError, "input must be an object, not 5"),
])
def test_bad_float_description_gets_one_message_naming_the_field(path, value, error, message):
    with pytest.raises(error) as info:
        float_network_from_dict(edited(path, value))
    assert str(info.value) == message


def test_quantize_command_refuses_a_bad_float_description_with_exit_2(tmp_path, capsys):
    (tmp_path / "float.json").write_text(json.dumps(edited(("layers", 0, "size"), KeyError)))
    assert main(["quantize", str(tmp_path / "float.json"), "-o", str(tmp_path / "n.json")]) == 2
    assert capsys.readouterr().err == "spikeshift quantize: error: layers[0].size is required\n"
    assert not (tmp_path / "n.json").exists()


def test_quantize_report_is_written_as_json_when_asked(tmp_path):
    rng = np.random.default_rng(4)
    (tmp_path / "float.json").write_text(json.dumps(float_description(rng)))
    np.save(tmp_path / "x.npy", rng.integers(0, 4, (40, 8, 12)))
    assert main(["quantize", str(tmp_path / "float.json"), "-o", str(tmp_path / "net.json"),
                 "--data", str(tmp_path / "x.npy"), "--report", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert [entry["layer"] for entry in report["layers"]] == [0, 1]
    assert 0 <= report["accuracy"]["agreement with the float network"] <= 1
    assert report["layers"][0]["scale"].startswith("2^")
