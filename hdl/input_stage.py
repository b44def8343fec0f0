"""The input stream: values of one timestep in, a spike list out (zeros and bad beats dropped)."""

from amaranth import Cat, Module, Mux, Signal
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

    Two stages (`spikeshift.gen.ir.link.INPUT_STAGE_LATENCY`): a beat is classified in its
    accept cycle and written (or dropped and counted) in the next, so reading a flag out of
    `size` and writing one are in different cycles. Duplicates are found with `size` "seen"
    flip-flops, set by the beats kept and cleared by the beat that closes the timestep; the
    accept cycle reads the flag of its index, and looks at the beat one stage ahead (not yet
    in the flags). Checking costs no cycle:
    every beat, dropped or not, takes its one accept cycle.

    Throughput: one beat per cycle; `ready` is low while the slot the beat will be written to
    (the next one, when the beat ahead closes a timestep) holds a timestep the first layer has
    not consumed. Counters saturate at ``2**COUNTER_BITS - 1``; reset clears them.

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

        # Stage 2 (its registers): the beat accepted in the previous cycle and its reasons.
        held = Signal()
        held_index = Signal.like(entry_index)
        held_value = Signal(len(out.data[0].value))
        held_last = Signal()
        held_reasons = Signal(len(DROP_COUNTERS))
        drop = Signal(len(DROP_COUNTERS))
        earlier = 0
        for bit, name in enumerate(DROP_COUNTERS):
            m.d.comb += drop[bit].eq(held_reasons[bit] & ~earlier)
            earlier = earlier | held_reasons[bit]
            counter = getattr(self, name)
            with m.If(held & drop[bit] & (counter != (1 << COUNTER_BITS) - 1)):
                m.d.sync += counter.eq(counter + 1)
        kept = held & ~held_reasons.any()
        closing = held & held_last
        m.d.comb += [
            out.data[0].index.eq(held_index),
            out.data[0].value.eq(held_value),
            out.en.eq(kept & (held_value != 0)),
            out.commit.eq(closing),
        ]
        with m.If(closing):
            m.d.sync += seen.eq(0)
        with m.Elif(kept):
            m.d.sync += seen.bit_select(held_index, 1).eq(1)

        # Stage 1: accept and classify. A beat of the timestep the held beat closes is the
        # next one's first; otherwise its index may be the held beat's, not yet in `seen`.
        duplicate = ~closing & (seen.bit_select(entry_index, 1) |
                                (kept & (held_index == entry_index)))
        reasons = {
            "extra_beats": beats == size,
            "bad_indices": index >= size,
            "duplicates": duplicate,
            "bad_values": value > self._value_max,
        }
        m.d.comb += beat.ready.eq(Mux(closing, out.free_next, out.free))
        m.d.sync += held.eq(accept)
        with m.If(accept):
            m.d.sync += [held_index.eq(entry_index), held_value.eq(value),
                         held_last.eq(beat.payload.last),
                         held_reasons.eq(Cat(*(reasons[name] for name in DROP_COUNTERS)))]
            with m.If(beat.payload.last):
                m.d.sync += beats.eq(0)
            with m.Elif(beats != size):
                m.d.sync += beats.eq(beats + 1)
        return m
