"""The description of the map kinds and input.shape (DESIGN.md §3.1): round trips, defaults,
shapes and refusals that name the layer, the field and the shapes."""

import copy

import numpy as np
import pytest

from spikeshift.gen.ir.kinds.conv2d import Conv2dLayer
from spikeshift.gen.ir.kinds.maxpool2d import MaxPool2dLayer
from spikeshift.gen.ir.kinds.sumpool2d import SumPool2dLayer
from spikeshift.gen.ir.network import network_from_dict, network_to_dict
from spikeshift.gen.ir.synthetic import random_inputs, random_network

from .round_trip import assert_round_trips

CHAIN = ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")


def valid():
    """2x5x6 -> conv 3x2, stride (1, 2), padding 1 -> 3x5x4 -> sumpool 2 -> 3x2x2
    -> maxpool (1, 2) stride 1 -> 3x2x1 -> flatten 6 -> dense 2."""
    return {
        "format": "spikeshift-network", "version": 1, "name": "cnn", "timesteps": 2,
        "input": {"shape": [2, 5, 6], "bits": 1},
        "layers": [
            {"kind": "conv2d", "out_channels": 3, "kernel": [3, 2], "stride": [1, 2],
             "padding": 1, "weights": {"format": "pot", "e_min": 0, "e_max": 2,
                                       "values": np.ones((3, 2, 3, 2), int).tolist()},
             "bias": [1, 0, -1], "neuron": {"model": "if", "threshold": 4, "v_bits": 8}},
            {"kind": "sumpool2d", "kernel": 2},
            {"kind": "maxpool2d", "kernel": [1, 2], "stride": 1},
            {"kind": "flatten"},
            {"kind": "dense", "size": 2,
             "weights": {"format": "int", "bits": 4, "values": np.ones((2, 6), int).tolist()},
             "neuron": {"model": "integrator", "v_bits": 12}}],
        "output": {"mode": "membrane"},
    }


def edited(path, value, layers=None):
    obj = valid()
    if layers is not None:
        obj["layers"] = [obj["layers"][i] for i in layers]
    *parents, key = path
    node = obj
    for p in parents:
        node = node[p]
    if value is KeyError:
        del node[key]
    else:
        node[key] = value
    return obj


def test_shapes_bits_and_defaults_follow_the_description():
    net = network_from_dict(valid())
    assert net.input.size == 60 and net.input.shape == (2, 5, 6)
    assert [net.output_shape(i) for i in range(5)] == [(3, 5, 4), (3, 2, 2), (3, 2, 1), (6,),
                                                       (2,)]
    # conv spikes 1 bit; a 2x2 window sum of them up to 4 (3 bits); max and flatten keep 3
    assert [net.input_bits(i) for i in range(5)] == [1, 1, 3, 3, 3]
    conv, sum_pool, max_pool = net.layers[:3]
    assert conv.kernel == (3, 2) and conv.stride == (1, 2) and conv.padding == (1, 1)
    assert sum_pool.stride == (2, 2) and max_pool.stride == (1, 1)      # default: the kernel
    obj = valid()
    del obj["layers"][0]["stride"], obj["layers"][0]["padding"]
    obj["layers"][0]["kernel"] = 1
    obj["layers"][0]["weights"]["values"] = np.ones((3, 2, 1, 1), int).tolist()
    obj["layers"][4]["weights"]["values"] = np.ones((2, 12), int).tolist()   # 3 x 2 x 2
    conv = network_from_dict(obj).layers[0]
    assert conv.stride == (1, 1) and conv.padding == (0, 0)            # PyTorch's defaults
    assert network_to_dict(network_from_dict(obj))["layers"][0]["kernel"] == [1, 1]


def test_input_size_may_be_given_with_the_shape_and_is_written_back():
    obj = edited(("input", "size"), 60)
    assert network_to_dict(network_from_dict(obj))["input"] == {"size": 60, "bits": 1,
                                                                "shape": [2, 5, 6]}


def test_map_descriptions_round_trip_inline_and_through_npz(tmp_path):
    rng = np.random.default_rng(1)
    for seed in range(20):
        net = random_network(np.random.default_rng(seed), kinds=CHAIN, max_size=6, max_map=6)
        assert_round_trips(net, random_inputs(rng, net, 3), tmp_path, f"net_{seed}")


@pytest.mark.parametrize("path, value, layers, error, message", [
    (("input", "size"), 61, None, ValueError,
     "input.shape [2, 5, 6] holds 60 values, but size is 61; size must be C * H * W"),
    (("input", "shape"), [2, 5], None, ValueError,
     "input.shape must be [C, H, W] (three integers), not [2, 5]"),
    (("input", "shape"), [2, 0, 6], None, ValueError,
     "input.shape must be [C, H, W] (three positive integers), not [2, 0, 6]"),
    (("input", "shape"), KeyError, None, ValueError,
     "input.size is required (or input.shape, whose product it is)"),
    (("layers", 0, "kernel"), [3, 2, 1], None, ValueError,
     "layers[0].kernel must be an integer or two integers, not [3, 2, 1]"),
    (("layers", 0, "kernel"), [7, 2], None, ValueError,
     "layers[0].weights.values filters must be kernel [7, 2] (kh x kw), not [3, 2]"),
    (("layers", 0, "stride"), [1, 0], None, ValueError,
     "layers[0].stride[1] must be an integer in [1, 64], not 0"),
    (("layers", 0, "padding"), -1, None, ValueError,
     "layers[0].padding must be an integer in [0, 64], not -1"),
    (("layers", 0, "out_channels"), 4, None, ValueError,
     ("layers[0].weights.values must hold one filter per output channel (out_channels = 4), "
     "not 3")),
    (("layers", 0, "bias"), [1], None, ValueError,
     "layers[0].bias must hold one value per output channel (3), not 1"),
    (("layers", 0, "weights", "values"), np.ones((3, 1, 3, 2), int).tolist(), None, ValueError,
     "layers[0].weights.values must have 2 input channels (input.shape [2, 5, 6]), not 1"),
    (("layers", 0, "weights", "values"), np.ones((3, 2, 3), int).tolist(), None, ValueError,
     ("layers[0].weights.values must be a 4-dimensional array of integers, not one of shape "
     "(3, 2, 3)")),
    (("layers", 0, "neuron", "v_init"), [1, 2], None, ValueError,
     "layers[0].neuron.v_init must hold one value per neuron (60), not 2"),
    (("layers", 0), valid()["layers"][0] | {
        "kernel": [8, 2], "weights": {"format": "int", "bits": 2,
                                      "values": np.ones((3, 2, 8, 2), int).tolist()}},
     None, ValueError,
     ("layers[0].kernel [8, 2] is larger than the padded map: input.shape [2, 5, 6] with padding "
     "[1, 1] is 7 x 8 (H x W)")),
    (("layers", 1, "kernel"), 5, None, ValueError,
     ("layers[1].kernel [5, 5] is larger than the padded map: layers[0] (conv2d) output "
     "[3, 5, 4] with padding [0, 0] is 5 x 4 (H x W)")),
    (("layers", 1, "padding"), 1, None, ValueError,
     "layers[1].padding is not a known field; allowed: 'kind', 'kernel', 'stride'"),
    (("layers", 3, "size"), 6, None, ValueError,
     "layers[3].size is not a known field; allowed: 'kind'"),
    (("input",), {"size": 60, "bits": 1}, None, ValueError,
     ("layers[0] (conv2d) takes a [C, H, W] map, but input.size gives 60 flat values; give "
     "input.shape, or keep map layers before any flatten")),
    (("name",), "cnn", (0, 4), ValueError,
     ("layers[1] (dense) takes flat values, but layers[0] (conv2d) output gives a map "
     "[3, 5, 4]; put a flatten layer before it")),
    (("name",), "cnn", (0, 3, 3, 4), ValueError,
     ("layers[2] (flatten) takes a [C, H, W] map, but layers[1] (flatten) output gives 60 flat "
     "values; give input.shape, or keep map layers before any flatten")),
    (("name",), "cnn", (0, 1, 2, 3), ValueError,
     ("layers[3] (flatten) has no neuron and cannot be the last layer: output.mode 'membrane' "
     "reads the last layer's neurons")),
    (("layers", 4, "weights", "values"), np.ones((2, 5), int).tolist(), None, ValueError,
     "layers[4].weights.values must have 6 columns (layers[3] (flatten) output), not 5"),
])
def test_a_shape_that_does_not_work_is_refused_naming_layer_field_and_shapes(path, value, layers,
                                                                           error, message):
    with pytest.raises(error) as info:
        network_from_dict(edited(path, value, layers))
    assert str(info.value) == message


def test_ir_classes_refuse_bad_fields_in_one_sentence():
    with pytest.raises(ValueError, match=r"^kernel\[0\] must be an integer in \[1, 64\], not 0$"):
        SumPool2dLayer(kernel=(0, 2))
    with pytest.raises(TypeError, match=r"^stride must be an integer, not 'x'$"):
        MaxPool2dLayer(kernel=2, stride="x")
    obj = copy.deepcopy(valid()["layers"][0])
    with pytest.raises(TypeError, match=r"^weights must be 4-dimensional PotWeights or "
                                        r"IntWeights, not None$"):
        Conv2dLayer(out_channels=3, kernel=obj["kernel"], weights=None, neuron=None)
