"""cocotb testbench of the UART host link (``spikeshift_uart``): host frames in on ``rx``,
result frames out on ``tx``, both bit-banged at the design's divisor and encoded/decoded by the
host's own protocol code (spikeshift.gen.ir.link). The host sends a corrupted frame and a
status request first, then the input frames (``frames`` of the job, bad beats included, or
those of the inputs, each sample once with ``direct``) with ``gap`` idle bit times at most
between bytes (random, ``seed``), and a status request after the last result. Both status
frames are checked: the first counts the corrupted frame only, the last also the input beats
dropped (``drops``, `DROP_COUNTERS` order). Any failed check fails the cocotb test, and with it
the caller's run (`spikeshift.sim.rtl_run.CocotbBench`), even after the results were
written."""

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, with_timeout
from cocotb.utils import get_sim_time

from spikeshift.gen.ir.link import (
    DROP_COUNTERS,
    STATUS_COUNTERS,
    decode_results,
    decode_status,
    encode_inputs,
    result_frame_bytes,
    status_frame_bytes,
    status_request,
)

PERIOD_NS = 10


async def _send(dut, data: bytes, divisor: int, gap: int = 0):
    for byte in data:
        for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
            dut.rx.value = bit
            await ClockCycles(dut.clk, divisor)
        if gap:
            idle = random.randint(0, gap)
            if idle:
                await ClockCycles(dut.clk, idle * divisor)


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
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    dut.rx.value = 1
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    random.seed(int(job["seed"]) if "seed" in job else 0)
    gap = int(job["gap"]) if "gap" in job else 0
    direct = bool(job["direct"]) if "direct" in job else False      # each sample sent once
    data = (job["frames"].astype(np.uint8).tobytes() if "frames" in job else
            encode_inputs(x, direct=direct))
    drops = job["drops"] if "drops" in job else np.zeros(len(DROP_COUNTERS), np.int64)
    corrupt = bytearray(data[:7])
    corrupt[-1] ^= 0x40
    cocotb.start_soon(_send(dut, bytes(corrupt) + status_request() + data, divisor, gap))
    count = len(x) * result_frame_bytes(n_out)
    budget = 12 * divisor * (gap + 1) * (len(data) + 14 + count) + 100_000
    status_bytes = status_frame_bytes()
    first = decode_status(await with_timeout(_receive(dut, status_bytes, divisor),
                                             budget * 10, "ns"))
    assert first == dict.fromkeys(STATUS_COUNTERS, 0) | {"bad_frames": 1}, (
        f"the first status frame reads {first}, not the 1 corrupted frame alone")
    received = await with_timeout(_receive(dut, count, divisor), budget * 10, "ns")
    got = decode_results(received, n_out)
    cycles = get_sim_time("ns") // PERIOD_NS
    np.savez(os.environ["SPIKESHIFT_TB_RESULT"], outputs=got, cycles=cycles)
    np.testing.assert_array_equal(got, expected, err_msg="UART results differ from the expected")
    bad = int(dut.bad_frames.value)
    assert bad == 1, f"bad_frames counts {bad}, not the 1 corrupted frame sent"
    cocotb.start_soon(_send(dut, status_request(), divisor))
    last = decode_status(await with_timeout(_receive(dut, status_bytes, divisor),
                                            budget * 10, "ns"))
    want = {"bad_frames": 1, "overruns": 0} | dict(zip(DROP_COUNTERS, map(int, drops)))
    assert last == want, f"the last status frame reads {last}, not {want}"
