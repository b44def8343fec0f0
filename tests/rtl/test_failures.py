"""Verification cannot pass silently: a failed testbench check or a misplaced `last` flag
fails the run, the command and the bench, whatever result file was written."""

import numpy as np
import pytest
from amaranth import Signal

from spikeshift import predict
from spikeshift.gen.cli.main import main
from spikeshift.gen.flow.verilog import AXI_TOPLEVEL, accelerator_verilog
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.synthetic import random_inputs, random_network
from spikeshift.hdl.result_buffer import ResultBuffer
from spikeshift.sim import rtl_run  # the module: pytest would collect a bare Test* class
from spikeshift.sim.rtl_run import CocotbBench

pytestmark = pytest.mark.cocotb


def _last_one_result_early(monkeypatch):
    """Make the generated Verilog raise `last` on each sample's second-to-last result."""
    elaborate = ResultBuffer.elaborate

    def early(self, platform):
        m = elaborate(self, platform)
        beat = Signal(range(self._size), name="beat")
        stream = self.o_stream
        with m.If(stream.valid & stream.ready):
            m.d.sync += beat.eq(beat + 1)
            with m.If(beat == self._size - 1):
                m.d.sync += beat.eq(0)
        m.d.comb += stream.payload.last.eq(beat == self._size - 2)  # overrides the real one
        return m
    monkeypatch.setattr(ResultBuffer, "elaborate", early)


def _saved_net_and_inputs(tmp_path):
    """A random network with at least two outputs and two samples, saved as the CLI reads them."""
    rng = np.random.default_rng(8000)
    net = random_network(rng)
    while net.n_out < 2:
        net = random_network(rng)
    x = random_inputs(rng, net, 2)
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", x)
    return net, x


def test_last_one_result_early_makes_spikeshift_verify_exit_1(tmp_path, monkeypatch, capsys):
    net, x = _saved_net_and_inputs(tmp_path)
    _last_one_result_early(monkeypatch)
    assert main(["verify", str(tmp_path / "net.json"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "v.npz"), "--build-dir", str(tmp_path / "build")]) == 1
    err = capsys.readouterr().err
    assert (f"MISMATCH: last flag differs at sample 0, neuron {net.n_out - 2}: RTL 1, model 0"
            in err)
    out = np.load(tmp_path / "v.npz")
    np.testing.assert_array_equal(out["outputs"], predict(net, x)[0])
    assert not bool(out["ok"])
    assert (out["last_flags"][:, -2:] == [1, 0]).all()
    assert (out["expected_last_flags"][:, -2:] == [0, 1]).all()


def test_last_one_result_early_fails_the_board_sim_step(tmp_path, monkeypatch, capsys):
    net, _ = _saved_net_and_inputs(tmp_path)
    _last_one_result_early(monkeypatch)
    assert main(["build", str(tmp_path / "net.json"), "--board", "ulx3s", "--step", "sim",
                 "-o", str(tmp_path / "flow"), "--inputs", str(tmp_path / "x.npy")]) != 0
    assert (f"RTL differs from the models: last flag differs at sample 0, neuron "
            f"{net.n_out - 2}" in capsys.readouterr().err)
    assert not (tmp_path / "flow" / "sim.json").exists()


@pytest.mark.parametrize("save", [True, False])
def test_a_failed_check_makes_the_bench_raise_and_drops_its_results(tmp_path, save):
    (tmp_path / "tiny.v").write_text("module tiny(input clk);\nendmodule\n")
    bench = CocotbBench(tmp_path / "tiny.v", "tiny", "tests.rtl.tb_failing", tmp_path)
    stale = tmp_path / "result_1.npz"           # as an earlier run in a kept build dir left it
    np.savez(stale, outputs=np.zeros(3))
    with pytest.raises(rtl_run.TestbenchFailed, match="deliberate check failure") as failed:
        bench.run(save=save, outputs=np.arange(3))
    assert "1 of 1 cocotb tests of tests.rtl.tb_failing failed" in str(failed.value)
    assert str(tmp_path / "sim_1.log") in str(failed.value)
    assert not stale.exists()


def test_a_wrong_value_fails_the_axi_bench_after_it_saved_its_results(tmp_path):
    rng = np.random.default_rng(6000)
    net = random_network(rng)
    x = random_inputs(rng, net, 2)
    expected = predict(net, x)[0]
    expected[1, 0] += 1
    (tmp_path / "axi.v").write_text(accelerator_verilog(plan(net), wrapper="axi"))
    bench = CocotbBench(tmp_path / "axi.v", AXI_TOPLEVEL, "spikeshift.sim.tb_axi", tmp_path)
    with pytest.raises(rtl_run.TestbenchFailed, match="AXI results differ from the expected"):
        bench.run(inputs=x, expected=expected, samples_per_packet=1, seed=0)
