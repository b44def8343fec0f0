"""A recurrent core's private copy of its own spike list of the previous timestep.

The core's output buffer may already be walked and released (emptied) by the next core
before the core starts its next timestep, and the last core has none, so the spikes it feeds
back are kept here: each lane appends its non-zero spikes to its own bank as it does to the
output buffer, and the core walks the banks of the previous timestep, one entry per cycle.
Two slots alternate (written at t, walked at t + 1); r(-1), the spikes fed back into a
sample's first timestep, is a third, read-only slot initialised from the network.
"""

from amaranth import Array, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.ir.kinds.dense import FED_BACK_SLOTS
from .spike_buffer import one_hot_select

__all__ = ["FeedbackBuffer"]


class FeedbackBuffer(wiring.Component):
    """`banks` spike lists of up to `depth` entries per timestep, and the constant lists
    `initial` (one list of ``(index, value)`` per bank) shown at a sample's first timestep.

    `commit` (the last cycle of a timestep) turns the lists written during the timestep into
    the ones read during the next, and empties the slot read so far for the next writes.
    While `first` the read side shows `initial`. Reads have one cycle of latency. A timestep
    writes at most `depth` entries per bank, and reads and writes never share a slot.

    Members
    -------
    w : ``In(Signature({"en": Out(banks), "data": Out(entry).array(banks), "commit": Out(1)}))``
        Appends ``data[b]`` to bank b where ``en[b]``.
    r : ``In(Signature({"first": Out(1), "counts": In(...).array(banks), "bank": Out(banks),
        "entry": Out(...), "data": In(entry)}))``
        `counts` of the lists being read; entry `entry` of the bank whose bit of `bank` is set
        (one-hot, as the spike buffer's) on `data` a cycle later.
    """

    def __init__(self, *, banks: int, depth: int, entry: data.Layout, initial: list):
        if len(initial) != banks:
            raise ValueError(f"initial must hold one list per bank ({banks}), not "
                             f"{len(initial)}")
        self._banks, self._depth, self._entry = banks, depth, entry
        self._initial = [list(bank) for bank in initial]
        self._init_depth = max(map(len, self._initial))
        read_depth = max(depth, self._init_depth)
        count = unsigned(read_depth.bit_length())
        super().__init__({
            "w": In(wiring.Signature({
                "en": Out(banks),
                "data": Out(entry).array(banks),
                "commit": Out(1),
            })),
            "r": In(wiring.Signature({
                "first": Out(1),
                "counts": In(count).array(banks),
                "bank": Out(banks),
                "entry": Out(range(read_depth)),
                "data": In(entry),
            })),
        })

    def elaborate(self, platform):
        m = Module()
        banks, depth = self._banks, self._depth
        count_shape = unsigned(max(depth, self._init_depth).bit_length())
        init_base = FED_BACK_SLOTS * depth
        w_slot = Signal()                     # the slot written now; the other one is read
        read_bank = Signal(banks)
        m.d.sync += read_bank.eq(self.r.bank)
        read_data = []
        for b in range(banks):
            counts = Array(Signal(count_shape, name=f"count_{s}_{b}")
                           for s in range(FED_BACK_SLOTS))
            initial = [{"index": index, "value": value} for index, value in self._initial[b]]
            mem = m.submodules[f"bank_{b}"] = Memory(
                shape=self._entry, depth=init_base + self._init_depth,
                init=[{}] * init_base + initial + [{}] * (self._init_depth - len(initial)))
            wr, rd = mem.write_port(), mem.read_port()
            count = counts[w_slot]
            m.d.comb += [
                wr.addr.eq(Mux(w_slot, depth + count, count)),
                wr.data.eq(self.w.data[b]),
                wr.en.eq(self.w.en[b]),
                rd.addr.eq(Mux(self.r.first, init_base, Mux(w_slot, 0, depth)) + self.r.entry),
                self.r.counts[b].eq(Mux(self.r.first, Const(len(initial), count_shape),
                                        counts[~w_slot])),
            ]
            with m.If(self.w.en[b]):
                m.d.sync += count.eq(count + 1)
            with m.If(self.w.commit):
                m.d.sync += counts[~w_slot].eq(0)
            read_data.append(rd.data)
        m.d.comb += self.r.data.eq(one_hot_select(read_bank, read_data))
        with m.If(self.w.commit):
            m.d.sync += w_slot.eq(~w_slot)
        return m
