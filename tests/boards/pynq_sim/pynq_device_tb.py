"""cocotb testbench standing in for the ZCU104 block design behind the simulated ``pynq``.

Replays, from reset, the log of the job in ``SPIKESHIFT_TB_JOB`` on ``spikeshift_axi_ip``:
AXI4-Lite register writes and reads, and DMA transfers (the MM2S channel streams a buffer's
words with ``tlast`` on the final one; the S2MM channel takes one packet, up to ``tlast``).
Writes what the driver would see to ``SPIKESHIFT_TB_RESULT``.
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, SimTimeoutError, with_timeout
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)

WRITE, READ, STREAM = 0, 1, 2
CYCLES_PER_WORD = 500               # far above what a word or a result takes: a missing tlast


@cocotb.test()
async def replay(dut):
    job = dict(np.load(os.environ["SPIKESHIFT_TB_JOB"]))
    cocotb.start_soon(Clock(dut.aclk, 10, unit="ns").start())
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.aclk, dut.aresetn,
                             reset_active_level=False)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.aclk, dut.aresetn,
                         reset_active_level=False)
    lite = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.aclk, dut.aresetn,
                         reset_active_level=False)
    dut.aresetn.value = 0
    for _ in range(3):
        await RisingEdge(dut.aclk)
    dut.aresetn.value = 1
    await RisingEdge(dut.aclk)

    reads, received, sizes = [], [], []
    starts = job["word_starts"]
    for kind, address, value in job["ops"].tolist():
        if kind == WRITE:
            await lite.write_dword(address, value)
        elif kind == READ:
            reads.append(await lite.read_dword(address))
        else:
            words = job["words"][starts[value]:starts[value + 1]].astype("<u4")
            await source.send(AxiStreamFrame(words.tobytes()))
            budget = CYCLES_PER_WORD * (len(words) + int(job["recv_words"][value])) + 1000
            try:
                frame = await with_timeout(sink.recv(), budget * 10, "ns")
            except SimTimeoutError:
                sizes.append(-1)                      # the S2MM transfer never completes
                break
            data = np.frombuffer(bytes(frame.tdata), dtype="<u4")
            received.append(data.astype(np.int64))
            sizes.append(len(data))
    np.savez(os.environ["SPIKESHIFT_TB_RESULT"], reads=np.array(reads, np.int64),
             sizes=np.array(sizes, np.int64),
             received=np.concatenate(received) if received else np.zeros(0, np.int64))
