"""The input stream: values of one timestep in, a spike list out (zeros and bad beats dropped)."""

from amaranth import Array, Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..gen.ir.link import COUNTER_BITS, DROP_COUNTERS
from .layouts import input_event_layout, spike_entry_layout
from .spike_buffer import spike_write_signature

__all__ = ["InputStage"]


class InputStage(wiring.Component):
    """Writes the non-zero input values of each timestep into the first spike buffer.

    The host sends a timestep's values as ``{index, value, last}`` beats in any order, each
    index at most once, ``last`` set on the final one; a timestep with no non-zero value is one
    beat ``{0, 0, 1}``. Dense input (every index) works too: zero values are dropped.

    The stage never trusts the host. Each beat is classified, in this order (the names of
    `spikeshift.gen.ir.link.DROP_COUNTERS`): ``extra_beats``, the timestep already had `size`
    beats; ``bad_indices``, ``index >= size``; ``duplicates``, the index already had an accepted
    beat this timestep (the first one wins); ``bad_values``, ``value > value_max``. Such a
    beat is dropped and counted; any other beat is accepted. `last` closes the timestep whatever
    the beat's fate, so a bad beat never shifts the next timestep or sample. The spike buffer
    therefore receives at most `size` distinct in-range entries per timestep and cannot
    overflow.

    Three stages (`spikeshift.gen.ir.link.INPUT_STAGE_LATENCY`), so that no cycle both reads
    and writes one of `size` flags: the accept cycle checks what needs no flag and reads the
    row of `seen` flip-flops holding the index's flag; the next picks the flag out of the row;
    the third drops and counts the beat, or writes it. The flags are set by the beats kept and
    cleared by the beat that closes the timestep; the flag read misses the writes of the two
    beats ahead, which are compared directly. Checking costs no cycle: every beat, dropped or
    not, takes its one accept cycle.

    Throughput: one beat per cycle; `ready` is low while the slot the beat will be written to
    (the one after the slots of the beats ahead that close a timestep) holds a timestep the
    first layer has not consumed. Counters saturate at ``2**COUNTER_BITS - 1``; reset clears them.

    Members
    -------
    i_stream : ``In(stream.Signature(input_event_layout(index_bits, value_bits)))``
    o_spikes : ``Out(spike_write_signature(1, size, spike_entry_layout(...)))``
    extra_beats, bad_indices, duplicates, bad_values : ``Out(COUNTER_BITS)``
        Beats dropped for each reason since reset.
    """

    def __init__(self, *, size: int, index_bits: int, value_bits: int,
                 entry_index_bits: int, value_max: int):
        if (size - 1).bit_length() > entry_index_bits:
            raise ValueError(f"entry_index_bits ({entry_index_bits}) must hold index "
                             f"{size - 1} of size {size}")
        if entry_index_bits > index_bits:
            raise ValueError(f"index_bits ({index_bits}) must be at least entry_index_bits "
                             f"({entry_index_bits})")
        if value_max.bit_length() > value_bits:
            raise ValueError(f"value_bits ({value_bits}) must hold value_max ({value_max})")
        self._size, self._value_max = size, value_max
        self._entry_index_bits = entry_index_bits
        entry_value_bits = max(1, value_max.bit_length())
        super().__init__({
            "i_stream": In(stream.Signature(input_event_layout(index_bits, value_bits))),
            "o_spikes": Out(spike_write_signature(
                1, size, spike_entry_layout(entry_index_bits, entry_value_bits))),
            **{name: Out(COUNTER_BITS) for name in DROP_COUNTERS},
        })

    @property
    def size(self) -> int:
        return self._size

    @property
    def value_max(self) -> int:
        return self._value_max

    def elaborate(self, platform):
        m = Module()
        size = self._size
        beat, out = self.i_stream, self.o_spikes
        index, value = beat.payload.index, beat.payload.value
        accept = beat.valid & beat.ready
        seen = Signal(size)
        beats = Signal(range(size + 1))
        entry_index = index[:self._entry_index_bits]
        # `seen` read in two halves: a row of flags in the accept cycle, the flag in the next
        low_bits = (self._entry_index_bits + 1) // 2
        width = 1 << low_bits
        rows = Array(seen[r:r + width] for r in range(0, size, width))

        def carried(signal, name):
            later = Signal.like(signal, name=name)
            m.d.sync += later.eq(signal)
            return later

        # Stage 1: accept; the reasons that need no flag, and the row of the index's flag.
        static = {"extra_beats": beats == size, "bad_indices": index >= size,
                  "bad_values": value > self._value_max}
        valid_1 = carried(accept, "valid_1")
        index_1 = Signal.like(entry_index, name="index_1")
        value_1 = Signal(len(out.data[0].value), name="value_1")
        last_1 = Signal(name="last_1")
        row_1 = Signal(width, name="row_1")
        static_1 = {name: Signal(name=f"{name}_1") for name in static}
        with m.If(accept):
            m.d.sync += [index_1.eq(entry_index), value_1.eq(value),
                         last_1.eq(beat.payload.last), row_1.eq(rows[entry_index >> low_bits]),
                         *(static_1[name].eq(reason) for name, reason in static.items())]
            with m.If(beat.payload.last):
                m.d.sync += beats.eq(0)
            with m.Elif(beats != size):
                m.d.sync += beats.eq(beats + 1)

        # Stage 3 (declared first: stage 2 looks at it): drop and count, or write; `last`
        # commits the timestep and clears the flags.
        valid_3, index_3, value_3, last_3 = (carried(s, n) for s, n in (
            (valid_1, "valid_3"), (index_1, "index_3"), (value_1, "value_3"),
            (last_1, "last_3")))
        reasons_3 = Signal(len(DROP_COUNTERS), name="reasons_3")
        drop = Signal(len(DROP_COUNTERS))
        earlier = 0
        for bit, name in enumerate(DROP_COUNTERS):
            m.d.comb += drop[bit].eq(reasons_3[bit] & ~earlier)
            earlier = earlier | reasons_3[bit]
            counter = getattr(self, name)
            with m.If(valid_3 & drop[bit] & (counter != (1 << COUNTER_BITS) - 1)):
                m.d.sync += counter.eq(counter + 1)
        kept_3 = valid_3 & ~reasons_3.any()
        closing_3 = valid_3 & last_3
        m.d.comb += [
            out.data[0].index.eq(index_3),
            out.data[0].value.eq(value_3),
            out.en.eq(kept_3 & (value_3 != 0)),
            out.commit.eq(closing_3),
        ]
        with m.If(closing_3):
            m.d.sync += seen.eq(0)
        with m.Elif(kept_3):
            m.d.sync += seen.bit_select(index_3, 1).eq(1)
        # the beat that was in stage 3 when this stage 2 beat read its row (its write missed)
        kept_4, index_4, closing_4 = (carried(s, n) for s, n in (
            (kept_3, "kept_4"), (index_3, "index_4"), (closing_3, "closing_4")))

        # Stage 2: the flag. A beat after one that closed its timestep is the next timestep's;
        # the flags it read miss the beats in stage 3 then and now.
        flag = row_1.bit_select(index_1[:low_bits], 1)
        duplicate = ~closing_3 & ((kept_3 & (index_3 == index_1)) |
                                  (~closing_4 & (flag | (kept_4 & (index_4 == index_1)))))
        reasons = {**static_1, "duplicates": duplicate}
        m.d.sync += reasons_3.eq(Cat(*(reasons[name] for name in DROP_COUNTERS)))

        # A beat goes to the slot after those the beats ahead of it close.
        closing_ahead = (valid_1 & last_1) + closing_3
        m.d.comb += beat.ready.eq(Mux(closing_ahead == 0, out.free,
                                      (closing_ahead == 1) & out.free_next))
        return m
