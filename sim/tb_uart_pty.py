"""cocotb testbench putting the UART host link (``spikeshift_uart``) behind a pseudo-terminal,
so that a host program (``spikeshift run --port PTY``) talks to the simulated design as to a
board on a serial port.

The bench opens a pty (raw mode), writes its slave path to the job's ``pty_file`` and bridges:
bytes the host writes are read from the master and driven onto ``rx`` bit by bit at the
design's divisor; bytes the design sends on ``tx`` are decoded and written to the master. It
stops once ``stop_file`` exists (or after ``wall_limit`` seconds, which fails the test) and
reports the design's ``bad_frames`` and ``overruns`` and the bytes it bridged. Faults a real
line may add are injected on request (an offset of -1 injects nothing):

- ``corrupt_rx``: flip bit 6 of the host's byte at this offset before the design sees it;
- ``corrupt_tx``: flip bit 6 of the design's byte at this offset before the host sees it;
- ``tx_limit``: pass only this many of the design's bytes on (a board that stops answering).

Run through `spikeshift.sim.uart_pty.UartPtyBoard`.
"""

import os
import time
import tty
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from spikeshift.sim.tb_uart import _receive, _send

FLIP = 0x40


class _Bridge:
    def __init__(self, dut, job: dict):
        self.dut = dut
        self.divisor = int(job["divisor"])
        self.corrupt_rx, self.corrupt_tx = int(job["corrupt_rx"]), int(job["corrupt_tx"])
        self.tx_limit = int(job["tx_limit"])
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)              # no echo or line editing before the host opens it
        os.set_blocking(self.master, False)
        self.rx_bytes = self.tx_bytes = 0
        self.to_host = bytearray()
        self.idle = True

    def flush_to_host(self):
        if self.to_host:
            try:
                written = os.write(self.master, self.to_host)
            except BlockingIOError:
                return
            del self.to_host[:written]

    async def host_to_design(self):
        while True:
            self.flush_to_host()
            try:
                data = os.read(self.master, 256)
            except BlockingIOError:
                data = b""
            if not data:
                self.idle = True
                await ClockCycles(self.dut.clk, 10 * self.divisor)
                continue
            self.idle = False
            for byte in data:
                if self.rx_bytes == self.corrupt_rx:
                    byte ^= FLIP
                self.rx_bytes += 1
                await _send(self.dut, bytes([byte]), self.divisor)

    async def design_to_host(self):
        while True:
            byte, = await _receive(self.dut, 1, self.divisor)
            if self.tx_bytes == self.corrupt_tx:
                byte ^= FLIP
            if self.tx_limit < 0 or self.tx_bytes < self.tx_limit:
                self.to_host.append(byte)
                self.flush_to_host()
            self.tx_bytes += 1


@cocotb.test()
async def bridge_pty(dut):
    job = dict(np.load(os.environ["SPIKESHIFT_TB_JOB"]))
    stop_file, wall_limit = Path(str(job["stop_file"])), float(job["wall_limit"])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rx.value = 1
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    bridge = _Bridge(dut, job)
    cocotb.start_soon(bridge.host_to_design())
    cocotb.start_soon(bridge.design_to_host())
    pty_file = Path(str(job["pty_file"]))
    pty_file.with_suffix(".tmp").write_text(os.ttyname(bridge.slave))
    pty_file.with_suffix(".tmp").replace(pty_file)     # the path appears whole or not at all
    start = time.monotonic()
    while not (bridge.idle and stop_file.exists()):
        await ClockCycles(dut.clk, 100 * bridge.divisor)
        assert time.monotonic() - start < wall_limit, (
            f"no stop after {wall_limit} s: the host never finished")
    await ClockCycles(dut.clk, 10 * bridge.divisor)      # the last byte reaches the counters
    np.savez(os.environ["SPIKESHIFT_TB_RESULT"], bad_frames=int(dut.bad_frames.value),
             overruns=int(dut.overruns.value), rx_bytes=bridge.rx_bytes,
             tx_bytes=bridge.tx_bytes)
    os.close(bridge.master)
    os.close(bridge.slave)
