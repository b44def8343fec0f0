"""The dense layer core: P lanes, event-driven over the input spike list, pipelined."""

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory

from ...gen.ir.formats import IntFormat, signed_bits_for
from ...gen.ir.kinds.dense import DenseLayer, DensePlan, fed_back_lists
from ...gen.ir.layer import MemoryImage
from ...gen.ir.neuron import UPDATE_STAGES
from ..block_rom import BLOCK_ROM_LATENCY
from ..feedback_buffer import FeedbackBuffer
from ..layouts import spike_entry_layout, weight_code, weight_code_shape
from ..neuron import NeuronUpdate, neuron_parameters, parameter_ports
from ..packed_rom import weight_rom
from ..synapse import accumulate, synapse_for
from .constants import lane_constants
from .events import bank_walk, event_core_members, meeting
from .registry import core_for
from .syn_currents import syn_current_memory

__all__ = ["DenseCore", "per_lane", "weight_init", "recurrent_weight_init", "weight_image"]


def per_lane(plan: DensePlan, values) -> list[list[int]]:
    """A per-neuron vector as `chunks` rows of `lanes` values; a padding lane (no neuron)
    repeats its lane's first value, so a lane whose neurons share one value keeps it."""
    p, c = plan.lanes, plan.chunks
    values = [int(v) for v in values]
    padded = values + [values[i % p] for i in range(len(values), p * c)]
    return [padded[i * p:(i + 1) * p] for i in range(c)]


def weight_image(weights, plan, rows: list[list], name: str = "weights") -> MemoryImage:
    """The weight memory `name` of `plan` holding `rows` of `lanes` weight codes each, packed
    as the hardware stores them (lane 0 in the low bits)."""
    shape = data.ArrayLayout(weight_code_shape(weights), plan.lanes)
    return MemoryImage(geometry=plan.memory(name),
                       words=[shape.const(word).as_bits() for word in rows])


def weight_init(layer: DenseLayer, plan: DensePlan) -> list[list]:
    """Weight memory contents: word ``chunk * fan_in + i`` holds the codes of input i for the
    chunk's lanes, lane 0 first (padding lanes hold the code of 0)."""
    return _code_rows(layer.weights, plan)


def recurrent_weight_init(layer: DenseLayer, plan: DensePlan) -> list[list]:
    """Recurrent weight memory contents: word ``chunk * size + k`` holds the codes of the
    layer's own neuron k for the chunk's lanes, as `weight_init` lays out an input."""
    return _code_rows(layer.recurrent, plan)


def _code_rows(w, plan: DensePlan) -> list[list]:
    rows = []
    for c in range(plan.chunks):
        neurons = range(c * plan.lanes, (c + 1) * plan.lanes)
        for i in range(w.values.shape[1]):
            rows.append([weight_code(w, int(w.values[j, i]) if j < plan.size else 0)
                         for j in neurons])
    return rows


def _carried(m, signal, name: str, stages: range) -> list:
    """`signal` carried on through `stages`: one register each, named ``s<stage>_<name>``."""
    carried = []
    for stage in stages:
        later = Signal.like(signal, name=f"s{stage}_{name}")
        m.d.sync += later.eq(signal)
        carried.append(signal := later)
    return carried


@core_for("dense")
class DenseCore(wiring.Component):
    """One dense layer: for each chunk of `lanes` neurons, one cycle per input spike, then fire.

    Schedule of a timestep (`spikeshift.gen.ir.kinds.dense`): two start cycles (deciding to
    start, then loading the walks' begin values, registers of the input list's counts), then
    for each chunk one operation per entry of the input spike list and one *fire* operation,
    issued back to back, each passing the pipeline: spike-list read, its entry registered
    (stage 1); the weight read (stages 2-5, `weight_rom`: address registered, block read, block data
    registered, code selected); the membrane read (stage 4) and its data registered (stage 5);
    the lanes accumulate, the sign folded into the adder, or a fire operation takes the sum
    and starts the staged neuron update (stage 6); the update's stages (leak | add | saturate
    and fire | reset), whose results are written in stage 9. Busy cycles:
    ``chunks * (n_spikes + 1) + STEP_OVERHEAD`` (11). A timestep starts once the
    input buffer holds it and the output buffer (or, at the last timestep of the last layer,
    the result buffer) has room, so nothing stalls inside a timestep. Fire operations of
    consecutive chunks touch different membrane words, and a timestep ends (`done`) with its
    last write, so no operation waits for another.

    With recurrent weights each chunk walks, after the input spikes and before the fire
    operation, the layer's own spike list of the previous timestep (a private
    `FeedbackBuffer`, written by the fire operations as the output buffer is; r(-1) at a
    sample's first timestep), reading the recurrent weight memory instead of the weight
    memory: ``chunks * (n_spikes + r_spikes + 1) + STEP_OVERHEAD`` cycles.

    With `plan.held_current` (the first core of a direct network, whose input slot is kept for
    all T timesteps) the fire operations of t = 0 also store each chunk's current in the memory
    ``currents``, and at t >= 1 each chunk issues its fire operation only, reading that memory
    instead of the accumulator: ``chunks + STEP_OVERHEAD`` cycles.

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
        self._recurrent_rows = (recurrent_weight_init(layer, plan)
                                if layer.recurrent is not None else None)
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
        """The weight memories' contents (and the recurrent ones), packed as the hardware
        stores them."""
        images = (weight_image(self._layer.weights, self._plan, self._weight_rows),)
        if self._recurrent_rows is not None:
            images += (weight_image(self._layer.recurrent, self._plan, self._recurrent_rows,
                                    "recurrent"),)
        return images

    def elaborate(self, platform):
        m = Module()
        layer, plan = self._layer, self._plan
        neuron = layer.neuron
        lanes, chunks = plan.lanes, plan.chunks
        is_last = self._result is not None
        recurrent = layer.recurrent is not None
        paired = plan.entries_per_cycle == 2        # never recurrent nor a held current
        src = self.i_spikes

        # Memories: weights (one word = the codes one input spike needs), membranes, and
        # the spike counts of a spike-count read-out.
        m.submodules.weights = w_rd = weight_rom(
            data.ArrayLayout(weight_code_shape(layer.weights), lanes), self._weight_rows,
            ports=plan.entries_per_cycle)
        if recurrent:
            m.submodules.recurrent = u_rd = weight_rom(
                data.ArrayLayout(weight_code_shape(layer.recurrent), lanes),
                self._recurrent_rows)
            m.submodules.fed_back = fed_back = FeedbackBuffer(
                banks=lanes, depth=chunks, initial=fed_back_lists(layer, lanes),
                entry=spike_entry_layout(plan.out_index_bits, plan.spike.bits))
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
        # Constants read with the membranes and, like them, registered before use (stage 5).
        v_init = lane_constants(m, "v_init", signed(neuron.v.bits),
                                per_lane(plan, neuron.v_init_array(layer.size)), v_rd.addr,
                                registered=True)
        bias = lane_constants(m, "bias", bias_shape, per_lane(plan, bias_values), v_rd.addr,
                              registered=True)
        parameters = {port: lane_constants(m, f"neuron_{port}", parameter_ports(neuron)[port],
                                           per_lane(plan, values), v_rd.addr, registered=True)
                      for port, values in neuron_parameters(neuron, layer.size).items()}

        # Stage 0: issue one operation per cycle. `first` and `last` (t = 0, t = T - 1) are
        # registers beside t, so no comparator of t feeds the lanes.
        t = Signal(range(self._timesteps))
        first_step = Signal(init=1)
        at_last_timestep = Signal(init=self._timesteps == 1)
        chunk = Signal(range(chunks))
        neuron_base = Signal(range(chunks * lanes))
        weight_base = Signal(range(chunks * plan.fan_in))
        fire_op = Signal()
        starting = Signal()                 # the start cycle: the walks' begin values settle
        issuing = Signal()
        running = Signal()

        inputs = bank_walk(m, src.counts, self._in_banks, self._in_depth, "walk")
        # A chunk walks its input spikes, then (recurrent) the fed-back ones, then fires; a
        # held current is walked at t = 0 only.
        walk = inputs.any & first_step if plan.held_current else inputs.any
        begin_chunk = [*inputs.begin, fire_op.eq(~walk)]
        end_of_inputs = [fire_op.eq(1)]
        more, advance = inputs.more, inputs.advance
        if paired:  # a second walk from the list's last entry down, until the two meet
            down = bank_walk(m, src.counts, self._in_banks, self._in_depth, "walk_down",
                             descending=True)
            pair_op, more = meeting(inputs, down)
            advance = [*inputs.advance, *down.advance]
            begin_chunk += down.begin
            m.d.comb += [src.pair_bank.eq(down.bank), src.pair_entry.eq(down.entry)]
        if recurrent:
            rec_op = Signal()
            rec_base = Signal(range(chunks * layer.size))
            fed = bank_walk(m, fed_back.r.counts, lanes, chunks, "rec_walk")
            begin_chunk = [*inputs.begin, fire_op.eq(~inputs.any & ~fed.any),
                           rec_op.eq(~inputs.any), *fed.begin]
            end_of_inputs = [rec_op.eq(1), fire_op.eq(~fed.any)]
            m.d.comb += [fed_back.r.bank.eq(fed.bank), fed_back.r.entry.eq(fed.entry),
                         fed_back.r.first.eq(first_step)]

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
        if recurrent:
            s1_rec = Signal()
            s1_rec_base = Signal(range(chunks * layer.size))
            s2_rec = Signal()
            s2_rec_value = Signal(plan.spike.bits)
        if paired:
            s1_pair = Signal()

        m.d.comb += [
            self.busy.eq(running | go),
            src.bank.eq(inputs.bank),
            src.entry.eq(inputs.entry),
        ]
        m.d.sync += s1_valid.eq(issuing)
        with m.If(go):
            m.d.sync += [running.eq(1), starting.eq(1)]
        with m.If(starting):
            m.d.sync += [
                starting.eq(0), issuing.eq(1), chunk.eq(0), neuron_base.eq(0),
                weight_base.eq(0), *begin_chunk,
            ]
            if recurrent:
                m.d.sync += rec_base.eq(0)
        with m.If(issuing):
            m.d.sync += [
                s1_fire.eq(fire_op), s1_chunk.eq(chunk), s1_last.eq(chunk == chunks - 1),
                s1_neuron_base.eq(neuron_base), s1_weight_base.eq(weight_base),
            ]
            if recurrent:
                m.d.sync += [s1_rec.eq(rec_op), s1_rec_base.eq(rec_base)]
            if paired:
                m.d.sync += s1_pair.eq(pair_op & ~fire_op)
            # A walk advances on every one of its operations, past its last entry too (the
            # next chunk's `begin` resets it), so that `more` enables no walk register.
            with m.If(~fire_op & ~rec_op if recurrent else ~fire_op):
                m.d.sync += advance
                with m.If(~more):
                    m.d.sync += end_of_inputs
            if recurrent:
                with m.Elif(~fire_op):
                    m.d.sync += fed.advance
                    with m.If(~fed.more):
                        m.d.sync += fire_op.eq(1)
            with m.Elif(chunk == chunks - 1):
                m.d.sync += issuing.eq(0)
            with m.Else():
                m.d.sync += [
                    chunk.eq(chunk + 1), neuron_base.eq(neuron_base + lanes),
                    weight_base.eq(weight_base + plan.fan_in), *begin_chunk,
                ]
                if recurrent:
                    m.d.sync += rec_base.eq(rec_base + layer.size)

        # Stage 1: the spike entry arrives from the spike buffer and is registered.
        s2_weight_base = Signal.like(weight_base)
        s2_index = Signal.like(src.data.index, reset_less=True)
        m.d.sync += [
            s2_valid.eq(s1_valid), s2_fire.eq(s1_fire), s2_last.eq(s1_last),
            s2_chunk.eq(s1_chunk), s2_neuron_base.eq(s1_neuron_base),
            s2_weight_base.eq(s1_weight_base), s2_index.eq(src.data.index),
            s2_value.eq(src.data.value),
        ]
        if paired:
            s2_pair = Signal()
            s2_pair_index = Signal.like(src.pair_data.index, reset_less=True)
            s2_pair_value = Signal.like(s2_value)
            m.d.sync += [s2_pair.eq(s1_pair), s2_pair_index.eq(src.pair_data.index),
                         s2_pair_value.eq(src.pair_data.value)]
        if recurrent:
            s2_rec_base = Signal.like(s1_rec_base)
            s2_rec_index = Signal.like(fed_back.r.data.index, reset_less=True)
            m.d.sync += [s2_rec.eq(s1_rec), s2_rec_base.eq(s1_rec_base),
                         s2_rec_index.eq(fed_back.r.data.index),
                         s2_rec_value.eq(fed_back.r.data.value)]

        # Stages 2-5: read its weights (`BLOCK_ROM_LATENCY` cycles); the chunk's membranes
        # are read in stage 4 and their data registered in stage 5 (their clock-to-out is long).
        # The data registers need no reset: stage 6 reads them only when s6_valid.
        data_stages = range(3, 3 + BLOCK_ROM_LATENCY)
        assert BLOCK_ROM_LATENCY == 4                           # the stage numbers below
        _, s4_chunk, _, s6_chunk = _carried(m, s2_chunk, "chunk", data_stages)
        s6_valid, s6_fire, s6_last, s6_neuron_base, s6_value = (
            _carried(m, signal, name, data_stages)[-1] for signal, name in (
                (s2_valid, "valid"), (s2_fire, "fire"), (s2_last, "last"),
                (s2_neuron_base, "neuron_base"), (s2_value, "value")))
        s6_v = Signal.like(v_rd.data, reset_less=True)
        m.d.comb += [
            w_rd.addr.eq(s2_weight_base + s2_index),
            v_rd.addr.eq(s4_chunk),
        ]
        m.d.sync += s6_v.eq(v_rd.data)
        s6_codes = w_rd.data
        if paired:
            m.d.comb += w_rd.pair_addr.eq(s2_weight_base + s2_pair_index)
            s6_pair, s6_pair_value = (_carried(m, signal, name, data_stages)[-1]
                                      for signal, name in ((s2_pair, "pair"),
                                                           (s2_pair_value, "pair_value")))
        if recurrent:
            m.d.comb += u_rd.addr.eq(s2_rec_base + s2_rec_index)
            s6_rec, s6_rec_value = (_carried(m, signal, name, data_stages)[-1]
                                    for signal, name in ((s2_rec, "rec"),
                                                         (s2_rec_value, "rec_value")))
            s6_rec_codes = u_rd.data

        # Stage 6: every lane accumulates its product, or starts its neuron update, which
        # leaves its stages (`NeuronUpdate.latency`) in stage 9, where the results are written.
        later = range(7, 7 + UPDATE_STAGES)
        (*_, s8_valid, s9_valid), (*_, s8_fire, s9_fire), (*_, s8_last, s9_last), \
            (*_, s9_neuron_base) = (
                _carried(m, signal, name, later) for signal, name in (
                    (s6_valid, "valid"), (s6_fire, "fire"), (s6_last, "last"),
                    (s6_neuron_base, "neuron_base")))
        *_, s8_chunk, s9_chunk = _carried(m, s6_chunk, "chunk", later)
        start_update = s6_valid & s6_fire
        update = s9_valid & s9_fire
        m.d.comb += [v_wr.addr.eq(s9_chunk), v_wr.en.eq(update)]
        if counting:
            m.d.comb += [n_rd.addr.eq(s8_chunk), n_wr.addr.eq(s9_chunk), n_wr.en.eq(update)]
        if is_last:
            m.d.comb += [self.o_result.en.eq(update & at_last_timestep),
                         self.o_result.chunk.eq(s9_chunk)]
        if plan.held_current:       # each chunk's current of t = 0, for every later timestep
            m.submodules.currents = currents = Memory(
                shape=data.ArrayLayout(signed(plan.accumulator.bits), lanes),
                depth=plan.memory("currents").depth, init=[])
            i_rd, i_wr = currents.read_port(), currents.write_port()
            # read with the fire operation's membranes (stage 4, registered in stage 5), written
            # in its stage 6, where the accumulator is taken
            s6_currents = Signal.like(i_rd.data, reset_less=True)
            m.d.comb += [i_rd.addr.eq(s4_chunk), i_wr.addr.eq(s6_chunk),
                         i_wr.en.eq(start_update & first_step)]
            m.d.sync += s6_currents.eq(i_rd.data)
        units = []
        for lane in range(lanes):
            acc = Signal(signed(plan.accumulator.bits), name=f"acc_{lane}")
            if plan.held_current:
                m.d.comb += i_wr.data[lane].eq(acc)
                current = Mux(first_step, acc, s6_currents[lane])
            else:
                current = acc
            if paired:      # the second entries' products, in an accumulator of their own
                acc_pair = Signal.like(acc, name=f"acc_pair_{lane}")
                current = acc + acc_pair
            product = m.submodules[f"synapse_{lane}"] = synapse_for(
                layer.weights, plan.in_value, plan.accumulator)
            unit = m.submodules[f"neuron_{lane}"] = NeuronUpdate(neuron, plan.accumulator,
                                                                 staged=True)
            m.d.comb += [
                product.value.eq(s6_value),
                product.code.eq(s6_codes[lane]),
                unit.v.eq(Mux(first_step, v_init(lane), s6_v[lane])),
                unit.current.eq(current + bias(lane)),
                *(getattr(unit, port).eq(value(lane)) for port, value in parameters.items()),
                v_wr.data[lane].eq(unit.v_next),
            ]
            units.append(unit)
            term, negate = product.term, product.negate
            if recurrent:
                fed = m.submodules[f"fed_back_synapse_{lane}"] = synapse_for(
                    layer.recurrent, plan.spike, plan.accumulator)
                m.d.comb += [fed.value.eq(s6_rec_value), fed.code.eq(s6_rec_codes[lane])]
                term = Mux(s6_rec, fed.term, product.term)
                negate = Mux(s6_rec, fed.negate, product.negate)
            with m.If(s6_valid & ~s6_fire):
                m.d.sync += acc.eq(accumulate(acc, term, negate))
            with m.If(start_update):
                m.d.sync += acc.eq(0)
            if paired:
                other = m.submodules[f"pair_synapse_{lane}"] = synapse_for(
                    layer.weights, plan.in_value, plan.accumulator)
                m.d.comb += [other.value.eq(s6_pair_value), other.code.eq(w_rd.pair_data[lane])]
                with m.If(s6_valid & ~s6_fire & s6_pair):
                    m.d.sync += acc_pair.eq(accumulate(acc_pair, other.term, other.negate))
                with m.If(start_update):
                    m.d.sync += acc_pair.eq(0)
            appends = ([] if is_last else [self.o_spikes]) + ([fed_back.w] if recurrent else [])
            for port in appends:
                active = s9_neuron_base + lane < layer.size
                m.d.comb += [
                    port.en[lane].eq(update & active & (unit.spike != 0)),
                    port.data[lane].index.eq(s9_neuron_base + lane),
                    port.data[lane].value.eq(unit.spike),
                ]
            if counting:
                total = Mux(first_step, 0, n_rd.data[lane]) + unit.spike
                m.d.comb += [n_wr.data[lane].eq(total), self.o_result.values[lane].eq(total)]
            elif is_last:
                m.d.comb += self.o_result.values[lane].eq(unit.v_next)

        if neuron.has_synapse:                      # cuba_lif: a current beside each membrane
            syn_current_memory(m, units, plan.memory("syn_currents").depth,
                               read_addr=v_rd.addr, write_addr=v_wr.addr,
                               write_en=v_wr.en, first_step=first_step, registered=True)

        # The timestep's last write (stage 9), and at the last timestep the result's commit:
        # registers of stage 8, so that their fan-outs across the device (the input buffer's
        # counts of every bank, the result buffer) start at flip-flops, not after three LUTs.
        s8_finish = s8_valid & s8_fire & s8_last
        finish = Signal(name="s9_finish")
        m.d.sync += finish.eq(s8_finish)
        m.d.comb += [self.done.eq(finish), src.release.eq(finish)]
        if recurrent:
            m.d.comb += fed_back.w.commit.eq(finish)
        if is_last:
            result_commit = Signal(name="s9_result_commit")
            m.d.sync += result_commit.eq(s8_finish & at_last_timestep)
            m.d.comb += self.o_result.commit.eq(result_commit)
        else:
            m.d.comb += self.o_spikes.commit.eq(finish)
        with m.If(finish):
            m.d.sync += [
                running.eq(0), t.eq(Mux(at_last_timestep, 0, t + 1)),
                first_step.eq(at_last_timestep),
                at_last_timestep.eq(Mux(at_last_timestep, self._timesteps == 1,
                                        t + 1 == self._timesteps - 1)),
            ]
        return m
