"""The command line on a conv network: the golden model runs it, every command that needs a
hardware core refuses it with one message and exit status 2, writing nothing."""

import numpy as np
import pytest

from spikeshift import trace
from spikeshift.gen.cli.main import main
from spikeshift.gen.ir.synthetic import random_inputs, random_network

NO_CORE = ("layers[0] (conv2d) has no hardware core yet; spikeshift predict runs it in the "
           "golden model")


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(4)
    net = random_network(rng, kinds=("conv2d", "flatten", "dense"), max_size=6)
    assert net.layers[0].kind == "conv2d"
    x = random_inputs(rng, net, 3)
    net.save(tmp_path / "cnn.json")
    np.save(tmp_path / "x.npy", x)
    return net, x, tmp_path


def test_predict_runs_a_conv_network_in_the_golden_model(files):
    net, x, tmp = files
    assert main(["predict", str(tmp / "cnn.json"), str(tmp / "x.npy"), "-o",
                 str(tmp / "out.npz"), "--trace"]) == 0
    out = np.load(tmp / "out.npz")
    result = trace(net, x)
    np.testing.assert_array_equal(out["outputs"], result.outputs)
    for i in range(len(net.layers)):
        np.testing.assert_array_equal(out[f"layer{i}_spikes"], result.spikes[i])


@pytest.mark.parametrize("command", [
    ["generate", "{net}", "-o", "{tmp}/gen"],
    ["report", "{net}"],
    ["verify", "{net}", "{x}"],
    ["build", "{net}", "--board", "ulx3s", "--step", "verilog", "-o", "{tmp}/build"],
])
def test_commands_that_need_a_core_refuse_a_conv_network_with_exit_2(files, command, capsys):
    net, x, tmp = files
    args = [a.format(net=tmp / "cnn.json", x=tmp / "x.npy", tmp=tmp) for a in command]
    assert main(args) == 2
    assert capsys.readouterr().err.strip().endswith(f"error: {NO_CORE}")
    assert sorted(p.name for p in tmp.iterdir()) == ["cnn.json", "x.npy"]
