"""AXI wrappers for a Zynq processing system: AXI4-Stream data, AXI4-Lite control/status.

Ports use Vivado's naming (``s_axis_tdata``, ``m_axis_tlast``, ``s_axil_awaddr``, ...) so that
a block design infers the interfaces. Input beats (32 bits, spikeshift.gen.ir.link): ``index`` in
bits 15:0, ``value`` in 30:16, ``last`` (end of timestep) in bit 31; the AXI ``tlast`` of the
input is ignored.
Result beats: the value sign-extended to 32 bits; ``tlast`` closes every
``SAMPLES_PER_PACKET`` samples, so one DMA receive transfer holds exactly that many samples
(the host programs the register before each transfer of a different size). A result beat
waiting for ``tready`` keeps the packet size it was offered with, so a write never changes
``tlast`` under it (AXI4-Stream); the new size applies from the next beat.

Registers (byte addresses, ``spikeshift.gen.ir.link.AXI_REGISTERS``)::

    0x00 ID                 "SPK1" (0x53504B31)
    0x04 STATUS             bit l: layer l busy
    0x08 INPUT_SIZE         0x0C OUTPUT_SIZE        0x10 TIMESTEPS
    0x14 SAMPLES_PER_PACKET read/write, default 1
    0x18 SAMPLES_DONE       results of this many samples have left
    0x1C CYCLES             free-running cycle counter
    0x20 EXTRA_BEATS        0x24 BAD_INDICES        0x28 DUPLICATES         0x2C BAD_VALUES
                            input beats dropped for each reason since reset (InputStage)

The accelerator sees the input word's whole index and value fields, so an index at or beyond
INPUT_SIZE or a value above the input format's maximum is dropped and counted, never truncated.
Unmapped addresses read 0.
"""

from amaranth import Array, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..gen.ir.design import Design
from ..gen.ir.link import (
    AXI_ID,
    AXI_INDEX_BITS,
    AXI_PORTS,
    AXI_REGISTERS,
    AXI_VALUE_BITS,
    DROP_COUNTERS,
)
from .top import Accelerator

__all__ = ["AxiAccelerator"]


def _as_offered(m, valid, ready, value):
    """`value` as it was when the beat now waiting on (`valid`, `ready`) was first offered."""
    waiting = Signal()
    held = Signal.like(value)
    current = Mux(waiting, held, value)
    m.d.sync += [waiting.eq(valid & ~ready), held.eq(current)]
    return current


class AxiAccelerator(wiring.Component):
    """The accelerator with AXI4-Stream slave/master data ports and an AXI4-Lite slave."""

    def __init__(self, design: Design):
        net, plan = design.network, design
        first = plan.layers[0]
        if first.in_index_bits > AXI_INDEX_BITS:
            raise ValueError(f"input.size must be at most {1 << AXI_INDEX_BITS} for the AXI "
                             f"wrapper, not {net.input.size}")
        if first.in_value.bits > AXI_VALUE_BITS:
            raise ValueError(f"input.bits must be at most {AXI_VALUE_BITS} for the AXI "
                             f"wrapper, not {net.input.bits}")
        if plan.result.bits > 32:
            raise ValueError(f"result values must fit 32 bits, not {plan.result.bits}")
        self._design = design
        super().__init__({name: (In if direction == "input" else Out)(width)
                          for name, direction, width in AXI_PORTS})

    def elaborate(self, platform):
        m = Module()
        net = self._design.network
        m.submodules.accelerator = acc = Accelerator(self._design, index_bits=AXI_INDEX_BITS,
                                                     value_bits=AXI_VALUE_BITS)
        samples_per_packet = Signal(32, init=1)
        in_packet = Signal(32)
        samples_done = Signal(32)
        cycles = Signal(32)
        m.d.sync += cycles.eq(cycles + 1)

        m.d.comb += [
            acc.i_stream.valid.eq(self.s_axis_tvalid),
            self.s_axis_tready.eq(acc.i_stream.ready),
            acc.i_stream.payload.index.eq(self.s_axis_tdata[:AXI_INDEX_BITS]),
            acc.i_stream.payload.value.eq(
                self.s_axis_tdata[AXI_INDEX_BITS:AXI_INDEX_BITS + AXI_VALUE_BITS]),
            acc.i_stream.payload.last.eq(self.s_axis_tdata[AXI_INDEX_BITS + AXI_VALUE_BITS]),
        ]
        result = acc.o_stream.payload
        sample_end = result.last
        packet_size = _as_offered(m, self.m_axis_tvalid, self.m_axis_tready, samples_per_packet)
        packet_end = sample_end & (in_packet + 1 >= packet_size)
        m.d.comb += [
            self.m_axis_tvalid.eq(acc.o_stream.valid),
            acc.o_stream.ready.eq(self.m_axis_tready),
            self.m_axis_tdata.eq(result.value.as_signed()),
            self.m_axis_tlast.eq(packet_end),
        ]
        with m.If(acc.o_stream.valid & acc.o_stream.ready & sample_end):
            m.d.sync += [samples_done.eq(samples_done + 1),
                         in_packet.eq(Mux(packet_end, 0, in_packet + 1))]

        values = {"ID": AXI_ID, "STATUS": acc.busy, "INPUT_SIZE": net.input.size,
                  "OUTPUT_SIZE": net.n_out, "TIMESTEPS": net.timesteps,
                  "SAMPLES_PER_PACKET": samples_per_packet, "SAMPLES_DONE": samples_done,
                  "CYCLES": cycles,
                  **{name.upper(): getattr(acc, name) for name in DROP_COUNTERS}}
        address_bits = next(width for name, _, width in AXI_PORTS if name == "s_axil_araddr")
        words = [0] * (1 << (address_bits - 2))           # the read address selects a word
        for name, address in AXI_REGISTERS.items():
            words[address // 4] = values[name]
        registers = Array(words)
        # Writes: address and data together, one response.
        write = self.s_axil_awvalid & self.s_axil_wvalid & ~self.s_axil_bvalid
        m.d.comb += [self.s_axil_awready.eq(write), self.s_axil_wready.eq(write)]
        with m.If(write):
            m.d.sync += self.s_axil_bvalid.eq(1)
            with m.If(self.s_axil_awaddr[2:] == AXI_REGISTERS["SAMPLES_PER_PACKET"] // 4):
                m.d.sync += samples_per_packet.eq(self.s_axil_wdata)
        with m.Elif(self.s_axil_bvalid & self.s_axil_bready):
            m.d.sync += self.s_axil_bvalid.eq(0)
        # Reads: one outstanding.
        m.d.comb += self.s_axil_arready.eq(~self.s_axil_rvalid)
        with m.If(self.s_axil_arvalid & self.s_axil_arready):
            m.d.sync += [self.s_axil_rvalid.eq(1),
                         self.s_axil_rdata.eq(registers[self.s_axil_araddr[2:]])]
        with m.Elif(self.s_axil_rvalid & self.s_axil_rready):
            m.d.sync += self.s_axil_rvalid.eq(0)
        return m
