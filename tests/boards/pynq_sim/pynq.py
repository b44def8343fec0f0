"""A simulated ``pynq`` for running a deploy folder's driver off the board.

`Overlay` stands for the ZCU104 block design of ``boards/vivado_flow.project_tcl``: an AXI DMA
cell ``dma`` and the accelerator cell ``spikeshift``. The accelerator is its generated Verilog
(``SPIKESHIFT_PYNQ_VERILOG``: the IP wrapper and its core) under cocotb and Icarus, built in
``SPIKESHIFT_PYNQ_BUILD``. Register accesses and DMA transfers are logged; whenever the driver
needs a value (a register read, a wait on the receive channel) the whole log is replayed from
reset, so the device keeps its state between calls as the real one does. Misuse that would
hang or corrupt memory on the board raises here.
"""

import os
from pathlib import Path

import numpy as np

from spikeshift.sim.rtl_run import CocotbBench

__all__ = ["Overlay", "allocate"]

WRITE, READ, STREAM = 0, 1, 2                    # the op codes of pynq_device_tb


class _Buffer(np.ndarray):
    """Contiguous memory the DMA can reach, like ``pynq.buffer.PynqBuffer``."""

    freed = False

    def freebuffer(self):
        if self.freed:
            raise RuntimeError("buffer freed twice")
        self.freed = True


def allocate(shape, dtype=np.uint32):
    return np.zeros(shape, dtype=dtype).view(_Buffer)


class _Device:
    def __init__(self, verilog: Path, build: Path):
        self._bench = CocotbBench(verilog, "spikeshift_axi_ip", "pynq_device_tb", build)
        self._ops = []                           # (kind, address, value)
        self._streams = []                       # (words, receive buffer)
        self._send = self._recv = None
        self.replays = 0

    def _replay(self) -> dict:
        self.replays += 1
        words = [w for w, _ in self._streams]
        starts = np.cumsum([0] + [len(w) for w in words])
        return self._bench.run(
            ops=np.array(self._ops, np.int64).reshape(-1, 3),
            words=np.concatenate(words) if words else np.zeros(0, np.int64),
            word_starts=starts,
            recv_words=np.array([len(b) for _, b in self._streams], np.int64))

    def read(self, address: int) -> int:
        self._ops.append((READ, address, 0))
        return int(self._replay()["reads"][-1])

    def write(self, address: int, value: int) -> None:
        if not isinstance(value, int) or not 0 <= value < 1 << 32:
            raise ValueError(f"register value must be a 32-bit unsigned int, not {value!r}")
        self._ops.append((WRITE, address, value))

    def start(self, direction: str, words: np.ndarray) -> None:
        if direction == "send":
            self._send = words
        else:
            self._recv = words
        if self._send is not None and self._recv is not None:
            self._ops.append((STREAM, 0, len(self._streams)))
            self._streams.append((self._send.astype(np.int64), self._recv))
            self._send = self._recv = None

    def finish(self, direction: str, words: np.ndarray) -> None:
        """Wait for the transfer of `words`: a receive fills them with the packet it got."""
        if (self._send if direction == "send" else self._recv) is words:
            other = "receive" if direction == "send" else "send"
            raise RuntimeError(f"wait on the {direction} channel would hang: no {other} "
                               f"transfer was started")
        if direction == "send":
            return
        index, = [k for k, (_, buffer) in enumerate(self._streams) if buffer is words]
        result = self._replay()
        sizes = result["sizes"]
        size = int(sizes[index])
        if size != len(words):
            what = "never ends (no tlast)" if size < 0 else f"holds {size} words"
            raise RuntimeError(f"the accelerator's packet {what}, the receive buffer "
                               f"{len(words)}")
        start = int(sizes[:index].sum())
        words[:] = result["received"][start:start + size].astype(np.uint32)


class _Channel:
    def __init__(self, device: _Device, direction: str):
        self._device, self._direction = device, direction
        self._words = None

    def transfer(self, array, start=0, nbytes=0):
        if self._words is not None:
            raise RuntimeError("DMA channel not idle")
        if not isinstance(array, _Buffer) or array.freed:
            raise RuntimeError("DMA transfers need a live buffer from pynq.allocate")
        nbytes = nbytes or array.nbytes - start
        if start % 4 or nbytes % 4 or start + nbytes > array.nbytes:
            raise ValueError(f"bad transfer of {nbytes} bytes at {start}")
        words = np.asarray(array).reshape(-1).view(np.uint32)[start // 4:(start + nbytes) // 4]
        self._words = words
        self._device.start(self._direction, words)

    def wait(self):
        if self._words is None:
            raise RuntimeError("DMA channel has no transfer to wait for")
        self._device.finish(self._direction, self._words)
        self._words = None


class _Dma:
    def __init__(self, device: _Device):
        self.sendchannel = _Channel(device, "send")
        self.recvchannel = _Channel(device, "recv")


class _Registers:
    def __init__(self, device: _Device):
        self._device = device

    def read(self, offset=0, length=4):
        return self._device.read(offset)

    def write(self, offset, value):
        self._device.write(offset, value)


class Overlay:
    def __init__(self, bitfile_name: str, **_):
        if Path(bitfile_name).suffix != ".bit":
            raise ValueError(f"{bitfile_name!r} is not a bitstream")
        self.device = _Device(Path(os.environ["SPIKESHIFT_PYNQ_VERILOG"]),
                              Path(os.environ["SPIKESHIFT_PYNQ_BUILD"]))
        self.dma = _Dma(self.device)
        self.spikeshift = _Registers(self.device)
