"""cocotb testbench of the AXI wrapper (``spikeshift_axi``) with cocotbext-axi.

Reads the job from ``SPIKESHIFT_TB_JOB`` (inputs, expected outputs, sizes; optionally the
input ``words`` themselves, bad beats included, and the expected ``drops`` in
`DROP_COUNTERS` order, else none; ``direct``: each sample sent once, input.encoding
"direct"), programs SAMPLES_PER_PACKET over AXI4-Lite, streams the
inputs with an AXI4-Stream source (random pauses, ``pause`` the probability per cycle),
receives the results with a sink under random backpressure, and checks every value, every
packet boundary and the registers, the drop counters included. Any failed check fails the
cocotb test, and with it the caller's run (`spikeshift.sim.rtl_run.CocotbBench`), even after
the results were written.
"""

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, with_timeout
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)

from spikeshift.gen.ir.link import AXI_ID, DROP_COUNTERS, axi_input_words
from spikeshift.gen.ir.link import AXI_REGISTERS as REG


async def _check_register(lite: AxiLiteMaster, name: str, want: int) -> None:
    got = await lite.read_dword(REG[name])
    assert got == want, f"register {name} reads {got}, not {want}"


@cocotb.test()
async def run_axi(dut):
    job = dict(np.load(os.environ["SPIKESHIFT_TB_JOB"]))
    x, expected = job["inputs"], job["expected"]
    per_packet = int(job["samples_per_packet"])
    random.seed(int(job["seed"]))
    pause = float(job["pause"]) if "pause" in job else 0.3
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst,
                             reset_active_level=True)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst,
                         reset_active_level=True)
    lite = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst,
                         reset_active_level=True)
    source.set_pause_generator(iter(lambda: random.random() < pause, None))
    sink.set_pause_generator(iter(lambda: random.random() < pause, None))
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    await _check_register(lite, "ID", AXI_ID)
    await _check_register(lite, "INPUT_SIZE", x.shape[2])
    await _check_register(lite, "OUTPUT_SIZE", expected.shape[1])
    await _check_register(lite, "TIMESTEPS", x.shape[1])
    await lite.write_dword(REG["SAMPLES_PER_PACKET"], per_packet)

    direct = bool(job["direct"]) if "direct" in job else False      # each sample sent once
    words = (job["words"].astype(np.uint32) if "words" in job else
             axi_input_words(x, direct=direct))
    drops = job["drops"] if "drops" in job else np.zeros(len(DROP_COUNTERS), np.int64)
    await source.send(AxiStreamFrame(words.astype("<u4").tobytes()))
    received = []
    assert len(x) % per_packet == 0, "a transfer is a whole number of packets"
    packets = len(x) // per_packet
    budget = 200 * (len(words) + len(x) * expected.shape[1]) + 10_000
    for _ in range(packets):
        frame = await with_timeout(sink.recv(), budget * 10, "ns")
        data = bytes(frame.tdata)
        received.append(np.frombuffer(data, dtype="<i4").astype(np.int64))
    sizes = [len(p) for p in received]
    n_out = expected.shape[1]
    assert sizes == [n_out * per_packet] * packets, (
        f"packets of {sizes} values, not {packets} of {n_out * per_packet}")
    got = np.concatenate(received).reshape(-1, n_out)
    cycles = await lite.read_dword(REG["CYCLES"])
    np.savez(os.environ["SPIKESHIFT_TB_RESULT"], outputs=got, cycles=cycles)
    np.testing.assert_array_equal(got, expected, err_msg="AXI results differ from the expected")
    await _check_register(lite, "SAMPLES_DONE", len(x))
    for name, want in zip(DROP_COUNTERS, drops):
        await _check_register(lite, name.upper(), int(want))
