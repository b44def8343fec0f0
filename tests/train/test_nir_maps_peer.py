"""Convolutional SNNs from snnTorch: simulated by snnTorch, exported with its own NIR exporter,
imported with the snntorch preset; every layer's spike trains must be identical."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
export_nir = pytest.importorskip("snntorch.export_nir")
nir = pytest.importorskip("nir")

import spikeshift  # noqa: E402
from spikeshift.gen.cli.main import main  # noqa: E402
from spikeshift.gen.frontends.nir import PRESETS, ImportError_, import_nir  # noqa: E402

from .integers import integer_parameters  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _leaky(shape, threshold, reset, output=False):
    """A Leaky with per-neuron tensors of the layer's shape (what NIR's type check needs)."""
    return snn.Leaky(beta=torch.ones(shape), threshold=torch.full(shape, float(threshold)),
                     reset_mechanism=reset, init_hidden=True, output=output)


def random_conv_snn(rng, reset):
    """conv -> Leaky -> (avg pool) -> conv -> Leaky -> flatten -> linear -> Leaky, integer
    weights, random kernels, strides, paddings and map sizes; returns (net, input shape)."""
    c, h, w = int(rng.integers(1, 3)), int(rng.integers(6, 11)), int(rng.integers(6, 11))
    shape, layers = (c, h, w), []
    for stage in range(2):
        k, s, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        out = int(rng.integers(2, 5))
        conv = integer_parameters(torch.nn.Conv2d(shape[0], out, k, stride=s, padding=p,
                                         bias=bool(rng.integers(2))), rng)
        shape = (out, (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1)
        layers += [conv, _leaky(shape, rng.integers(1, 5), reset)]
        if stage == 0 and rng.integers(2) and min(shape[1:]) >= 4:
            layers.append(torch.nn.AvgPool2d((2, 2)))
            shape = (shape[0], shape[1] // 2, shape[2] // 2)
    size = int(np.prod(shape))
    out = int(rng.integers(2, 6))
    layers += [torch.nn.Flatten(), integer_parameters(torch.nn.Linear(size, out), rng),
               _leaky((out,), rng.integers(1, 5), reset, output=True)]
    return torch.nn.Sequential(*layers), (c, h, w)


def snntorch_spikes(net, x):
    """Every Leaky layer's spikes, (batch, T, neurons) flat in C, H, W order, by snnTorch."""
    from snntorch import utils
    utils.reset(net)
    records = [[] for m in net if isinstance(m, snn.Leaky)]
    with torch.no_grad():
        for t in range(x.shape[1]):
            h, k = torch.tensor(x[:, t], dtype=torch.float32), 0
            for module in net:
                h = module(h)
                if isinstance(module, snn.Leaky):
                    h = h[0] if isinstance(h, tuple) else h
                    records[k].append(h.reshape(len(x), -1).numpy().copy())
                    k += 1
    return [np.stack(r, axis=1).astype(np.int64) for r in records]


def export(net, in_shape):
    return export_nir.export_to_nir(net, torch.zeros(1, *in_shape), ignore_dims=[0])


def neuron_layer_spikes(network, x):
    trace = spikeshift.trace(network, x.reshape(len(x), x.shape[1], -1))
    return [s for layer, s in zip(network.layers, trace.spikes) if layer.neuron is not None]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_imported_snntorch_conv_network_spikes_exactly_like_snntorch(seed, reset):
    rng = np.random.default_rng(seed)
    net, in_shape = random_conv_snn(rng, reset)
    x = (rng.random((6, 8, *in_shape)) < 0.5).astype(np.int64)
    conventions = PRESETS["snntorch"]
    if reset == "zero":
        from dataclasses import replace
        conventions = replace(conventions, reset="zero")
    imported = import_nir(export(net, in_shape), conventions=conventions, timesteps=8)
    kinds = [layer.kind for layer in imported.network.layers]
    assert kinds[:2] == ["conv2d", "sumpool2d"] or kinds[:2] == ["conv2d", "conv2d"]
    assert imported.network.input.shape == in_shape
    expected = snntorch_spikes(net, x)
    assert sum(int(s.sum()) for s in expected) > 0
    got = neuron_layer_spikes(imported.network, x)
    assert len(got) == len(expected) == 3
    for layer, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_array_equal(g, e, err_msg=f"layer {layer}")


def test_average_pool_is_folded_exactly_into_the_next_weights():
    rng = np.random.default_rng(5)
    shape = (3, 6, 6)
    net = torch.nn.Sequential(integer_parameters(torch.nn.Conv2d(1, 3, 3, padding=1), rng),
                              _leaky(shape, 2, "subtract"), torch.nn.AvgPool2d((2, 2)),
                              torch.nn.Flatten(), integer_parameters(torch.nn.Linear(27, 4), rng),
                              _leaky((4,), 1, "subtract", output=True))
    imported = import_nir(export(net, (1, 6, 6)), conventions=PRESETS["snntorch"], timesteps=5)
    assert [layer.kind for layer in imported.network.layers] == \
        ["conv2d", "sumpool2d", "flatten", "dense"]
    assert imported.notes[1]["scale"] == "2^2"        # the 1/4 of the average, folded
    assert imported.notes[1]["cost"].endswith("the scale 2^2 that makes the layer integer adds "
                                              "2 bits to the weights' range and to the membrane")
    assert "the scale" not in imported.notes[0]["cost"]
    dense = imported.network.layers[3]
    np.testing.assert_array_equal(dense.weights.values,
                                  net[4].weight.detach().numpy().astype(np.int64))
    assert dense.neuron.threshold == 4 * 1
    x = (rng.random((10, 5, 1, 6, 6)) < 0.6).astype(np.int64)
    for g, e in zip(neuron_layer_spikes(imported.network, x), snntorch_spikes(net, x)):
        np.testing.assert_array_equal(g, e)


@pytest.mark.cocotb
def test_conv_network_imports_through_the_command_line_and_its_rtl_equals_golden(tmp_path):
    rng = np.random.default_rng(2)
    net, in_shape = random_conv_snn(rng, "subtract")
    path = tmp_path / "conv.nir"
    nir.write(str(path), export(net, in_shape))
    assert main(["import", str(path), "-o", str(tmp_path / "conv.json"), "--preset",
                 "snntorch", "--timesteps", "4"]) == 0
    network = spikeshift.Network.load(tmp_path / "conv.json")
    x = (rng.random((2, 4, *in_shape)) < 0.5).astype(np.int64)
    for g, e in zip(neuron_layer_spikes(network, x), snntorch_spikes(net, x)):
        np.testing.assert_array_equal(g, e)
    result = spikeshift.verify(network, x.reshape(2, 4, -1), build_dir=tmp_path / "rtl",
                               progress=False)
    assert result.ok, result.first_difference


def _graph(*nodes):
    """A chain from a [1, 6, 6] input; NIR's own type check is off, so that the importer's
    checks are the ones tested."""
    return nir.NIRGraph.from_list(nir.Input(input_type=np.array([1, 6, 6])), *nodes,
                                  type_check=False)


def _conv_node(**changes):
    fields = dict(input_shape=None, weight=np.ones((2, 1, 3, 3)), stride=1, padding=0,
                  dilation=1, groups=1, bias=np.zeros(2))
    return nir.Conv2d(**{**fields, **changes})


def _if(shape):
    return nir.IF(r=np.ones(shape), v_threshold=np.ones(shape), v_reset=np.zeros(shape))


@pytest.mark.parametrize("node, message", [
    (_conv_node(dilation=2), r"^node 'conv2d' parameter dilation: \[2, 2\]; only dilation 1"),
    (_conv_node(groups=2, weight=np.ones((2, 1, 3, 3))), r"^node 'conv2d' parameter groups"),
    (_conv_node(weight=np.ones((2, 3, 3, 3))), (r"^node 'conv2d' parameter weight: shape "
                                                r"\[2, 3, 3, 3\] does not take the 1 channels")),
    (_conv_node(weight=np.ones((2, 1, 7, 7))), (r"^node 'conv2d' parameter weight: kernel "
                                                r"\[7, 7\] is larger")),
    (_conv_node(padding="same", stride=2), r"^node 'conv2d' parameter padding: 'same'"),
])
def test_convolutions_that_cannot_be_exact_are_refused_naming_node_and_parameter(node, message):
    graph = _graph(node, _if((2, 4, 4)), nir.Output(output_type=np.array([2, 4, 4])))
    with pytest.raises(ImportError_, match=message):
        import_nir(graph, conventions=PRESETS["spikingjelly"], timesteps=2)


def test_partial_flatten_and_dense_after_a_map_are_refused_naming_the_node():
    conv, neuron = _conv_node(), _if((2, 4, 4))
    partial = nir.Flatten(input_type={"input": np.array([2, 4, 4])}, start_dim=1, end_dim=-1)
    with pytest.raises(ImportError_, match=r"^node 'flatten' \(Flatten start_dim=1, end_dim=-1\)"
                                           r" flattens only part"):
        import_nir(_graph(conv, neuron, partial, nir.Output(output_type=np.array([2, 16]))),
                   conventions=PRESETS["norse"], timesteps=2)
    dense = nir.Linear(weight=np.ones((3, 32)))
    with pytest.raises(ImportError_, match=r"^node 'linear' \(Linear\) takes flat values, but "
                                           r"its input is the map \[2, 4, 4\]; a Flatten"):
        import_nir(_graph(conv, neuron, dense, _if(3), nir.Output(output_type=np.array([3]))),
                   conventions=PRESETS["norse"], timesteps=2)


def test_a_padded_pool_and_a_pool_of_currents_are_refused():
    conv, neuron = _conv_node(), _if((2, 4, 4))
    pool = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                         padding=np.array([1, 1]))
    with pytest.raises(ImportError_, match=r"^node 'sumpool2d' parameter padding: \[1, 1\]"):
        import_nir(_graph(conv, neuron, pool, nir.Output(output_type=np.array([2, 3, 3]))),
                   conventions=PRESETS["norse"], timesteps=2)
    pool = nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                         padding=np.array([0, 0]))
    with pytest.raises(ImportError_, match=r"^node 'avgpool2d' \(AvgPool2d\) follows weight "
                                           r"node 'conv2d' without a neuron"):
        import_nir(_graph(conv, pool, _if((2, 2, 2)),
                          nir.Output(output_type=np.array([2, 2, 2]))),
                   conventions=PRESETS["norse"], timesteps=2)


def test_a_three_by_three_average_pool_scales_the_next_layer_by_nine():
    conv = _conv_node(weight=np.ones((2, 1, 1, 1)))
    pool = nir.AvgPool2d(kernel_size=np.array([3, 3]), stride=np.array([3, 3]),
                         padding=np.array([0, 0]))
    flat = nir.Flatten(input_type={"input": np.array([2, 2, 2])}, start_dim=0, end_dim=-1)
    dense = nir.Linear(weight=np.array([[1.0] * 8]))
    graph = _graph(conv, _if((2, 6, 6)), pool, flat, dense, _if(1),
                   nir.Output(output_type=np.array([1])))
    imported = import_nir(graph, conventions=PRESETS["norse"], timesteps=4)
    assert imported.notes[1]["scale"] == "9·2^0"
    last = imported.network.layers[-1]
    assert last.neuron.threshold == 9 + 1        # θ = 1 scaled by 9, v > θ as v >= θ + 1
    x = np.ones((1, 4, 36), np.int64)
    spikes = spikeshift.trace(imported.network, x).spikes
    # the conv neurons see 1 per step and fire (v > 1, reset to 0) every second step, from
    # t = 1; then each 3x3 average is 1, the dense sum 8 > 1, so the output fires with them
    every_second = np.array([0, 1, 0, 1])
    np.testing.assert_array_equal(spikes[0][0], np.repeat(every_second[:, None], 72, 1))
    np.testing.assert_array_equal(spikes[1][0], 9 * np.repeat(every_second[:, None], 8, 1))
    np.testing.assert_array_equal(spikes[-1][0, :, 0], every_second)
