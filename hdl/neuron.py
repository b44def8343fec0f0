"""The neuron update of DESIGN.md §3: leak, add, saturate, fire, reset (combinational)."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..gen.ir.formats import IntFormat
from ..gen.ir.neuron import Neuron, ShiftLeak, SubtractLeak

__all__ = ["NeuronUpdate"]


class NeuronUpdate(wiring.Component):
    """One membrane update: ``v' = sat(leak(v) + current)``, then fire and reset.

    Combinational; a layer core instantiates one per lane. Saturation clamps to the membrane
    format instead of wrapping. Multi-bit spikes need a power-of-two threshold, so the division
    is a shift.

    Parameters
    ----------
    neuron : Neuron
    current : IntFormat
        Format of the synaptic current (the layer's accumulator).

    Members
    -------
    v : ``In(signed(neuron.v.bits))``
        Membrane left by the previous timestep (or v_init).
    current : ``In(signed(current.bits))``
    v_next : ``Out(signed(neuron.v.bits))``
        Membrane after this timestep's reset.
    spike : ``Out(unsigned(max(1, neuron.spike_bits)))``
        Spike value (always 0 for an integrator).
    """

    def __init__(self, neuron: Neuron, current: IntFormat):
        if not isinstance(neuron, Neuron):
            raise TypeError(f"NeuronUpdate neuron must be a Neuron, not {neuron!r}")
        self._neuron = neuron
        super().__init__({
            "v": In(signed(neuron.v.bits)),
            "current": In(signed(current.bits)),
            "v_next": Out(signed(neuron.v.bits)),
            "spike": Out(unsigned(max(1, neuron.spike_bits))),
        })

    @property
    def neuron(self) -> Neuron:
        return self._neuron

    def elaborate(self, platform):
        m = Module()
        n = self._neuron
        leak = n.leak
        if leak is None:
            leaked = self.v
        elif isinstance(leak, ShiftLeak):
            leaked = self.v - (self.v >> leak.shift)
        else:
            assert isinstance(leak, SubtractLeak)
            down, up = self.v - leak.amount, self.v + leak.amount
            leaked = Mux(self.v > 0, Mux(down > 0, down, 0), Mux(up < 0, up, 0))
        total = leaked + self.current
        v = Signal(signed(n.v.bits))
        with m.If(total > n.v.max):
            m.d.comb += v.eq(n.v.max)
        with m.Elif(total < n.v.min):
            m.d.comb += v.eq(n.v.min)
        with m.Else():
            m.d.comb += v.eq(total)
        if not n.fires:
            m.d.comb += self.v_next.eq(v)
            return m
        theta = n.threshold
        fire = v >= theta
        if n.spike_bits == 1:
            m.d.comb += self.spike.eq(fire)
            charge = Mux(fire, theta, 0)
        else:
            q = n.threshold_shift
            level = v >> q
            m.d.comb += self.spike.eq(Mux(fire, Mux(level > n.spike_max, n.spike_max, level), 0))
            charge = self.spike << q
        if n.reset == "subtract":
            m.d.comb += self.v_next.eq(v - charge)
        elif n.reset == "zero":
            m.d.comb += self.v_next.eq(Mux(self.spike != 0, 0, v))
        else:
            m.d.comb += self.v_next.eq(v)
        return m
