"""The generated Verilog of direct networks (input.encoding "direct": each sample sent once)
under cocotb (Icarus), against the golden and cycle models: every output, every layer-timestep
cycle count and, gap-free, every sample's latency (which holds only if the sample was sent
once and core 0 kept its slot for all T timesteps)."""

import numpy as np
import pytest

import spikeshift
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.kinds.dense import STEP_OVERHEAD
from spikeshift.gen.ir.synthetic import direct_network, random_inputs, random_network

pytestmark = pytest.mark.cocotb

#: (first layer's kind, weight format, chunks of the first core: one or several)
CASES = [("dense", "pot", "one"), ("dense", "pot", "several"), ("dense", "int", "one"),
         ("dense", "int", "several"), ("conv2d", "pot", "several"), ("conv2d", "int", "one")]


def _case(kind: str, fmt: str, chunks: str, seed: int):
    """A random direct network whose first layer has the kind and weight format asked for, its
    lanes giving one chunk or several, and inputs with an empty sample."""
    kinds = ("conv2d", "flatten", "dense") if kind == "conv2d" else ("dense",)
    for attempt in range(200):
        rng = np.random.default_rng(9000 + 1000 * seed + attempt)
        net = random_network(rng, kinds=kinds, max_timesteps=5)
        first = net.layers[0]
        if (first.kind == kind and first.weights.format == fmt and net.timesteps > 1
                and (chunks == "one" or net.layer_size(0) > 1)
                and (kind == "dense" or first.out_channels > 1 or chunks == "one")):
            break
    else:
        raise AssertionError(f"no {kind} {fmt} case drawn")
    net = direct_network(net)
    lanes = [int(rng.integers(1, layer.max_lanes + 1)) for layer in net.layers]
    most = net.layers[0].max_lanes if len(net.layers) > 1 else net.layers[0].max_result_lanes
    lanes[0] = most if chunks == "one" else max(1, most // 2)
    x = random_inputs(rng, net, 4)
    x[2] = 0
    return net, x, lanes


@pytest.mark.parametrize("kind, fmt, chunks", CASES)
@pytest.mark.parametrize("gaps", [False, True], ids=["gap-free", "gaps"])
def test_direct_network_sent_once_matches_models(kind, fmt, chunks, gaps, tmp_path):
    seed = CASES.index((kind, fmt, chunks))
    net, x, lanes = _case(kind, fmt, chunks, seed)
    design = plan(net, lanes)
    first = design.layers[0]
    assert (first.chunks == 1) == (chunks == "one") if kind == "dense" else True
    result = spikeshift.verify(net, x, lanes=lanes, build_dir=tmp_path, progress=False,
                               seed=seed if gaps else None)
    assert result.ok, result.first_difference
    np.testing.assert_array_equal(result.outputs, spikeshift.predict(net, x[:, 0])[0])
    cycles = result.step_cycles[..., 0]
    if kind == "dense":             # the current is held: t >= 1 fires the chunks only
        assert first.held_current
        assert (cycles[:, 1:] == first.chunks + STEP_OVERHEAD).all()
        assert (cycles[:, 0] > first.chunks + STEP_OVERHEAD).any()
    else:                           # the held slot is walked again: every timestep the same
        assert not getattr(first, "held_current", False)
        assert (cycles == cycles[:, :1]).all()
