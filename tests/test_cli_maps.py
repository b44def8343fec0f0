"""The command line on conv networks: predict, generate, report and verify run them, also when
the last layer is a convolution."""

import numpy as np
import pytest

from spikeshift import trace
from spikeshift.gen.cli.main import main
from spikeshift.gen.ir.synthetic import random_inputs, random_network


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


def test_generate_and_report_give_the_conv_cores_memories_and_rows(files, capsys):
    net, x, tmp = files
    assert main(["generate", str(tmp / "cnn.json"), "-o", str(tmp / "gen"), "--inputs",
                 str(tmp / "x.npy")]) == 0
    assert (tmp / "gen" / "mem" / "layer0_weights.hex").exists()
    assert (tmp / "gen" / "mem" / "layer0_windows.hex").exists()
    assert main(["report", str(tmp / "cnn.json"), "--json"]) == 0
    assert '"kind": "conv2d"' in capsys.readouterr().out


@pytest.mark.cocotb
def test_verify_passes_on_a_conv_network(files, capsys):
    net, x, tmp = files
    assert main(["verify", str(tmp / "cnn.json"), str(tmp / "x.npy")]) == 0
    assert capsys.readouterr().out.startswith("OK: 3 samples")


@pytest.mark.cocotb
def test_verify_passes_on_a_network_ending_in_a_convolution(tmp_path, capsys):
    rng = np.random.default_rng(4)
    net = random_network(rng, kinds=("conv2d",), max_size=6, max_layers=2)
    assert net.layers[-1].kind == "conv2d"
    net.save(tmp_path / "cnn.json")
    np.save(tmp_path / "x.npy", random_inputs(rng, net, 2))
    assert main(["verify", str(tmp_path / "cnn.json"), str(tmp_path / "x.npy"),
                 "--lanes", "3"]) == 0
    assert capsys.readouterr().out.startswith("OK: 2 samples")
