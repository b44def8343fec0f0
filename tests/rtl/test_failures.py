"""Verification cannot pass silently: a failed testbench check or a misplaced `last` flag
fails the run, the command and the bench, whatever result file was written."""

import numpy as np
import pytest

from spikeshift.sim import rtl_run  # the module: pytest would collect a bare Test* class
from spikeshift.sim.rtl_run import CocotbBench

pytestmark = pytest.mark.cocotb


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
