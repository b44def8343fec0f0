# amaranth: UnusedElaboratable=no
"""The AXI wrapper's stream side passes every beat through unchanged and keeps the rules.

The accelerator behind the wrapper is replaced by a free stand-in (its input `ready` any
pattern, its results any stream obeying the rules), so the proof is about the wrapper for every
accelerator: each AXI input word is the accelerator's input beat of the same step, fields
split as spikeshift.gen.ir.link says and passed whole (the accelerator's input stage drops
out-of-range ones); each result is the next AXI output word, sign-extended; ``m_axis_tvalid``,
``tdata`` and ``tlast`` are held until ``tready``; ``tlast`` closes every SAMPLES_PER_PACKET-th
sample, counted with the size in force when the beat was first offered (the register is
written over AXI4-Lite at any time, also while a beat waits); the drop counters read back.
"""

from unittest import mock

import numpy as np
import pytest
from amaranth import Module, Signal
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Assume
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.link import (
    AXI_INDEX_BITS,
    AXI_REGISTERS,
    AXI_VALUE_BITS,
    COUNTER_BITS,
    DROP_COUNTERS,
)
from spikeshift.gen.ir.synthetic import random_network
from spikeshift.hdl import axi
from spikeshift.hdl.layouts import input_event_layout, result_layout

from .prove import bound, prove, refute
from .streams import Scoreboard, obeys_stream_rules, sink, source

DESIGN = plan(random_network(np.random.default_rng(3), max_layers=1, max_size=6))
DEPTH = bound(12, 24)


class FreeAccelerator(wiring.Component):
    """Stands in for the accelerator: the harness drives its outputs."""

    instances = []

    def __init__(self, design, *, index_bits, value_bits):
        super().__init__({
            "i_stream": In(stream.Signature(input_event_layout(index_bits, value_bits))),
            "o_stream": Out(stream.Signature(result_layout(design.result))),
            "busy": Out(len(design.layers)),
            **{name: Out(COUNTER_BITS) for name in DROP_COUNTERS},
        })
        FreeAccelerator.instances.append(self)

    def elaborate(self, platform):
        return Module()


def harness(make) -> Module:
    m = Module()
    FreeAccelerator.instances.clear()
    with mock.patch.object(axi, "Accelerator", FreeAccelerator):
        dut = make()
        m.submodules.dut = dut.elaborate(None)
    acc, = FreeAccelerator.instances
    # the environment: AXI inputs free (the input stream obeying the rules), a free stand-in
    for name, direction, width in axi.AXI_PORTS:
        if direction == "input" and name not in ("s_axis_tvalid", "s_axis_tdata",
                                                 "m_axis_tready"):
            m.d.comb += getattr(dut, name).eq(AnySeq(width))
    source(m, dut.s_axis_tvalid, dut.s_axis_tready, dut.s_axis_tdata, name="s_axis")
    sink(m, dut.m_axis_tready)
    m.d.comb += acc.i_stream.ready.eq(AnySeq(1))
    source(m, acc.o_stream.valid, acc.o_stream.ready, acc.o_stream.payload, name="results")

    word, beat = dut.s_axis_tdata, acc.i_stream
    m.d.comb += [Assert(beat.valid == dut.s_axis_tvalid),
                 Assert(dut.s_axis_tready == beat.ready)]
    index, value = word[:AXI_INDEX_BITS], word[AXI_INDEX_BITS:][:AXI_VALUE_BITS]
    with m.If(beat.valid):
        m.d.comb += [Assert(beat.payload.index == index),
                     Assert(beat.payload.value == value),
                     Assert(beat.payload.last == word[AXI_INDEX_BITS + AXI_VALUE_BITS])]

    obeys_stream_rules(m, dut.m_axis_tvalid, dut.m_axis_tready, _word(m, dut))
    result = acc.o_stream
    Scoreboard(m, put=result.valid & result.ready, put_data=_extended(m, result.payload.value),
               get=dut.m_axis_tvalid & dut.m_axis_tready, get_data=dut.m_axis_tdata, bits=3)

    per_packet, in_packet = Signal(32, init=1), Signal(32)
    write = (dut.s_axil_awvalid & dut.s_axil_awready & dut.s_axil_wvalid & dut.s_axil_wready)
    packet_write = write & (dut.s_axil_awaddr[2:] == AXI_REGISTERS["SAMPLES_PER_PACKET"] // 4)
    with m.If(packet_write):
        m.d.sync += per_packet.eq(dut.s_axil_wdata)
    m.d.comb += Assume(per_packet < 4)
    # the packet size of the beat on offer: the latest written, or the one in force when the
    # beat now waiting was first offered
    waiting, offered_size = Signal(), Signal(32)
    size = Signal(32)
    m.d.comb += size.eq(per_packet)
    with m.If(waiting):
        m.d.comb += size.eq(offered_size)
    m.d.sync += [waiting.eq(dut.m_axis_tvalid & ~dut.m_axis_tready), offered_size.eq(size)]
    sent = dut.m_axis_tvalid & dut.m_axis_tready
    with m.If(dut.m_axis_tvalid):
        m.d.comb += Assert(dut.m_axis_tlast == (result.payload.last & (in_packet + 1 >= size)))
    with m.If(sent & result.payload.last):
        m.d.sync += in_packet.eq(in_packet + 1)
        with m.If(dut.m_axis_tlast):
            m.d.sync += in_packet.eq(0)

    # a read of a drop counter returns the accelerator's count
    read = dut.s_axil_arvalid & dut.s_axil_arready
    check, expected = Signal(), Signal(COUNTER_BITS)
    m.d.sync += check.eq(0)
    for name in DROP_COUNTERS:
        counter = getattr(acc, name)
        m.d.comb += counter.eq(AnySeq(COUNTER_BITS))
        with m.If(read & (dut.s_axil_araddr[2:] == AXI_REGISTERS[name.upper()] // 4)):
            m.d.sync += [check.eq(1), expected.eq(counter)]
    with m.If(check):
        m.d.comb += [Assert(dut.s_axil_rvalid), Assert(dut.s_axil_rdata == expected)]
    return m


def _word(m, dut):
    both = Signal(33, name="m_axis_word")
    m.d.comb += both.eq(dut.m_axis_tdata | (dut.m_axis_tlast << 32))
    return both


def _extended(m, value):
    wide = Signal(32, name="result_extended")
    m.d.comb += wide.eq(value.as_signed())
    return wide


def test_axi_wrapper_passes_every_beat_through_unchanged(tmp_path):
    prove(harness(lambda: axi.AxiAccelerator(DESIGN)), tmp_path, depth=DEPTH)


MUTANTS = {
    "index-field": ("AXI_INDEX_BITS", AXI_INDEX_BITS - 1),
    "packet-register": ("AXI_REGISTERS", {**AXI_REGISTERS, "SAMPLES_PER_PACKET": 0x10}),
    "counter-registers": ("AXI_REGISTERS", {**AXI_REGISTERS, "DUPLICATES": 0x2C,
                                            "BAD_VALUES": 0x28}),
    # the wrapper before the fix: tlast follows a packet size written under a waiting beat
    "packet-size-unheld": ("_as_offered", lambda m, valid, ready, value: value),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_axi_proof_catches_mutant(name, tmp_path):
    constant, value = MUTANTS[name]
    with mock.patch.object(axi, constant, value):
        m = harness(lambda: axi.AxiAccelerator(DESIGN))
    refute(m, tmp_path, depth=DEPTH)
