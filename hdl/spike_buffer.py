"""Double-buffered spike lists between layer cores: the event-driven hand-off.

A producer with P lanes appends each lane's non-zero spikes to that lane's bank (one write
port per bank, so all lanes write in the same cycle); the consumer walks the non-empty banks
one entry per cycle. The order of a timestep's spikes never matters (addition commutes and the
accumulator cannot overflow). Two slots let the producer write timestep t + 1 while the
consumer reads timestep t.
"""

from functools import reduce
from operator import or_

from amaranth import Array, Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["spike_write_signature", "spike_read_signature", "one_hot_select", "SpikeBuffer"]


def _count_shape(depth: int):
    return unsigned(max(1, depth.bit_length()))


def spike_write_signature(banks: int, depth: int, entry: data.Layout) -> wiring.Signature:
    """Producer side: `free` (the producer's slot may be written), `free_next` (so may the
    slot after it: for a producer whose commit is still in its pipeline), per-bank
    `en`/`data`, `commit`."""
    return wiring.Signature({
        "free": In(1),
        "free_next": In(1),
        "en": Out(banks),
        "data": Out(entry).array(banks),
        "commit": Out(1),
    })


def spike_read_signature(banks: int, depth: int, entry: data.Layout,
                         ports: int = 1) -> wiring.Signature:
    """Consumer side: `full`, per-bank `counts`, read `bank` (one-hot)/`entry` -> `data` (1
    cycle later), and `release` to hand the slot back; with two `ports` also
    `pair_bank`/`pair_entry` -> `pair_data`, a second read of any entry in the same cycle.
    The banks are one-hot because the consumer's walk holds its position one-hot: handing it
    over as is keeps a decode and a re-encode off the read path."""
    if ports not in (1, 2):
        raise ValueError(f"spike buffer read ports must be 1 or 2, not {ports!r}")
    pair = {"pair_bank": Out(banks), "pair_entry": Out(range(depth)),
            "pair_data": In(entry)} if ports == 2 else {}
    return wiring.Signature({
        "full": In(1),
        "counts": In(_count_shape(depth)).array(banks),
        "bank": Out(banks),
        "entry": Out(range(depth)),
        "data": In(entry),
        "release": Out(1),
        **pair,
    })


def one_hot_select(one_hot, values):
    """The value whose bit of `one_hot` is set: an AND-OR over the values, shallower than a
    mux tree."""
    return reduce(or_, (Mux(one_hot[b], value.as_value(), 0) for b, value in enumerate(values)))


class SpikeBuffer(wiring.Component):
    """Two slots of `banks` spike lists of up to `depth` entries each.

    `commit` marks the producer's slot full and moves the producer to the other slot;
    `release` empties the consumer's slot and moves the consumer on. Reads have one cycle of
    latency. The producer writes only while `free` and at most `depth` entries per bank. The
    consumer's `counts` are registers of their own (kept equal to its slot's counts), so that
    the consumer's bank walk starts from flip-flops, not from a slot select.

    Members
    -------
    w : ``In(spike_write_signature(banks, depth, entry))``
    r : ``In(spike_read_signature(banks, depth, entry, read_ports))``
    """

    def __init__(self, *, banks: int, depth: int, entry: data.Layout, read_ports: int = 1):
        self._banks, self._depth, self._entry = banks, depth, entry
        self._pair = read_ports == 2
        super().__init__({
            "w": In(spike_write_signature(banks, depth, entry)),
            "r": In(spike_read_signature(banks, depth, entry, read_ports)),
        })

    def elaborate(self, platform):
        m = Module()
        banks, depth = self._banks, self._depth
        w_slot, r_slot = Signal(), Signal()
        full = Signal(2)
        counts = [Array(Signal(_count_shape(depth), name=f"count_{s}_{b}") for s in range(2))
                  for b in range(banks)]
        memories = []
        for b in range(banks):
            mem = m.submodules[f"bank_{b}"] = Memory(shape=self._entry, depth=2 * depth, init=[])
            memories.append(mem)
            wr = mem.write_port()
            count = counts[b][w_slot]
            read_count = Signal(_count_shape(depth), name=f"read_count_{b}")
            m.d.comb += [
                wr.addr.eq(Mux(w_slot, depth + count, count)),
                wr.data.eq(self.w.data[b]),
                wr.en.eq(self.w.en[b]),
                self.r.counts[b].eq(read_count),
            ]
            with m.If(self.w.en[b]):
                m.d.sync += count.eq(count + 1)
            with m.If(self.r.release):
                m.d.sync += counts[b][r_slot].eq(0)
            # the consumer's slot's count as it will be: the other slot's after a release
            written = self.w.en[b] & (w_slot != r_slot)
            m.d.sync += read_count.eq(Mux(self.r.release, counts[b][~r_slot] + written,
                                          read_count + (self.w.en[b] & (w_slot == r_slot))))
        reads = [(self.r.bank, self.r.entry, self.r.data, "read")]
        if self._pair:
            reads.append((self.r.pair_bank, self.r.pair_entry, self.r.pair_data, "pair"))
        for bank, entry, data_out, name in reads:
            read_bank = Signal(banks, name=f"{name}_bank")
            m.d.sync += read_bank.eq(bank)
            ports = [mem.read_port() for mem in memories]
            m.d.comb += [*(port.addr.eq(Mux(r_slot, depth + entry, entry)) for port in ports),
                         data_out.eq(one_hot_select(read_bank, [port.data for port in ports]))]
        m.d.comb += [
            self.w.free.eq(~full.bit_select(w_slot, 1)),
            self.w.free_next.eq(~full.bit_select(~w_slot, 1)),
            self.r.full.eq(full.bit_select(r_slot, 1)),
        ]
        set_mask = Mux(self.w.commit, Mux(w_slot, 0b10, 0b01), 0)
        clear_mask = Mux(self.r.release, Mux(r_slot, 0b10, 0b01), 0)
        m.d.sync += full.eq((full | set_mask) & ~clear_mask)
        with m.If(self.w.commit):
            m.d.sync += w_slot.eq(~w_slot)
        with m.If(self.r.release):
            m.d.sync += r_slot.eq(~r_slot)
        return m
