"""A cocotb bench whose check fails, optionally after writing its results: CocotbBench must
report the failure and never hand back those results."""

import os

import cocotb
import numpy as np


@cocotb.test()
async def fail_the_check(dut):
    job = dict(np.load(os.environ["SPIKESHIFT_TB_JOB"]))
    if job["save"]:
        np.savez(os.environ["SPIKESHIFT_TB_RESULT"], outputs=job["outputs"])
    raise AssertionError("deliberate check failure")
