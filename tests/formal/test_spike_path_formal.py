# amaranth: UnusedElaboratable=no
"""The input stage and the spike buffers never drop, duplicate or reorder a spike.

Input stage, for any input (no assumption on the beats): the harness classifies every accepted
beat by the drop rules of README "Bad input" (extra beat, then index >= size, then an index
already kept this timestep, then value > value_max); the n-th kept non-zero beat is the n-th
spike written, whole and in the same timestep, `INPUT_STAGE_LATENCY` - 1 cycles after its
accept (the stage's pipeline); every timestep's ``last`` commits it as late, on a dropped beat
too; each counter counts its kind as late; the stage holds no beat but those of the last
cycles, is ready exactly while the slot its beat goes to is free (the one after the slots of
the beats ahead that commit), and writes or commits nothing otherwise. Index and value fields are
wider than the entry's, so a truncated field would alias a kept one.

Spike buffer: for a free timestep n, bank b and entry e, the consumer of timestep n sees the
number of spikes the producer wrote to bank b in timestep n, and reads entry e back as the
e-th spike written there, whatever the two sides' pace (the producer may run a slot ahead).
"""

from unittest import mock

import pytest
from amaranth import Array, Cat, Module, Mux, Signal
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In

from spikeshift.gen.ir.link import DROP_COUNTERS, INPUT_STAGE_LATENCY
from spikeshift.hdl import input_stage
from spikeshift.hdl.input_stage import InputStage
from spikeshift.hdl.layouts import input_event_layout, spike_entry_layout
from spikeshift.hdl.spike_buffer import SpikeBuffer

from .prove import bound, prove, refute
from .streams import Scoreboard, source

# indices 3..7 and values 3..7 are bad; index 4 and value 4 would alias 0 in the entry's width
SIZE, INDEX_BITS, ENTRY_INDEX_BITS, VALUE_BITS, VALUE_MAX = 3, 3, 2, 3, 2
#: cycles from a beat's accept to its write (the stage's pipeline)
DELAY = INPUT_STAGE_LATENCY - 1


def _buffer_free(m, free, free_next, commit):
    """A spike buffer's `free` and `free_next` (its two slots, the producer's first): either may
    rise at any time (a release); a commit moves the producer to the next slot, and a slot is
    filled only by a commit."""
    was_free, was_free_next = Signal(), Signal()
    committed = Signal()
    m.d.comb += [free.eq(AnySeq(1)), free_next.eq(AnySeq(1))]
    m.d.sync += [was_free.eq(free), was_free_next.eq(free_next), committed.eq(commit)]
    with m.If(committed):
        m.d.comb += Assume(free | ~was_free_next)
    with m.Else():
        m.d.comb += Assume((free | ~was_free) & (free_next | ~was_free_next))


def _delayed(m, value, cycles: int, name: str):
    """`value` as it was `cycles` cycles ago (0 before the first)."""
    for n in range(cycles):
        later = Signal.like(value, name=f"{name}_{n + 1}")
        m.d.sync += later.eq(value)
        value = later
    return value


def _widened(m, value, bits, name):
    wide = Signal(bits, name=name)
    m.d.comb += wide.eq(value)
    return wide


def input_stage_harness(dut) -> Module:
    m = Module()
    m.submodules.dut = dut
    beat, out = dut.i_stream, dut.o_spikes
    source(m, beat.valid, beat.ready, beat.payload)
    _buffer_free(m, out.free, out.free_next, out.commit)
    accept = beat.valid & beat.ready
    index, value, last = beat.payload.index, beat.payload.value, beat.payload.last

    # the drop rules, restated: beats of this timestep so far and the indices kept
    beats = Signal(range(SIZE + 2))
    kept = Signal(SIZE)
    extra = beats >= SIZE
    bad_index = ~extra & (index >= SIZE)
    duplicate = ~extra & ~bad_index & (kept >> index)[0]
    bad_value = ~extra & ~bad_index & ~duplicate & (value > VALUE_MAX)
    keep = ~(extra | bad_index | duplicate | bad_value)
    with m.If(accept):
        with m.If(last):
            m.d.sync += [beats.eq(0), kept.eq(0)]
        with m.Else():
            m.d.sync += beats.eq(beats + ~extra)
            with m.If(keep):
                m.d.sync += kept.eq(kept | (1 << index))
    kinds = {"extra_beats": extra, "bad_indices": bad_index, "duplicates": duplicate,
             "bad_values": bad_value}
    for name in DROP_COUNTERS:
        count = Signal(5, name=f"ref_{name}")
        m.d.sync += count.eq(count + (accept & kinds[name]))
        m.d.comb += Assert(getattr(dut, name) == _delayed(m, count, DELAY, f"ref_{name}"))

    lasts, commits = Signal(5), Signal(5)
    m.d.sync += [lasts.eq(lasts + (accept & last)), commits.eq(commits + out.commit)]
    # beats accepted in the last DELAY cycles with `last`: their commits are still to come
    closing = [_delayed(m, accept & last, n, "closing") for n in range(1, DELAY + 1)]
    closing_ahead = sum(closing)
    entry = out.data[0]
    put = accept & keep & (value != 0)
    held = sum(_delayed(m, put, n, "put") for n in range(DELAY))
    board = Scoreboard(m, put=put, put_data=Cat(index, value, lasts),
                       get=out.en[0],
                       get_data=Cat(_widened(m, entry.index, INDEX_BITS, "written_index"),
                                    _widened(m, entry.value, VALUE_BITS, "written_value"),
                                    commits))
    m.d.comb += [
        Assert(board.in_flight == held),    # only the beats of the last DELAY cycles are held
        Assert(commits + out.commit == _delayed(m, lasts, DELAY - 1, "lasts")),
        Assert(beat.ready == Mux(closing_ahead == 0, out.free,
                                 (closing_ahead == 1) & out.free_next)),
        Assert(~out.en[0] | out.free),
        Assert(~out.commit | out.free),
    ]
    return m


def _input_stage(cls=InputStage, **kwargs):
    return cls(size=SIZE, index_bits=INDEX_BITS, value_bits=VALUE_BITS,
               entry_index_bits=ENTRY_INDEX_BITS, value_max=VALUE_MAX, **kwargs)


INPUT_DEPTH = bound(12, 24)


def test_input_stage_writes_exactly_the_beats_the_drop_rules_keep(tmp_path):
    prove(input_stage_harness(_input_stage()), tmp_path, depth=INPUT_DEPTH)


class Unchecked(InputStage):
    """Skips the drop rules named `rules` (their counters stay 0), or checks all of them in
    the order `rules` gives."""

    def __init__(self, *, rules, **kwargs):
        self._rules = rules
        super().__init__(**kwargs)

    def elaborate(self, platform):
        with mock.patch.object(input_stage, "DROP_COUNTERS", self._rules):
            return super().elaborate(platform)


class DropsLastIndex(InputStage):
    """Treats the last valid index as out of range."""

    def elaborate(self, platform):
        self._size -= 1
        try:
            return super().elaborate(platform)
        finally:
            self._size += 1


class TruncatesFields(wiring.Component):
    """The input path before the stage defended itself: index and value cut to the entry's
    widths (an out-of-range index or value aliases a valid one)."""

    def __init__(self):
        self._inner = InputStage(size=SIZE, index_bits=ENTRY_INDEX_BITS,
                                 value_bits=VALUE_MAX.bit_length(),
                                 entry_index_bits=ENTRY_INDEX_BITS, value_max=VALUE_MAX)
        members = dict(self._inner.signature.members)
        members["i_stream"] = In(stream.Signature(input_event_layout(INDEX_BITS, VALUE_BITS)))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self._inner
        outer = self.i_stream
        m.d.comb += [inner.i_stream.valid.eq(outer.valid), outer.ready.eq(inner.i_stream.ready),
                     inner.i_stream.payload.index.eq(outer.payload.index),
                     inner.i_stream.payload.value.eq(outer.payload.value),
                     inner.i_stream.payload.last.eq(outer.payload.last)]
        wiring.connect(m, wiring.flipped(self.o_spikes), inner.o_spikes)
        m.d.comb += [getattr(self, name).eq(getattr(inner, name)) for name in DROP_COUNTERS]
        return m


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
                     self.o_spikes.commit.eq(inner.o_spikes.commit), inner.o_spikes.free.eq(1),
                     inner.o_spikes.free_next.eq(1),
                     *(getattr(self, name).eq(getattr(inner, name)) for name in DROP_COUNTERS)]
        return m


def _without(rule):
    return lambda: _input_stage(Unchecked, rules=tuple(r for r in DROP_COUNTERS if r != rule))


INPUT_STAGE_MUTANTS = {
    **{f"keeps-{rule.replace('_', '-')}": _without(rule) for rule in DROP_COUNTERS},
    "values-checked-first": lambda: _input_stage(Unchecked, rules=DROP_COUNTERS[-1:]
                                                 + DROP_COUNTERS[:-1]),
    "drops-last-index": lambda: _input_stage(DropsLastIndex),
    "truncates-fields": TruncatesFields,
    "ignores-free": lambda: _input_stage(IgnoresFree),
}


@pytest.mark.parametrize("name", INPUT_STAGE_MUTANTS)
def test_input_stage_proof_catches_mutant(name, tmp_path):
    refute(input_stage_harness(INPUT_STAGE_MUTANTS[name]()), tmp_path, depth=INPUT_DEPTH)


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
                 Assume((r.bank != 0) & ((r.bank & (r.bank - 1)) == 0))]     # one-hot
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
    m.d.sync += check.eq(current & r.bank.bit_select(bank, 1) & (r.entry == entry)
                         & (entry < count))
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
