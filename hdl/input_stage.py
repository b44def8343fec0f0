"""The input stream: values of one timestep in, a spike list out (zeros dropped)."""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .layouts import input_event_layout, spike_entry_layout
from .spike_buffer import spike_write_signature

__all__ = ["InputStage"]


class InputStage(wiring.Component):
    """Writes the non-zero input values of each timestep into the first spike buffer.

    The host sends a timestep's values as ``{index, value, last}`` beats in any order, each
    index at most once, ``last`` set on the final one; a timestep with no non-zero value is one
    beat ``{0, 0, 1}``. Dense input (every index) works too: zero values are dropped, and so
    are indices beyond the input size. `ready` is low while both buffer slots hold timesteps
    the first layer has not consumed.

    Members
    -------
    i_stream : ``In(stream.Signature(input_event_layout(index_bits, value_bits)))``
    o_spikes : ``Out(spike_write_signature(1, depth, spike_entry_layout(...)))``
    """

    def __init__(self, *, index_bits: int, value_bits: int, depth: int):
        self._depth = depth
        super().__init__({
            "i_stream": In(stream.Signature(input_event_layout(index_bits, value_bits))),
            "o_spikes": Out(spike_write_signature(1, depth,
                                                  spike_entry_layout(index_bits, value_bits))),
        })

    def elaborate(self, platform):
        m = Module()
        beat = self.i_stream
        accept = beat.valid & beat.ready
        m.d.comb += [
            beat.ready.eq(self.o_spikes.free),
            self.o_spikes.data[0].index.eq(beat.payload.index),
            self.o_spikes.data[0].value.eq(beat.payload.value),
            self.o_spikes.en.eq(accept & (beat.payload.value != 0)
                                & (beat.payload.index < self._depth)),
            self.o_spikes.commit.eq(accept & beat.payload.last),
        ]
        return m
