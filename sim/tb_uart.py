"""cocotb testbench of the UART host link (``spikeshift_uart``): host frames in on ``rx``,
result frames out on ``tx``, both bit-banged at the design's divisor and encoded/decoded by the
host's own protocol code (spikeshift.gen.ir.link). Any failed check fails the cocotb test, and
with it the caller's run (`spikeshift.sim.rtl_run.CocotbBench`), even after the results were
written."""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, with_timeout

from spikeshift.gen.ir.link import decode_results, encode_inputs, result_frame_bytes


async def _send(dut, data: bytes, divisor: int):
    for byte in data:
        for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
            dut.rx.value = bit
            await ClockCycles(dut.clk, divisor)


async def _receive(dut, count: int, divisor: int) -> bytes:
    out = bytearray()
    while len(out) < count:
        await FallingEdge(dut.tx)
        await ClockCycles(dut.clk, divisor + divisor // 2)
        byte = 0
        for i in range(8):
            byte |= int(dut.tx.value) << i
            await ClockCycles(dut.clk, divisor)
        assert int(dut.tx.value) == 1, f"stop bit of result byte {len(out)} is 0"
        out.append(byte)
    return bytes(out)


@cocotb.test()
async def run_uart(dut):
    job = dict(np.load(os.environ["SPIKESHIFT_TB_JOB"]))
    x, expected, divisor = job["inputs"], job["expected"], int(job["divisor"])
    n_out = expected.shape[1]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rx.value = 1
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    data = encode_inputs(x)
    corrupt = bytearray(data[:7])
    corrupt[-1] ^= 0x40
    cocotb.start_soon(_send(dut, bytes(corrupt) + data, divisor))
    count = len(x) * result_frame_bytes(n_out)
    budget = 12 * divisor * (len(data) + 7 + count) + 100_000
    received = await with_timeout(_receive(dut, count, divisor), budget * 10, "ns")
    got = decode_results(received, n_out)
    np.savez(os.environ["SPIKESHIFT_TB_RESULT"], outputs=got)
    np.testing.assert_array_equal(got, expected, err_msg="UART results differ from the expected")
    bad = int(dut.bad_frames.value)
    assert bad == 1, f"bad_frames counts {bad}, not the 1 corrupted frame sent"
