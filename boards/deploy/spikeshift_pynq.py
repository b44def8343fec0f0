"""PYNQ host driver for the spikeshift accelerator on a ZCU104 (copied into ``deploy/``).

Runs on the board's Python with PYNQ; needs only NumPy besides, and reads the network's sizes
from ``network.json`` beside the bitstream. Input words and result values follow
``spikeshift.gen.ir.link`` (``spikeshift_link.py`` in the same folder).

    from spikeshift_pynq import Accelerator
    acc = Accelerator("spikeshift.bit")
    outputs, classes = acc.run(x)          # x: (batch, T, n) integers

A network whose ``input.encoding`` is ``"direct"`` (the same values every timestep) also takes
x of shape (batch, n), and each sample is sent once: the accelerator holds it for all T.
"""

import json
from pathlib import Path

import numpy as np
from spikeshift_link import AXI_ID, AXI_REGISTERS, DROP_COUNTERS, axi_input_words


class Accelerator:
    """The overlay's AXI DMA and accelerator registers behind `run`."""

    def __init__(self, bitfile: str = "spikeshift.bit", network: str | None = None):
        from pynq import Overlay
        here = Path(bitfile).resolve().parent
        meta = json.loads(Path(network or here / "network.json").read_text())
        self.n_in, self.timesteps = meta["input"]["size"], meta["timesteps"]
        self.n_out = meta["layers"][-1]["size"]
        self.direct = meta["input"].get("encoding") == "direct"
        self.overlay = Overlay(str(bitfile))
        self.dma = self.overlay.dma
        self.regs = self.overlay.spikeshift
        ident = self.regs.read(AXI_REGISTERS["ID"])
        if ident != AXI_ID:
            raise RuntimeError(f"no spikeshift accelerator in the overlay (ID {ident:#x})")

    def run(self, x, *, chunk: int = 256):
        """(outputs, classes) for `x` of shape (batch, T, n) (direct: or (batch, n)), `chunk`
        samples per transfer."""
        from pynq import allocate
        x = np.asarray(x)
        if self.direct and x.ndim == 2 and x.shape[1] == self.n_in:
            x = x[:, None]
        elif x.ndim != 3 or x.shape[1:] != (self.timesteps, self.n_in):
            raise ValueError(f"inputs must have shape (batch, {self.timesteps}, {self.n_in})"
                             + (f" or (batch, {self.n_in})" if self.direct else "")
                             + f", not {x.shape}")
        elif self.direct and (x != x[:, :1]).any():
            sample, t = np.argwhere((x != x[:, :1]).any(axis=2))[0]
            raise ValueError(f"inputs[{sample}] changes at timestep {t}, but the network's "
                             f"input.encoding is 'direct' (the same values every timestep)")
        outputs = []
        for start in range(0, len(x), chunk):
            part = x[start:start + chunk]
            words = axi_input_words(part, direct=self.direct)
            send = allocate(shape=(len(words),), dtype=np.uint32)
            recv = allocate(shape=(len(part) * self.n_out,), dtype=np.int32)
            send[:] = words
            self.regs.write(AXI_REGISTERS["SAMPLES_PER_PACKET"], len(part))
            self.dma.recvchannel.transfer(recv)
            self.dma.sendchannel.transfer(send)
            self.dma.sendchannel.wait()
            self.dma.recvchannel.wait()
            outputs.append(np.array(recv, dtype=np.int64).reshape(len(part), self.n_out))
            send.freebuffer()
            recv.freebuffer()
        out = np.concatenate(outputs)
        return out, np.argmax(out, axis=1)

    @property
    def cycles(self) -> int:
        """The accelerator's free-running cycle counter (for timing a run)."""
        return self.regs.read(AXI_REGISTERS["CYCLES"])

    @property
    def drops(self) -> dict:
        """Input beats the accelerator dropped since reset, by reason (README "Bad input")."""
        return {name: self.regs.read(AXI_REGISTERS[name.upper()]) for name in DROP_COUNTERS}
