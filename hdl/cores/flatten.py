"""The flatten core: copies each input entry, unchanged, into the next spike buffer.

Spike lists carry flat indices ``c*H*W + y*W + x`` whatever the layer, so flattening changes
no index and no value: the core only moves a timestep's entries into the one bank it writes.
"""

from amaranth import Module, Signal
from amaranth.lib import wiring

from ...gen.ir.kinds.flatten import FlattenLayer, FlattenPlan
from .events import event_core_members, walk_events
from .registry import core_for

__all__ = ["FlattenCore"]


@core_for("flatten")
class FlattenCore(wiring.Component):
    """One flatten layer: one cycle per input entry.

    Schedule of a timestep (`spikeshift.gen.ir.kinds.flatten`): a start cycle, one cycle per
    entry (each read arrives and is written the next cycle), one cycle after the last:
    ``n + 2`` busy cycles. It starts once the input buffer holds the timestep and the output
    buffer has room, as every core does.

    Members
    -------
    i_spikes : ``Out(spike_read_signature(in_banks, in_depth, ...))``
    o_spikes : ``Out(spike_write_signature(1, size, ...))``
    busy, done : ``Out(1)``
    """

    def __init__(self, layer: FlattenLayer, plan: FlattenPlan, *, timesteps: int,
                 in_banks: int, in_depth: int, result=None, output_mode: str = "membrane"):
        if not isinstance(layer, FlattenLayer):
            raise TypeError(f"FlattenCore layer must be a FlattenLayer, not {layer!r}")
        if result is not None:
            raise ValueError("FlattenCore cannot be the last layer: it has no neuron")
        self._plan, self._in_banks = plan, in_banks
        super().__init__(event_core_members(plan, in_banks, in_depth))

    @property
    def plan(self) -> FlattenPlan:
        return self._plan

    def memory_images(self) -> tuple:
        return ()

    def elaborate(self, platform):
        m = Module()
        src, dst = self.i_spikes, self.o_spikes
        running = Signal()
        go = ~running & src.full & dst.free
        valid = walk_events(m, src, self._in_banks, start=go, advance=1)
        finish = running & ~valid
        m.d.comb += [
            self.busy.eq(running | go),
            dst.en[0].eq(valid),
            dst.data[0].index.eq(src.data.index),
            dst.data[0].value.eq(src.data.value),
            dst.commit.eq(finish),
            src.release.eq(finish),
            self.done.eq(finish),
        ]
        with m.If(go):
            m.d.sync += running.eq(1)
        with m.If(finish):
            m.d.sync += running.eq(0)
        return m
