"""Formal building blocks for stream harnesses: a free environment and a beat scoreboard.

`source` and `sink` are the environment (free values, constrained by `Assume` only);
`obeys_stream_rules` and `Scoreboard` state what the design under test must do.
"""

from amaranth import Module, Signal
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume
from amaranth.lib import wiring

__all__ = ["source", "sink", "waiting_sink", "obeys_stream_rules", "makes_progress", "Scoreboard",
           "StreamMutant"]


def _raw(value):
    return value.as_value() if hasattr(value, "as_value") else value


def _flat(port):
    """The signals of a port member, an array member's (nested lists) in order."""
    if isinstance(port, list):
        return [signal for item in port for signal in _flat(item)]
    return [port]


def _held(m, valid, ready, payload, name):
    """(pending, last payload): the previous step offered `payload` and was not accepted."""
    payload = _raw(payload)
    pending = Signal(name=f"{name}_pending")
    last = Signal(len(payload), name=f"{name}_last")
    m.d.sync += [pending.eq(valid & ~ready), last.eq(payload)]
    return pending, last, payload


def source(m, valid, ready, payload, *, name="source", value=None):
    """Drive `valid` and `payload` (`value`, free by default) freely, holding both from the
    moment `valid` rises until `ready` (the stream rules a well-behaved producer obeys)."""
    if value is None:
        value = AnySeq(len(_raw(payload)))
    m.d.comb += [valid.eq(AnySeq(1)), _raw(payload).eq(value)]
    pending, last, raw = _held(m, valid, ready, payload, name)
    with m.If(pending):
        m.d.comb += Assume(valid & (raw == last))


def sink(m, ready):
    """Any backpressure pattern."""
    m.d.comb += ready.eq(AnySeq(1))


def obeys_stream_rules(m, valid, ready, payload, *, name="output"):
    """Once the design raises `valid`, it keeps it and its payload until `ready`."""
    pending, last, raw = _held(m, valid, ready, payload, name)
    with m.If(pending):
        m.d.comb += [Assert(valid), Assert(raw == last)]


class Scoreboard:
    """The n-th beat out is the n-th beat in, for a free n; never more beats out than in.

    A beat ``put`` in a step is counted in that step (a combinational block may pass it out at
    once). With the index free, a proof covers every beat up to the bound; a dropped,
    duplicated, reordered or altered beat makes some chosen beat differ.

    Attributes: `puts` and `gets` (beats so far, before this step), `in_flight` (this step).
    """

    def __init__(self, m, *, put, put_data, get, get_data, bits: int = 6, name="beats"):
        put_data, get_data = _raw(put_data), _raw(get_data)
        chosen = AnyConst(bits)
        self.puts = Signal(bits + 1, name=f"{name}_puts")
        self.gets = Signal(bits + 1, name=f"{name}_gets")
        captured = Signal(len(put_data), name=f"{name}_captured")
        m.d.sync += [self.puts.eq(self.puts + put), self.gets.eq(self.gets + get)]
        # the counters never wrap within the bound
        m.d.comb += Assume(~self.puts[bits])
        hit = put & (self.puts == chosen)
        with m.If(hit):
            m.d.sync += captured.eq(put_data)
        datum = Signal(len(put_data), name=f"{name}_datum")
        m.d.comb += datum.eq(captured)
        with m.If(hit):
            m.d.comb += datum.eq(put_data)
        puts_now = self.puts + put
        self.in_flight = Signal(bits + 1, name=f"{name}_in_flight")
        m.d.comb += self.in_flight.eq(puts_now - self.gets - get)
        with m.If(get):
            m.d.comb += Assert(self.gets < puts_now)
            with m.If(self.gets == chosen):
                m.d.comb += Assert(get_data == datum)


def waiting_sink(m, valid, ready):
    """A consumer that raises `ready` only in the step after it saw `valid` (legal: ready may
    wait for valid; valid must not wait for ready)."""
    seen = Signal(name="sink_seen_valid")
    m.d.sync += seen.eq(valid & ~ready)
    m.d.comb += ready.eq(seen)


def makes_progress(m, pending, beat, *, limit: int, name="progress"):
    """While `pending` (the design holds a beat for its consumer), a `beat` leaves within
    `limit` steps."""
    stall = Signal(range(limit + 2), name=f"{name}_stall")
    with m.If(pending & ~beat):
        m.d.sync += stall.eq(stall + 1)
    with m.Else():
        m.d.sync += stall.eq(0)
    m.d.comb += Assert(stall <= limit)


class StreamMutant(wiring.Component):
    """`inner` with its output stream `name` broken: ``drop`` swallows the beats whose payload
    satisfies it (they are taken from `inner` but never offered); ``withdraw`` lowers `valid`
    in every other step while the consumer is not ready; ``wait`` offers a beat only while
    the consumer is ready."""

    def __init__(self, inner, name, *, drop=None, withdraw=False, wait=False):
        self._inner, self._name = inner, name
        self._drop, self._withdraw, self._wait = drop, withdraw, wait
        super().__init__(dict(inner.signature.members))

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self._inner
        for name, member in self.signature.members.items():
            if name == self._name:
                continue
            port, inside = getattr(self, name), getattr(inner, name)
            if member.is_signature:
                wiring.connect(m, wiring.flipped(port), inside)
            elif member.flow == wiring.In:
                m.d.comb += [a.eq(b) for a, b in zip(_flat(inside), _flat(port))]
            else:
                m.d.comb += [a.eq(b) for a, b in zip(_flat(port), _flat(inside))]
        outer, inside = getattr(self, self._name), getattr(inner, self._name)
        dropped = self._drop(inside.payload) if self._drop else 0
        valid = inside.valid & ~dropped
        if self._withdraw:
            phase = Signal()
            m.d.sync += phase.eq(~phase)
            valid = valid & (phase | outer.ready)
        if self._wait:
            valid = valid & outer.ready
        m.d.comb += [outer.payload.eq(inside.payload), outer.valid.eq(valid),
                     inside.ready.eq(outer.ready | dropped)]
        return m
