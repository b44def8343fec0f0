"""The neuron update of DESIGN.md §3: leak, add, saturate, fire, reset (combinational or staged)."""

from amaranth import Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..gen.ir.formats import IntFormat, unsigned_bits_for
from ..gen.ir.neuron import UPDATE_STAGES, Neuron, ShiftLeak, SubtractLeak

__all__ = ["NeuronUpdate", "parameter_ports", "neuron_parameters"]


class NeuronUpdate(wiring.Component):
    """One membrane update: ``v' = sat(leak(v) + current)``, then fire and reset.

    A ``cuba_lif`` neuron first updates its synaptic current, ``syn' = sat_i(syn -
    (syn >> k_syn) + current)``, and adds `syn_next` to the membrane instead of `current`.

    Combinational by default; a layer core instantiates one per lane. `staged` cuts it into
    ``UPDATE_STAGES + 1`` pipeline stages (leak | add | saturate and fire | reset; a
    ``cuba_lif`` current adds to its decay in the first and saturates in the second), one
    operation per cycle: the outputs of the inputs (parameters included) presented in cycle c
    appear in cycle c + `latency`, combinationally from registers. Saturation clamps to the
    membrane format instead of wrapping. Multi-bit spikes need a power-of-two threshold, so the
    division is a shift.

    A value the neuron gives once per neuron (DESIGN.md §3.1) arrives on a port, which the core
    drives from per-lane constants: `threshold` (binary spikes), `threshold_shift` (log2 θ,
    multi-bit spikes: the division stays a shift, now by a variable amount), `leak_shift` or
    `leak_amount`. A value given once is a constant here, as before. No multiplier either way.

    Parameters
    ----------
    neuron : Neuron
    current : IntFormat
        Format of the synaptic current (the layer's accumulator).
    staged : bool
        The pipelined form (the dense core's), of latency `UPDATE_STAGES`.

    Members
    -------
    v : ``In(signed(neuron.v.bits))``
        Membrane left by the previous timestep (or v_init).
    current : ``In(signed(current.bits))``
    threshold : ``In(unsigned(bits of the largest θ))``, per-neuron θ and binary spikes
    threshold_shift : ``In(unsigned(bits of the largest log2 θ))``, per-neuron θ, multi-bit
        spikes
    leak_shift : ``In(unsigned(bits of the largest k))``, per-neuron shift leak
    leak_amount : ``In(unsigned(bits of the largest c))``, per-neuron subtract leak
    syn_shift : ``In(unsigned(bits of the largest k_syn))``, per-neuron synaptic decay
    syn : ``In(signed(neuron.i.bits))``, ``cuba_lif``
        Synaptic current left by the previous timestep (0 at the first).
    syn_next : ``Out(signed(neuron.i.bits))``, ``cuba_lif``
        Synaptic current after this timestep's input.
    v_next : ``Out(signed(neuron.v.bits))``
        Membrane after this timestep's reset.
    spike : ``Out(unsigned(max(1, neuron.spike_bits)))``
        Spike value (always 0 for an integrator).
    """

    def __init__(self, neuron: Neuron, current: IntFormat, *, staged: bool = False):
        if not isinstance(neuron, Neuron):
            raise TypeError(f"NeuronUpdate neuron must be a Neuron, not {neuron!r}")
        self._neuron, self._staged = neuron, staged
        members = {
            "v": In(signed(neuron.v.bits)),
            "current": In(signed(current.bits)),
            "v_next": Out(signed(neuron.v.bits)),
            "spike": Out(unsigned(max(1, neuron.spike_bits))),
        }
        members.update({name: In(shape) for name, shape in parameter_ports(neuron).items()})
        if neuron.has_synapse:
            members |= {"syn": In(signed(neuron.i.bits)), "syn_next": Out(signed(neuron.i.bits))}
        super().__init__(members)

    @property
    def neuron(self) -> Neuron:
        return self._neuron

    @property
    def staged(self) -> bool:
        return self._staged

    @property
    def latency(self) -> int:
        """Cycles from the inputs to the outputs: 0, or `UPDATE_STAGES` when staged."""
        return UPDATE_STAGES if self._staged else 0

    def _stage(self, m, value, name: str):
        """`value` one register boundary later in the staged form, else itself. Without reset:
        the core reads the outputs only when its own (reset) flags say an operation is there."""
        if not self._staged:
            return value
        reg = Signal(Value.cast(value).shape(), name=f"{name}_r", reset_less=True)
        m.d.sync += reg.eq(value)
        return reg

    def elaborate(self, platform):
        m = Module()
        n = self._neuron
        ports = parameter_ports(n)
        delayed = {name: [getattr(self, name)] for name in ports}

        def port(name, stage):
            """A per-neuron parameter, delayed to the stage of the operation that reads it."""
            chain = delayed[name]
            while len(chain) <= stage:
                chain.append(self._stage(m, chain[-1], f"{name}_{len(chain)}"))
            return chain[stage]

        # Stage 0: leak (and the synaptic decay plus the input current).
        leak = n.leak
        v = self.v
        if leak is None:
            leaked = v
        elif isinstance(leak, ShiftLeak):
            k = port("leak_shift", 0) if "leak_shift" in ports else leak.shift
            leaked = v - (v >> k)
        else:
            assert isinstance(leak, SubtractLeak)
            c = port("leak_amount", 0) if "leak_amount" in ports else leak.amount
            down, up = v - c, v + c
            leaked = Mux(v > 0, Mux(down > 0, down, 0), Mux(up < 0, up, 0))
        leaked = self._stage(m, leaked, "leaked")
        current = self.current
        syn_next = None
        if n.has_synapse:
            k_syn = port("syn_shift", 0) if "syn_shift" in ports else n.syn_shift
            current = self._stage(m, self.syn - (self.syn >> k_syn) + current, "syn_sum")
            # Stage 1: the synaptic current saturates, then joins the membrane.
            syn_next = current = _saturated(m, current, n.i, "syn_sat")
        else:
            current = self._stage(m, current, "current")
        # Stage 1: the sum.
        total = self._stage(m, leaked + current, "total")
        if syn_next is not None:
            syn_next = self._stage(m, self._stage(m, syn_next, "syn_next_2"), "syn_next_3")
            m.d.comb += self.syn_next.eq(syn_next)
        # Stage 2: saturate and fire. With a constant threshold inside the membrane's range,
        # firing is decided on the sum itself, beside the saturation: the saturated membrane
        # reaches the threshold exactly when the sum does, and its level is the sum's, capped
        # at the saturated maximum's.
        v = _saturated(m, total, n.v, "v")
        if not n.fires:
            m.d.comb += self.v_next.eq(self._stage(m, v, "v_out"))
            return m
        constant = "threshold" not in ports and "threshold_shift" not in ports
        source = total if constant and n.v.min < n.threshold <= n.v.max else v
        if n.spike_bits == 1:
            theta = port("threshold", 2) if "threshold" in ports else n.threshold
            spike = source >= theta
        else:
            if "threshold_shift" in ports:
                q = port("threshold_shift", 2)
                fire = v >= (Const(1, 1) << q)
                cap = n.spike_max
            else:
                q = n.threshold_shift
                fire = source >= n.threshold
                cap = min(n.spike_max, n.v.max >> q)
            level = source >> q
            spike = Mux(fire, Mux(level > cap, cap, level), 0)
        spike = self._stage(m, spike, "spike")
        v = self._stage(m, v, "v_fired")
        m.d.comb += self.spike.eq(spike)
        # Stage 3: reset.
        if n.spike_bits == 1:
            theta = port("threshold", 3) if "threshold" in ports else n.threshold
            charge = Mux(spike, theta, 0)
        else:
            q = port("threshold_shift", 3) if "threshold_shift" in ports else n.threshold_shift
            charge = spike << q
        if n.reset == "subtract":
            m.d.comb += self.v_next.eq(v - charge)
        elif n.reset == "zero":
            m.d.comb += self.v_next.eq(Mux(spike != 0, 0, v))
        else:
            m.d.comb += self.v_next.eq(v)
        return m


def _saturated(m, value, fmt: IntFormat, name: str) -> Signal:
    out = Signal(signed(fmt.bits), name=name)
    m.d.comb += out.eq(Mux(value > fmt.max, fmt.max, Mux(value < fmt.min, fmt.min, value)))
    return out


def parameter_ports(neuron: Neuron) -> dict:
    """The shapes of `NeuronUpdate`'s per-neuron parameter ports, by name; what the core
    stores per neuron (`neuron_parameters` gives the values)."""
    ports = {}
    if "threshold" in neuron.per_neuron:
        if neuron.spike_bits == 1:
            ports["threshold"] = unsigned(unsigned_bits_for(neuron.threshold_max))
        else:
            top = int(neuron.threshold_shift.max())
            ports["threshold_shift"] = unsigned(unsigned_bits_for(top))
    if "syn_shift" in neuron.per_neuron:
        ports["syn_shift"] = unsigned(unsigned_bits_for(int(neuron.syn_shift.max())))
    if "leak" in neuron.per_neuron:
        if isinstance(neuron.leak, ShiftLeak):
            ports["leak_shift"] = unsigned(unsigned_bits_for(int(neuron.leak.shift.max())))
        else:
            ports["leak_amount"] = unsigned(unsigned_bits_for(int(neuron.leak.amount.max())))
    return ports


def neuron_parameters(neuron: Neuron, size: int) -> dict:
    """Per port of `parameter_ports`, its value for each of the `size` neurons (int64)."""
    values = {"threshold": lambda: neuron.threshold_array(size),
              "threshold_shift": lambda: neuron.threshold_shift,
              "leak_shift": lambda: neuron.leak.values(size),
              "leak_amount": lambda: neuron.leak.values(size),
              "syn_shift": lambda: neuron.syn_shift}
    return {name: values[name]() for name in parameter_ports(neuron)}
