"""What the pooling cores share: input events update the windows they fall in, then an emit
pass sends every non-zero window value on as a multi-bit event and clears it."""

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory

from ...gen.ir.layer import MemoryImage
from ...gen.ir.maps import PoolLayer, PoolPlan
from .events import event_core_members
from .windows import WindowIssue, window_image

__all__ = ["PoolCore"]


class PoolCore(wiring.Component):
    """One pooling layer; a subclass names its kind and gives `combine(old, value)`.

    Schedule of a timestep (`spikeshift.gen.ir.maps.WindowPlan`): a start cycle and two
    cycles of event prefetch; then for every non-zero input event (c, y, x, s) and each of its
    P window positions one read-modify-write of that window's value (read transparent to the
    write of the cycle before, so back-to-back events on one window are exact), an event that
    no window covers taking one cycle; then one emit operation per output value (C * H' * W',
    flat order): a non-zero value is appended to the one output bank, and the value cleared.
    Busy cycles: ``sum of max(P, 1) + C * H' * W' + 4``.

    Members
    -------
    i_spikes : ``Out(spike_read_signature(in_banks, in_depth, ...))``
    o_spikes : ``Out(spike_write_signature(1, C * H' * W', ...))``
    busy, done : ``Out(1)``
    """

    def __init__(self, layer: PoolLayer, plan: PoolPlan, *, timesteps: int, in_banks: int,
                 in_depth: int, result=None, output_mode: str = "membrane"):
        if not isinstance(layer, PoolLayer):
            raise TypeError(f"{type(self).__name__} layer must be a PoolLayer, not {layer!r}")
        if result is not None:
            raise ValueError(f"{type(self).__name__} cannot be the last layer: it has no neuron")
        self._layer, self._plan, self._in_banks = layer, plan, in_banks
        super().__init__(event_core_members(plan, in_banks, in_depth))

    @property
    def plan(self) -> PoolPlan:
        return self._plan

    def memory_images(self) -> tuple[MemoryImage, ...]:
        return (window_image(self._plan),)

    def combine(self, old, value):
        """The window value after `value` arrives (combinational)."""
        raise NotImplementedError

    def elaborate(self, platform):
        m = Module()
        plan = self._plan
        src, dst = self.i_spikes, self.o_spikes
        running = Signal()
        go = ~running & src.full & dst.free
        issue = WindowIssue(m, plan, src, self._in_banks, go=go)
        m.d.comb += self.busy.eq(running | go)
        with m.If(go):
            m.d.sync += running.eq(1)

        m.submodules["values"] = values = Memory(shape=plan.spike.bits, depth=plan.size,
                                                 init=[])
        wr = values.write_port()
        rd = values.read_port(transparent_for=(wr,))
        old = rd.data
        m.d.comb += [
            rd.addr.eq(issue.state),
            wr.addr.eq(issue.u_addr), wr.en.eq(issue.u_scatter | issue.u_fire),
            wr.data.eq(Mux(issue.u_fire, 0, self.combine(old, issue.u_value))),
            dst.en[0].eq(issue.u_fire & (old != 0)),
            dst.data[0].index.eq(issue.u_addr),
            dst.data[0].value.eq(old),
        ]
        finish = issue.u_fire & issue.u_last
        m.d.comb += [self.done.eq(finish), src.release.eq(finish), dst.commit.eq(finish)]
        with m.If(finish):
            m.d.sync += running.eq(0)
        return m
