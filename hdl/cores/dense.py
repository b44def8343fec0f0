"""The dense layer core: P lanes, event-driven over the input spike list, pipelined."""

from amaranth import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory

from ...gen.ir.formats import IntFormat, signed_bits_for
from ...gen.ir.kinds.dense import DenseLayer, DensePlan
from ...gen.ir.layer import MemoryImage
from ..layouts import weight_code, weight_code_shape
from ..neuron import NeuronUpdate, neuron_parameters, parameter_ports
from ..synapse import synapse_for
from .constants import lane_constants
from .events import event_core_members, lowest_set
from .registry import core_for
from .syn_currents import syn_current_memory

__all__ = ["DenseCore", "per_lane", "weight_init", "weight_image"]


def per_lane(plan: DensePlan, values) -> list[list[int]]:
    """A per-neuron vector as `chunks` rows of `lanes` values; a padding lane (no neuron)
    repeats its lane's first value, so a lane whose neurons share one value keeps it."""
    p, c = plan.lanes, plan.chunks
    values = [int(v) for v in values]
    padded = values + [values[i % p] for i in range(len(values), p * c)]
    return [padded[i * p:(i + 1) * p] for i in range(c)]


def weight_image(weights, plan, rows: list[list]) -> MemoryImage:
    """The weight memory of `plan` holding `rows` of `lanes` weight codes each, packed as the
    hardware stores them (lane 0 in the low bits)."""
    shape = data.ArrayLayout(weight_code_shape(weights), plan.lanes)
    return MemoryImage(geometry=plan.memory("weights"),
                       words=[shape.const(word).as_bits() for word in rows])


def weight_init(layer: DenseLayer, plan: DensePlan) -> list[list]:
    """Weight memory contents: word ``chunk * fan_in + i`` holds the codes of input i for the
    chunk's lanes, lane 0 first (padding lanes hold the code of 0)."""
    w = layer.weights
    rows = []
    for c in range(plan.chunks):
        neurons = range(c * plan.lanes, (c + 1) * plan.lanes)
        for i in range(plan.fan_in):
            rows.append([weight_code(w, int(w.values[j, i]) if j < plan.size else 0)
                         for j in neurons])
    return rows


@core_for("dense")
class DenseCore(wiring.Component):
    """One dense layer: for each chunk of `lanes` neurons, one cycle per input spike, then fire.

    Schedule of a timestep (`spikeshift.gen.ir.kinds.dense`): one start cycle, then for each
    chunk one operation per entry of the input spike list and one *fire* operation, issued back
    to back, each passing a
    two-stage pipeline (spike-list read, then weight/membrane read, then accumulate or update).
    Busy cycles: ``chunks * (n_spikes + 1) + 3``. A timestep starts once the input buffer holds
    it and the output buffer (or, at the last timestep of the last layer, the result buffer)
    has room, so nothing stalls inside a timestep.

    Parameters
    ----------
    layer : DenseLayer
    plan : DensePlan
    timesteps : int
    in_banks, in_depth : int
        Organisation of the input spike buffer (the producer's lanes and chunks).
    result : IntFormat or None
        Result format when this is the last layer; then `output_mode` says what it returns.

    Members
    -------
    i_spikes : ``Out(spike_read_signature(in_banks, in_depth, ...))``
    o_spikes : ``Out(spike_write_signature(lanes, chunks, ...))``, when not the last layer
    o_result : ``Out(result_write_signature(lanes, chunks, result))``, when the last layer
    busy, done : ``Out(1)``
        Busy during every cycle of a timestep; `done` on its last cycle.
    """

    def __init__(self, layer: DenseLayer, plan: DensePlan, *, timesteps: int, in_banks: int,
                 in_depth: int, result: IntFormat | None = None, output_mode: str = "membrane"):
        if not isinstance(layer, DenseLayer):
            raise TypeError(f"DenseCore layer must be a DenseLayer, not {layer!r}")
        self._layer, self._plan, self._timesteps = layer, plan, timesteps
        self._weight_rows = weight_init(layer, plan)      # for the memory and its image
        self._in_banks, self._in_depth = in_banks, in_depth
        self._result, self._output_mode = result, output_mode
        super().__init__(event_core_members(plan, in_banks, in_depth, result))

    @property
    def layer(self) -> DenseLayer:
        return self._layer

    @property
    def plan(self) -> DensePlan:
        return self._plan

    def memory_images(self) -> tuple[MemoryImage, ...]:
        """The weight memory's contents, packed as the hardware stores them."""
        return (weight_image(self._layer.weights, self._plan, self._weight_rows),)

    def elaborate(self, platform):
        m = Module()
        layer, plan = self._layer, self._plan
        neuron = layer.neuron
        lanes, chunks = plan.lanes, plan.chunks
        is_last = self._result is not None
        src = self.i_spikes

        # Memories: weights (one word = the codes one input spike needs), membranes, and
        # the spike counts of a spike-count read-out.
        code_shape = weight_code_shape(layer.weights)
        m.submodules.weights = weights = Memory(
            shape=data.ArrayLayout(code_shape, lanes), depth=plan.memory("weights").depth,
            init=self._weight_rows)
        w_rd = weights.read_port()
        m.submodules.membranes = membranes = Memory(
            shape=data.ArrayLayout(signed(neuron.v.bits), lanes),
            depth=plan.memory("membranes").depth, init=[])
        v_rd, v_wr = membranes.read_port(), membranes.write_port()
        counting = is_last and self._output_mode == "spike_count"
        if counting:
            m.submodules.counts = counts = Memory(
                shape=data.ArrayLayout(signed(self._result.bits), lanes), depth=chunks, init=[])
            n_rd, n_wr = counts.read_port(), counts.write_port()

        bias_values = layer.bias_array()
        bias_shape = signed(signed_bits_for(min(0, int(bias_values.min())),
                                            max(0, int(bias_values.max()))))
        v_init = lane_constants(m, "v_init", signed(neuron.v.bits),
                                per_lane(plan, neuron.v_init_array(layer.size)), v_rd.addr)
        bias = lane_constants(m, "bias", bias_shape, per_lane(plan, bias_values), v_rd.addr)
        parameters = {port: lane_constants(m, f"neuron_{port}", parameter_ports(neuron)[port],
                                           per_lane(plan, values), v_rd.addr)
                      for port, values in neuron_parameters(neuron, layer.size).items()}

        # Stage 0: issue one operation per cycle.
        t = Signal(range(self._timesteps))
        chunk = Signal(range(chunks))
        neuron_base = Signal(range(chunks * lanes))
        weight_base = Signal(range(chunks * plan.fan_in))
        bank = Signal(range(self._in_banks))
        entry = Signal(range(self._in_depth))
        fire_op = Signal()
        issuing = Signal()
        running = Signal()

        nonempty = Signal(self._in_banks)
        m.d.comb += nonempty.eq(Cat(*(count != 0 for count in src.counts)))
        first_bank, any_bank = lowest_set(m, nonempty, self._in_banks, "first")
        after = Signal(self._in_banks)
        m.d.comb += after.eq(nonempty & ~((Const(2, self._in_banks + 1) << bank) - 1))
        next_bank, more_banks = lowest_set(m, after, self._in_banks, "next")

        at_last_timestep = t == self._timesteps - 1
        if is_last:
            room = ~at_last_timestep | self.o_result.free
        else:
            room = self.o_spikes.free
        go = ~running & src.full & room

        s1_valid = Signal()
        s1_fire = Signal()
        s1_last = Signal()
        s1_chunk = Signal.like(chunk)
        s1_neuron_base = Signal.like(neuron_base)
        s1_weight_base = Signal.like(weight_base)
        s2_valid = Signal()
        s2_fire = Signal()
        s2_last = Signal()
        s2_chunk = Signal.like(chunk)
        s2_neuron_base = Signal.like(neuron_base)
        s2_value = Signal(plan.in_value.bits)

        m.d.comb += [
            self.busy.eq(running | go),
            src.bank.eq(bank),
            src.entry.eq(entry),
        ]
        m.d.sync += s1_valid.eq(issuing)
        with m.If(go):
            m.d.sync += [
                running.eq(1), issuing.eq(1), chunk.eq(0), neuron_base.eq(0),
                weight_base.eq(0), bank.eq(first_bank), entry.eq(0), fire_op.eq(~any_bank),
            ]
        with m.If(issuing):
            m.d.sync += [
                s1_fire.eq(fire_op), s1_chunk.eq(chunk), s1_last.eq(chunk == chunks - 1),
                s1_neuron_base.eq(neuron_base), s1_weight_base.eq(weight_base),
            ]
            with m.If(~fire_op):
                with m.If(entry + 1 < Array(src.counts)[bank]):
                    m.d.sync += entry.eq(entry + 1)
                with m.Elif(more_banks):
                    m.d.sync += [bank.eq(next_bank), entry.eq(0)]
                with m.Else():
                    m.d.sync += fire_op.eq(1)
            with m.Elif(chunk == chunks - 1):
                m.d.sync += issuing.eq(0)
            with m.Else():
                m.d.sync += [
                    chunk.eq(chunk + 1), neuron_base.eq(neuron_base + lanes),
                    weight_base.eq(weight_base + plan.fan_in), bank.eq(first_bank),
                    entry.eq(0), fire_op.eq(~any_bank),
                ]

        # Stage 1: the spike entry arrives; read its weights, or the chunk's membranes.
        m.d.comb += [
            w_rd.addr.eq(s1_weight_base + src.data.index),
            v_rd.addr.eq(s1_chunk),
        ]
        if counting:
            m.d.comb += n_rd.addr.eq(s1_chunk)
        m.d.sync += [
            s2_valid.eq(s1_valid), s2_fire.eq(s1_fire), s2_last.eq(s1_last),
            s2_chunk.eq(s1_chunk), s2_neuron_base.eq(s1_neuron_base),
            s2_value.eq(src.data.value),
        ]

        # Stage 2: every lane accumulates its product, or updates its neuron.
        first_step = t == 0
        update = s2_valid & s2_fire
        m.d.comb += [v_wr.addr.eq(s2_chunk), v_wr.en.eq(update)]
        if counting:
            m.d.comb += [n_wr.addr.eq(s2_chunk), n_wr.en.eq(update)]
        if is_last:
            m.d.comb += [self.o_result.en.eq(update & at_last_timestep),
                         self.o_result.chunk.eq(s2_chunk)]
        units = []
        for lane in range(lanes):
            acc = Signal(signed(plan.accumulator.bits), name=f"acc_{lane}")
            product = m.submodules[f"synapse_{lane}"] = synapse_for(
                layer.weights, plan.in_value, plan.accumulator)
            unit = m.submodules[f"neuron_{lane}"] = NeuronUpdate(neuron, plan.accumulator)
            m.d.comb += [
                product.value.eq(s2_value),
                product.code.eq(w_rd.data[lane]),
                unit.v.eq(Mux(first_step, v_init(lane), v_rd.data[lane])),
                unit.current.eq(acc + bias(lane)),
                *(getattr(unit, port).eq(value(lane)) for port, value in parameters.items()),
                v_wr.data[lane].eq(unit.v_next),
            ]
            units.append(unit)
            with m.If(s2_valid & ~s2_fire):
                m.d.sync += acc.eq(acc + product.addend)
            with m.If(update):
                m.d.sync += acc.eq(0)
            if not is_last:
                active = s2_neuron_base + lane < layer.size
                m.d.comb += [
                    self.o_spikes.en[lane].eq(update & active & (unit.spike != 0)),
                    self.o_spikes.data[lane].index.eq(s2_neuron_base + lane),
                    self.o_spikes.data[lane].value.eq(unit.spike),
                ]
            elif counting:
                total = Mux(first_step, 0, n_rd.data[lane]) + unit.spike
                m.d.comb += [n_wr.data[lane].eq(total), self.o_result.values[lane].eq(total)]
            else:
                m.d.comb += self.o_result.values[lane].eq(unit.v_next)

        if neuron.has_synapse:                      # cuba_lif: a current beside each membrane
            syn_current_memory(m, units, plan.memory("syn_currents").depth,
                               read_addr=v_rd.addr, write_addr=v_wr.addr,
                               write_en=v_wr.en, first_step=first_step)

        finish = update & s2_last
        m.d.comb += [self.done.eq(finish), src.release.eq(finish)]
        if is_last:
            m.d.comb += self.o_result.commit.eq(finish & at_last_timestep)
        else:
            m.d.comb += self.o_spikes.commit.eq(finish)
        with m.If(finish):
            m.d.sync += [running.eq(0), t.eq(Mux(at_last_timestep, 0, t + 1))]
        return m
