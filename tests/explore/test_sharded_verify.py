"""`verify --scheduler`: the batch sharded over a two-worker Dask cluster gives exactly the
serial run's results (a few samples of the demo network, so the RTL part stays short)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from spikeshift.gen.explore.cluster import open_executor, sharded_rtl
from spikeshift.gen.flow.verify import verify_design
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.network import Network

pytestmark = pytest.mark.cocotb

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "build" / "demo" / "digits-mlp.json"


def demo_network_and_inputs(samples: int):
    """`make demo`'s network (else trained here briefly by the same code), direct inputs."""
    sys.path.insert(0, str(ROOT / "examples" / "digits"))
    from demo import build_network, direct_input, load_data
    net = Network.load(DEMO) if DEMO.exists() else build_network(verbose=False, epochs=4)[0]
    return net, direct_input(load_data()[1][:samples], net.timesteps)


def test_sharded_verification_equals_the_serial_one(tmp_path):
    net, x = demo_network_and_inputs(4)
    design = plan(net, [4, 10])
    serial = verify_design(design, x, chunk=2, seed=1, progress=False)
    with open_executor("local", workers=2) as executor:
        sharded = verify_design(design, x, chunk=2, seed=1, progress=False,
                                runner=sharded_rtl(executor))
    assert serial.ok and sharded.ok, (serial.first_difference, sharded.first_difference)
    for name in ("outputs", "last_flags", "step_cycles", "latency", "expected_outputs",
                 "expected_step_cycles", "expected_latency"):
        np.testing.assert_array_equal(getattr(sharded, name), getattr(serial, name), name)


def test_verify_command_with_a_scheduler_checks_every_sample(tmp_path, capsys):
    from spikeshift.gen.cli.main import main
    net, x = demo_network_and_inputs(2)
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", x)
    assert main(["verify", str(tmp_path / "net.json"), str(tmp_path / "x.npy"), "--scheduler",
                 "serial", "-o", str(tmp_path / "out.npz")]) == 0
    assert "OK: 2 samples" in capsys.readouterr().out
    result = np.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(result["outputs"], result["expected_outputs"])
