# amaranth: UnusedElaboratable=no
"""The input stage and the spike buffers never drop, duplicate or reorder a spike.

Input stage: for valid input (indices below the input size, each at most once per timestep),
the n-th non-zero beat accepted is the n-th spike written, in the same timestep; every
timestep's ``last`` commits it; nothing is written or committed while the buffer is not free.

Spike buffer: for a free timestep n, bank b and entry e, the consumer of timestep n sees the
number of spikes the producer wrote to bank b in timestep n, and reads entry e back as the
e-th spike written there, whatever the two sides' pace (the producer may run a slot ahead).
"""

import pytest
from amaranth import Array, Cat, Module, Signal
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume
from amaranth.lib import wiring

from spikeshift.hdl.input_stage import InputStage
from spikeshift.hdl.layouts import spike_entry_layout
from spikeshift.hdl.spike_buffer import SpikeBuffer

from .prove import bound, prove, refute
from .streams import Scoreboard, source

INDEX_BITS, VALUE_BITS, SIZE = 3, 2, 6


def _buffer_free(m, free, commit):
    """A spike buffer's `free`: it may rise at any time (a release), and falls only after a
    commit."""
    was_free = Signal()
    committed = Signal()
    m.d.comb += free.eq(AnySeq(1))
    m.d.sync += [was_free.eq(free), committed.eq(commit)]
    with m.If(was_free & ~committed):
        m.d.comb += Assume(free)


def input_stage_harness(dut) -> Module:
    m = Module()
    m.submodules.dut = dut
    beat, out = dut.i_stream, dut.o_spikes
    source(m, beat.valid, beat.ready, beat.payload)
    _buffer_free(m, out.free, out.commit)
    accept = beat.valid & beat.ready
    seen = Signal(SIZE)                          # indices already sent this timestep
    with m.If(beat.valid):
        m.d.comb += [Assume(beat.payload.index < SIZE),
                     Assume(~seen.bit_select(beat.payload.index, 1))]
    with m.If(accept):
        m.d.sync += seen.eq(seen | (1 << beat.payload.index))
        with m.If(beat.payload.last):
            m.d.sync += seen.eq(0)

    lasts, commits = Signal(5), Signal(5)
    m.d.sync += [lasts.eq(lasts + (accept & beat.payload.last)), commits.eq(commits + out.commit)]
    board = Scoreboard(m, put=accept & (beat.payload.value != 0),
                       put_data=Cat(beat.payload.index, beat.payload.value, lasts),
                       get=out.en[0], get_data=Cat(out.data[0].index, out.data[0].value, commits))
    m.d.comb += [
        Assert(board.in_flight == 0),                   # the stage holds no beat
        Assert(commits + out.commit == lasts + (accept & beat.payload.last)),
        Assert(~out.en[0] | out.free),
        Assert(~out.commit | out.free),
    ]
    return m


def _input_stage(cls=InputStage):
    return cls(index_bits=INDEX_BITS, value_bits=VALUE_BITS, depth=SIZE)


INPUT_DEPTH = bound(10, 20)


def test_input_stage_writes_every_nonzero_beat_once_in_order(tmp_path):
    prove(input_stage_harness(_input_stage()), tmp_path, depth=INPUT_DEPTH)


class DropsLastIndex(InputStage):
    """Treats the last valid index as out of range."""

    def elaborate(self, platform):
        self._depth -= 1
        try:
            return super().elaborate(platform)
        finally:
            self._depth += 1


class IgnoresFree(wiring.Component):
    """Accepts beats while both buffer slots are full."""

    def __init__(self, **kwargs):
        self._inner = InputStage(**kwargs)
        super().__init__(dict(self._inner.signature.members))

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self._inner
        wiring.connect(m, wiring.flipped(self.i_stream), inner.i_stream)
        m.d.comb += [self.o_spikes.en.eq(inner.o_spikes.en),
                     *(a.eq(b) for a, b in zip(self.o_spikes.data, inner.o_spikes.data)),
                     self.o_spikes.commit.eq(inner.o_spikes.commit), inner.o_spikes.free.eq(1)]
        return m


@pytest.mark.parametrize("mutant", [DropsLastIndex, IgnoresFree], ids=lambda c: c.__name__)
def test_input_stage_proof_catches_mutant(mutant, tmp_path):
    refute(input_stage_harness(_input_stage(mutant)), tmp_path, depth=INPUT_DEPTH)


BANKS, DEPTH = 2, 2
ENTRY = spike_entry_layout(2, 2)
BUFFER_DEPTH = bound(12, 22)


def spike_buffer_harness(dut) -> Module:
    m = Module()
    m.submodules.dut = dut
    w, r = dut.w, dut.r
    m.d.comb += [w.en.eq(AnySeq(BANKS)), w.commit.eq(AnySeq(1)),
                 r.bank.eq(AnySeq(len(r.bank))), r.entry.eq(AnySeq(len(r.entry))),
                 r.release.eq(AnySeq(1))]
    m.d.comb += [w.data[b].as_value().eq(AnySeq(ENTRY.size)) for b in range(BANKS)]
    # the producer writes only to a free slot, at most DEPTH entries per bank and timestep;
    # the consumer releases only a full slot
    written = [Signal(range(DEPTH + 1), name=f"written_{b}") for b in range(BANKS)]
    m.d.comb += [Assume(~(w.en.any() | w.commit) | w.free), Assume(~r.release | r.full),
                 Assume(r.bank < BANKS)]
    for b in range(BANKS):
        m.d.comb += Assume(~w.en[b] | (written[b] < DEPTH))
        with m.If(w.commit):
            m.d.sync += written[b].eq(0)
        with m.Elif(w.en[b]):
            m.d.sync += written[b].eq(written[b] + 1)

    n, bank, entry = AnyConst(2), AnyConst(range(BANKS)), AnyConst(range(DEPTH))
    commits, releases = Signal(3), Signal(3)
    m.d.sync += [commits.eq(commits + w.commit), releases.eq(releases + r.release)]
    m.d.comb += Assume(~commits[2])
    datum, count = Signal(ENTRY.size), Signal(range(DEPTH + 1))
    written_now = Array(written)[bank]
    with m.If((commits == n) & w.en.bit_select(bank, 1)):
        with m.If(written_now == entry):
            m.d.sync += datum.eq(Array(d.as_value() for d in w.data)[bank])
    with m.If((commits == n) & w.commit):
        m.d.sync += count.eq(written_now + w.en.bit_select(bank, 1))

    m.d.comb += [Assert(r.full == (releases != commits)), Assert(w.free == (commits - releases
                                                                           < 2))]
    current = r.full & (releases == n)
    with m.If(current):
        m.d.comb += Assert(Array(r.counts)[bank] == count)
    check = Signal()
    m.d.sync += check.eq(current & (r.bank == bank) & (r.entry == entry) & (entry < count))
    with m.If(check):
        m.d.comb += Assert(r.data.as_value() == datum)
    return m


def test_spike_buffer_hands_every_timestep_over_intact(tmp_path):
    prove(spike_buffer_harness(SpikeBuffer(banks=BANKS, depth=DEPTH, entry=ENTRY)), tmp_path,
          depth=BUFFER_DEPTH)


class ShallowBanks(SpikeBuffer):
    """Lays the two slots out one entry apart: a timestep's second spike lands in the next
    slot's first entry."""

    def elaborate(self, platform):
        self._depth -= 1
        try:
            return super().elaborate(platform)
        finally:
            self._depth += 1


class AlwaysFree(wiring.Component):
    """Tells the producer it may write while both slots are full."""

    def __init__(self):
        self._inner = SpikeBuffer(banks=BANKS, depth=DEPTH, entry=ENTRY)
        super().__init__(dict(self._inner.signature.members))

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self._inner
        wiring.connect(m, wiring.flipped(self.r), inner.r)
        m.d.comb += [inner.w.en.eq(self.w.en),
                     *(a.eq(b) for a, b in zip(inner.w.data, self.w.data)),
                     inner.w.commit.eq(self.w.commit), self.w.free.eq(1)]
        return m


@pytest.mark.parametrize("mutant", ["ShallowBanks", "AlwaysFree"])
def test_spike_buffer_proof_catches_mutant(mutant, tmp_path):
    dut = (ShallowBanks(banks=BANKS, depth=DEPTH, entry=ENTRY) if mutant == "ShallowBanks"
           else AlwaysFree())
    refute(spike_buffer_harness(dut), tmp_path, depth=BUFFER_DEPTH)
