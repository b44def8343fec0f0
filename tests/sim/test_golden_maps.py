"""The golden model of the map kinds (conv2d, sumpool2d, maxpool2d, flatten; DESIGN.md §3.1)
against the loop reference, on random conv chains and on hand-computed cases."""

import numpy as np
import pytest

from spikeshift import predict, trace
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.conv2d import Conv2dLayer
from spikeshift.gen.ir.kinds.flatten import FlattenLayer
from spikeshift.gen.ir.kinds.maxpool2d import MaxPool2dLayer
from spikeshift.gen.ir.kinds.sumpool2d import SumPool2dLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron
from spikeshift.gen.ir.synthetic import random_inputs, random_network
from spikeshift.gen.ir.weights import IntWeights

from .reference import loop_reference

CHAIN = ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")
MAPS_ONLY = ("conv2d", "sumpool2d", "maxpool2d")


def conv_chain(seed: int, kinds=CHAIN):
    rng = np.random.default_rng(seed)
    net = random_network(rng, kinds=kinds, max_size=8, max_timesteps=4, max_map=7)
    return net, random_inputs(rng, net, 3)


@pytest.mark.parametrize("kinds", [CHAIN, MAPS_ONLY], ids=["to-dense", "maps-only"])
@pytest.mark.parametrize("seed", range(200))
def test_golden_model_equals_loop_reference_on_random_conv_networks(seed, kinds):
    net, x = conv_chain(seed, kinds)
    result = trace(net, x)
    ref_outputs, ref_classes = loop_reference(net, x)
    np.testing.assert_array_equal(result.outputs, ref_outputs)
    np.testing.assert_array_equal(result.classes, ref_classes)


def test_random_conv_networks_cover_every_shape_and_neuron_option():
    seen = set()
    fired = 0
    for seed in range(200):
        for kinds in (CHAIN, MAPS_ONLY):
            net, x = conv_chain(seed, kinds)
            result = trace(net, x)
            for index, layer in enumerate(net.layers):
                seen.add(layer.kind)
                c, h, w = net.input_shape(index) if layer.takes == "map" else (0, 0, 0)
                seen |= {f"C{min(c, 2)}", "nonsquare" if h != w else "square"}
                if layer.kind in ("sumpool2d", "maxpool2d"):
                    seen |= {f"{layer.kind}-k{max(layer.kernel)}",
                             f"{layer.kind}-s{max(layer.stride)}",
                             f"{layer.kind}-in{net.input_bits(index)}bits"}
                if layer.kind != "conv2d":
                    continue
                n = layer.neuron
                seen |= {f"k{k}" for k in layer.kernel} | {f"s{s}" for s in layer.stride}
                seen |= {f"p{p}" for p in layer.padding} | {f"out{min(layer.out_channels, 2)}"}
                seen |= {n.model, n.reset if n.fires else "-", type(n.leak).__name__,
                         layer.weights.format, f"S{n.spike_bits}", net.output.mode,
                         "bias" if layer.bias is not None else "nobias",
                         "vinit-array" if isinstance(n.v_init, np.ndarray) else "vinit-scalar",
                         f"in{min(net.input_bits(index), 5)}bits"}
                fired += int(0 < result.spikes[index].sum())
    assert {"conv2d", "sumpool2d", "maxpool2d", "flatten", "dense", "C1", "C2", "nonsquare",
            "square", "k1", "k2", "k3", "k4", "k5", "s1", "s2", "p0", "p1", "p2", "out1", "out2",
            "if", "lif", "integrator", "subtract", "zero", "none", "ShiftLeak", "SubtractLeak",
            "NoneType", "pot", "int", "S1", "S2", "S3", "spike_count", "membrane", "bias",
            "nobias", "vinit-array", "vinit-scalar", "in1bits", "in5bits", "sumpool2d-k3",
            "maxpool2d-k3", "sumpool2d-s2", "maxpool2d-in4bits"} <= seen
    assert fired > 150


def _map_net(*layers, shape, bits=2, timesteps=1, mode="membrane"):
    return Network(name="maps", timesteps=timesteps,
                   input=InputSpec(size=int(np.prod(shape)), bits=bits, shape=shape),
                   layers=layers, output=OutputSpec(mode=mode))


def _integrator(bits=24):
    return Neuron(model="integrator", v=IntFormat(bits=bits))


def test_conv2d_current_is_the_cross_correlation_with_zero_padding_by_hand():
    # one channel 2 x 3, kernel 2 x 2 of [[1, 2], [4, 8]], padding 1, stride (1, 2): a 3 x 2 map
    conv = Conv2dLayer(out_channels=1, kernel=2, stride=(1, 2), padding=1,
                       weights=IntWeights(bits=5, values=[[[[1, 2], [4, 8]]]], ndim=4),
                       neuron=_integrator(), bias=[100])
    net = _map_net(conv, shape=(1, 2, 3))
    assert net.output_shape(0) == (1, 3, 2)
    s = np.array([[1, 2, 3], [0, 1, 3]])           # s[y][x]
    p = np.pad(s, 1)
    expected = [[100 + p[y, 2 * x] + 2 * p[y, 2 * x + 1] + 4 * p[y + 1, 2 * x]
                 + 8 * p[y + 1, 2 * x + 1] for x in range(2)] for y in range(3)]
    assert expected == [[108, 132], [102, 136], [100, 107]]
    outputs, _ = predict(net, s.reshape(1, 1, 6))
    np.testing.assert_array_equal(outputs, [np.ravel(expected)])


def test_pooling_values_pass_on_as_multi_bit_inputs_of_the_next_layer():
    # 2 channels 2 x 4 of 2-bit inputs; sum pool 2 x 2 gives values up to 12 (4 bits)
    sum_pool, max_pool = SumPool2dLayer(kernel=2), MaxPool2dLayer(kernel=(2, 1), stride=(1, 3))
    x = np.array([[[3, 1, 0, 2], [2, 3, 3, 3]], [[0, 0, 1, 0], [0, 1, 0, 2]]])
    ones = Conv2dLayer(out_channels=1, kernel=1, neuron=_integrator(),
                       weights=IntWeights(bits=2, values=[[[[1]], [[1]]]], ndim=4))
    net = _map_net(sum_pool, ones, shape=(2, 2, 4))
    assert net.input_bits(1) == 4 and net.input_shape(1) == (2, 1, 2)
    outputs, _ = predict(net, x.reshape(1, 1, 16))
    np.testing.assert_array_equal(outputs, [[9 + 1, 8 + 3]])   # window sums of both channels
    net = _map_net(max_pool, ones, shape=(2, 2, 4))
    assert net.input_bits(1) == 2 and net.input_shape(1) == (2, 1, 2)
    outputs, _ = predict(net, x.reshape(1, 1, 16))
    np.testing.assert_array_equal(outputs, [[3 + 0, 3 + 2]])   # columns 0 and 3


def test_flatten_changes_no_value_and_no_index():
    net = _map_net(FlattenLayer(), _dense_identity(12), shape=(3, 2, 2))
    x = np.random.default_rng(0).integers(0, 4, (5, 1, 12))
    outputs, _ = predict(net, x)
    np.testing.assert_array_equal(outputs, x[:, 0])
    result = trace(net, x)
    np.testing.assert_array_equal(result.spikes[0][:, 0], x[:, 0])


def _dense_identity(size):
    from spikeshift.gen.ir.kinds.dense import DenseLayer
    return DenseLayer(size=size, weights=IntWeights(bits=2, values=np.eye(size, dtype=int)),
                      neuron=_integrator())
