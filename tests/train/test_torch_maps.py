"""The golden currents of the map kinds against PyTorch's own operators on integer tensors:
``conv2d``, ``avg_pool2d`` times the window size, ``max_pool2d`` and ``flatten``."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from spikeshift.gen.ir.synthetic import random_network  # noqa: E402
from spikeshift.sim.currents import CURRENTS  # noqa: E402

CHAIN = ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")


def torch_values(layer, s: np.ndarray, in_shape: tuple) -> np.ndarray:
    """The layer's current (conv2d) or output values, by PyTorch, in float64 (exact here)."""
    x = torch.tensor(s.reshape(len(s), *in_shape), dtype=torch.float64)
    if layer.kind == "conv2d":
        w = torch.tensor(layer.weights.values, dtype=torch.float64)
        bias = torch.tensor(layer.bias_array(), dtype=torch.float64)
        out = F.conv2d(x, w, bias, stride=layer.stride, padding=layer.padding)
    elif layer.kind == "sumpool2d":
        mean = F.avg_pool2d(x, layer.kernel, stride=layer.stride)
        out = mean * (layer.kernel[0] * layer.kernel[1])
        assert torch.allclose(out, out.round(), atol=1e-9)
        out = out.round()
    elif layer.kind == "maxpool2d":
        out = F.max_pool2d(x, layer.kernel, stride=layer.stride)
    else:
        out = torch.flatten(x, 1)
    return out.reshape(len(s), -1).numpy().astype(np.int64)


@pytest.mark.parametrize("seed", range(60))
def test_map_kinds_equal_pytorch_on_integer_maps(seed):
    rng = np.random.default_rng(seed)
    net = random_network(rng, kinds=CHAIN, max_size=6, max_map=9)
    checked = 0
    for index, layer in enumerate(net.layers):
        if layer.kind == "dense":
            continue
        in_shape, in_max = net.input_shape(index), net.input_max(index)
        s = rng.integers(0, in_max + 1, (4, net.input_size(index)))
        s[0] = in_max                                   # the worst case, every value at most
        got = CURRENTS[layer.kind](layer, in_max, in_shape)(s)
        np.testing.assert_array_equal(got, torch_values(layer, s, in_shape))
        assert got.shape == (4, net.layer_size(index))
        checked += 1
    assert checked >= 2                                 # at least one map layer and flatten
