# amaranth: UnusedElaboratable=no
"""The result buffer streams every committed sample once, in neuron order, under any
backpressure, and its stream obeys the stream rules.

Scoreboard: a free sample n and neuron j; the value last written to j before the n-th commit
must be the j-th beat of the n-th sample out, ``last`` must close every sample, and the buffer
is free exactly when every committed sample has left (so none is skipped, cut or repeated).
"""

import pytest
from amaranth import Array, Module, Signal, signed
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from spikeshift.gen.ir.formats import IntFormat
from spikeshift.hdl.result_buffer import ResultBuffer, result_write_signature

from .prove import bound, prove, refute
from .streams import makes_progress, obeys_stream_rules, sink, waiting_sink

SIZE, LANES, FMT = 3, 2, IntFormat(bits=4)
CHUNKS = -(-SIZE // LANES)
DEPTH = bound(16, 30)


def harness(dut, *, waiting: bool = False) -> Module:
    m = Module()
    m.submodules.dut = dut
    w, out = dut.w, dut.o_stream
    m.d.comb += [w.en.eq(AnySeq(1)), w.chunk.eq(AnySeq(len(w.chunk))),
                 w.commit.eq(AnySeq(1))]
    m.d.comb += [w.values[p].eq(AnySeq(FMT.bits)) for p in range(LANES)]
    # the last core writes and commits only while the buffer is free
    m.d.comb += [Assume(~w.en | w.free), Assume(~w.commit | w.free), Assume(w.chunk < CHUNKS)]
    if waiting:
        waiting_sink(m, out.valid, out.ready)
        makes_progress(m, ~w.free, out.valid & out.ready, limit=2)
    else:
        sink(m, out.ready)
    obeys_stream_rules(m, out.valid, out.ready, out.payload)

    n, j = AnyConst(3), AnyConst(range(SIZE))
    commits, samples_out = Signal(4), Signal(4)
    index = Signal(range(SIZE))
    latest, expected = Signal(signed(FMT.bits)), Signal(signed(FMT.bits))
    with m.If(w.en & (w.chunk == j // LANES)):
        m.d.sync += latest.eq(Array(w.values)[j % LANES])
    with m.If(w.commit):
        m.d.sync += commits.eq(commits + 1)
        with m.If(commits == n):
            m.d.sync += expected.eq(latest)
            with m.If(w.en & (w.chunk == j // LANES)):
                m.d.sync += expected.eq(Array(w.values)[j % LANES])
    m.d.comb += Assume(commits < 15)
    beat = out.valid & out.ready
    with m.If(beat):
        m.d.sync += index.eq(0 if SIZE == 1 else index + 1)
        with m.If(index == SIZE - 1):
            m.d.sync += [index.eq(0), samples_out.eq(samples_out + 1)]
        m.d.comb += Assert(out.payload.last == (index == SIZE - 1))
        with m.If((samples_out == n) & (index == j)):
            m.d.comb += Assert(out.payload.value == expected)
    m.d.comb += [Assert(w.free == (samples_out == commits)),
                 Assert(~out.valid | (samples_out < commits))]
    return m


def test_result_buffer_streams_every_committed_sample_once_in_order(tmp_path):
    prove(harness(ResultBuffer(size=SIZE, lanes=LANES, fmt=FMT)), tmp_path, depth=DEPTH)


def test_result_buffer_offers_results_to_a_consumer_that_waits_for_valid(tmp_path):
    prove(harness(ResultBuffer(size=SIZE, lanes=LANES, fmt=FMT), waiting=True), tmp_path,
          depth=DEPTH)


class EndsEarly(ResultBuffer):
    """Streams one value too few: the sample's last neuron is dropped."""

    def elaborate(self, platform):
        self._size -= 1
        try:
            return super().elaborate(platform)
        finally:
            self._size += 1


class ValidWaitsForReady(wiring.Component):
    """Offers a result only while the consumer is ready: valid depends on ready."""

    def __init__(self):
        self._inner = ResultBuffer(size=SIZE, lanes=LANES, fmt=FMT)
        super().__init__({"w": In(result_write_signature(LANES, CHUNKS, FMT)),
                          "o_stream": Out(self._inner.o_stream.signature)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self._inner
        wiring.connect(m, wiring.flipped(self.w), inner.w)
        m.d.comb += [self.o_stream.payload.eq(inner.o_stream.payload),
                     self.o_stream.valid.eq(inner.o_stream.valid & self.o_stream.ready),
                     inner.o_stream.ready.eq(self.o_stream.ready)]
        return m


@pytest.mark.parametrize("mutant", [EndsEarly, ValidWaitsForReady], ids=lambda c: c.__name__)
def test_result_buffer_proof_catches_mutant(mutant, tmp_path):
    dut = mutant(size=SIZE, lanes=LANES, fmt=FMT) if mutant is EndsEarly else mutant()
    refute(harness(dut, waiting=mutant is ValidWaitsForReady), tmp_path, depth=DEPTH)
