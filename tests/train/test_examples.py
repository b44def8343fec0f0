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
