# amaranth: UnusedElaboratable=no
"""The AXI wrapper's stream side passes every beat through unchanged and keeps the rules.

The accelerator behind the wrapper is replaced by a free stand-in (its input `ready` any
pattern, its results any stream obeying the rules), so the proof is about the wrapper for every
accelerator: each AXI input word is the accelerator's input beat of the same step, fields
split as spikeshift.gen.ir.link says; each result is the next AXI output word, sign-extended;
``m_axis_tvalid`` never waits for ``tready``; ``tlast`` closes every SAMPLES_PER_PACKET-th
sample (written over AXI4-Lite at any time).
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
from spikeshift.gen.ir.link import AXI_INDEX_BITS, AXI_REGISTERS, AXI_VALUE_BITS
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

    def __init__(self, design):
        first = design.layers[0]
        super().__init__({
            "i_stream": In(stream.Signature(input_event_layout(first.in_index_bits,
                                                               first.in_value.bits))),
            "o_stream": Out(stream.Signature(result_layout(design.result))),
            "busy": Out(len(design.layers)),
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
    with m.If(dut.s_axis_tvalid):
        # valid input: fields within the accelerator's widths (wider ones are cut, see README)
        m.d.comb += [Assume(index < (1 << len(beat.payload.index))),
                     Assume(value < (1 << len(beat.payload.value)))]
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
    # the host changes the packet size only while no result waits (else tlast may change
    # under a stalled beat; see README)
    m.d.comb += Assume(~(packet_write & dut.m_axis_tvalid))
    with m.If(packet_write):
        m.d.sync += per_packet.eq(dut.s_axil_wdata)
    m.d.comb += Assume(per_packet < 4)
    sent = dut.m_axis_tvalid & dut.m_axis_tready
    with m.If(dut.m_axis_tvalid):
        m.d.comb += Assert(dut.m_axis_tlast == (result.payload.last
                                                & (in_packet + 1 >= per_packet)))
    with m.If(sent & result.payload.last):
        m.d.sync += in_packet.eq(in_packet + 1)
        with m.If(dut.m_axis_tlast):
            m.d.sync += in_packet.eq(0)
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
}


@pytest.mark.parametrize("name", MUTANTS)
def test_axi_proof_catches_mutant(name, tmp_path):
    constant, value = MUTANTS[name]
    with mock.patch.object(axi, constant, value):
        m = harness(lambda: axi.AxiAccelerator(DESIGN))
    refute(m, tmp_path, depth=DEPTH)
