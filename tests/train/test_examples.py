"""The real-data example on digits (runs in CI) and the plots."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from spikeshift.gen.cli.main import main  # noqa: E402

ROOT = Path(__file__).parents[2]


@pytest.mark.cocotb
def test_digits_example_converts_with_snn_close_to_the_ann_and_rtl_equal(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "examples/qcfs_torch/run.py"), "--dataset",
                    "digits", "--epochs", "12", "--qat-epochs", "4", "--rtl-samples", "3",
                    "--out", str(tmp_path)], check=True, capture_output=True)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["PoT ANN"] > 0.9
    assert results["SNN golden, T = 8"] > results["PoT ANN"] - 0.02
    assert results["RTL sample"]["equal_to_golden"]
    for name in ("spike_raster", "membranes", "weights", "accuracy_vs_timesteps"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.cocotb
def test_digits_cnn_example_converts_and_its_rtl_equals_golden(tmp_path):
    """The small spiking CNN on 8x8 digits (conv, sum pools, flatten, dense) end to end."""
    subprocess.run([sys.executable, str(ROOT / "examples/qcfs_torch/run.py"), "--dataset",
                    "digits", "--arch", "cnn", "--epochs", "8", "--qat-epochs", "3",
                    "--rtl-samples", "2", "--out", str(tmp_path)], check=True,
                   capture_output=True)
    results = json.loads((tmp_path / "results.json").read_text())
    net = json.loads((tmp_path / "digits-cnn.json").read_text())
    assert [layer["kind"] for layer in net["layers"]] == [
        "conv2d", "sumpool2d", "conv2d", "sumpool2d", "flatten", "dense"]
    assert results["PoT ANN"] > 0.5
    assert results["SNN golden, T = 16"] > results["PoT ANN"] - 0.03
    assert results["RTL sample"]["equal_to_golden"]


@pytest.mark.cocotb
def test_smnist_example_imports_an_rleaky_network_that_equals_snntorch_and_the_rtl(tmp_path):
    """A small run of make example-smnist: the imported network classifies every test image as
    snnTorch does (the script's exit status) and its RTL equals golden."""
    subprocess.run([sys.executable, str(ROOT / "examples/smnist/run.py"), "--hidden", "16",
                    "--epochs", "1", "--qat-epochs", "1", "--rtl-samples", "1", "--out",
                    str(tmp_path)], check=True, capture_output=True)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["agree"] == 1000 and results["RTL"]["equal_to_golden"]
    assert results["golden (spikeshift)"] == results["int8 SNN (snnTorch)"] > 0.2
    net = json.loads((tmp_path / "smnist.json").read_text())
    assert net["layers"][0]["recurrent"] is not None


def test_lmu_example_builds_a_hybrid_spiking_lmu_equal_to_its_pytorch_form(tmp_path):
    """A small run of make example-lmu: three recurrent/integrator layers whose golden model
    classifies every test image as the exact PyTorch simulation does."""
    subprocess.run([sys.executable, str(ROOT / "examples/lmu/run.py"), "--order", "8",
                    "--hidden", "32", "--epochs", "1", "--qat-epochs", "1", "--out",
                    str(tmp_path)], check=True, capture_output=True)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["agree"] == 1000
    assert results["hybrid-spiking, golden (spikeshift)"] == \
        results["hybrid-spiking, trained (PyTorch)"] > 0.2
    assert 0 < results["activity_bits"] < 6


def test_plot_command_writes_every_figure(tmp_path):
    from spikeshift.gen.ir.synthetic import random_inputs, random_network
    rng = np.random.default_rng(4)
    net = random_network(rng)
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", random_inputs(rng, net, 3))
    assert main(["plot", str(tmp_path / "net.json"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "plots"), "--sample", "2"]) == 0
    written = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert written == sorted(["spike_raster.png", "weights.png"] +
                             [f"membranes_layer{i}.png" for i in range(len(net.layers))])
    assert main(["plot", str(tmp_path / "net.json"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "plots"), "--sample", "3"]) == 2


def test_plot_draws_conv_layers_as_per_channel_maps(tmp_path, monkeypatch):
    """A conv network's figures: maps of the input, of each conv's spikes and membranes and of
    each pooling's values, each panel the golden model's channel map at that timestep."""
    from spikeshift import trace
    from spikeshift.gen.ir.formats import IntFormat
    from spikeshift.gen.ir.kinds.conv2d import Conv2dLayer
    from spikeshift.gen.ir.kinds.dense import DenseLayer
    from spikeshift.gen.ir.kinds.flatten import FlattenLayer
    from spikeshift.gen.ir.kinds.maxpool2d import MaxPool2dLayer
    from spikeshift.gen.ir.kinds.sumpool2d import SumPool2dLayer
    from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
    from spikeshift.gen.ir.neuron import Neuron
    from spikeshift.gen.ir.synthetic import random_inputs
    from spikeshift.gen.ir.weights import IntWeights
    from spikeshift.sim import plots
    rng = np.random.default_rng(11)
    net = Network(
        name="maps", timesteps=3, input=InputSpec(size=2 * 7 * 6, bits=2, shape=(2, 7, 6)),
        output=OutputSpec(mode="membrane"), layers=(
            Conv2dLayer(out_channels=3, kernel=(3, 2), padding=1,
                        weights=IntWeights(bits=4, values=rng.integers(-3, 8, (3, 2, 3, 2)),
                                           ndim=4),
                        neuron=Neuron(model="if", v=IntFormat(bits=10), threshold=9)),
            MaxPool2dLayer(kernel=1),
            SumPool2dLayer(kernel=2),
            FlattenLayer(),
            DenseLayer(size=4, weights=IntWeights(bits=4, values=rng.integers(-8, 8, (4, 27))),
                       neuron=Neuron(model="integrator", v=IntFormat(bits=12)))))
    kinds = [layer.kind for layer in net.layers]
    x = random_inputs(rng, net, 2)
    net.save(tmp_path / "cnn.json")
    np.save(tmp_path / "x.npy", x)
    drawn = {}
    save = plots._save

    def keep(fig, path):
        drawn[path.name] = [(ax.get_title(), ax.get_ylabel(), ax.images[0].get_array().data)
                            for ax in fig.axes if ax.images]
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    assert main(["plot", str(tmp_path / "cnn.json"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "plots"), "--sample", "1"]) == 0
    maps = {i: kind for i, kind in enumerate(kinds) if kind.endswith("2d")}
    assert set(maps.values()) == {"conv2d", "maxpool2d", "sumpool2d"}
    expected = {"spike_raster.png", "weights.png", "input_maps.png"}
    expected |= {f"spike_maps_layer{i}.png" for i in maps}
    expected |= {f"membrane_maps_layer{i}.png" for i, k in maps.items() if k == "conv2d"}
    expected |= {f"membranes_layer{i}.png" for i, k in enumerate(kinds) if k == "dense"}
    assert {p.name for p in (tmp_path / "plots").iterdir()} == expected
    result = trace(net, x[1:2])
    assert result.spikes[0].any() and not result.spikes[0].all()
    checks = [("input_maps.png", x[1], net.input.shape)]
    for i, kind in maps.items():
        shape = net.output_shape(i)
        checks.append((f"spike_maps_layer{i}.png", result.spikes[i][0], shape))
        if kind == "conv2d":
            checks.append((f"membrane_maps_layer{i}.png", result.membranes[i][0], shape))
    for name, values, shape in checks:
        panels = drawn[name]
        channels = min(shape[0], plots.MAX_MAP_CHANNELS)
        steps = min(net.timesteps, plots.MAX_MAP_STEPS)
        assert len(panels) == channels * steps, name
        frames = values.reshape(net.timesteps, *shape)
        for k, (_, _, image) in enumerate(panels):
            c, t = divmod(k, steps)
            np.testing.assert_array_equal(image, frames[t, c], err_msg=f"{name} ch {c} t={t}")
