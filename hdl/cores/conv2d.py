"""The conv2d layer core: input events scattered over their output windows, `lanes` output
channels at a time, then a fire pass over the output map."""

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory

from ...gen.ir.formats import signed_bits_for
from ...gen.ir.kinds.conv2d import Conv2dLayer, Conv2dPlan
from ...gen.ir.layer import MemoryImage
from ..layouts import weight_code, weight_code_shape
from ..neuron import NeuronUpdate, neuron_parameters, parameter_ports
from ..synapse import synapse_for
from .constants import lane_constants
from .dense import per_lane, weight_image
from .events import event_core_members
from .registry import core_for
from .syn_currents import syn_current_memory
from .windows import WindowIssue, window_image

__all__ = ["Conv2dCore", "conv_weight_init"]


def conv_weight_init(layer: Conv2dLayer, plan: Conv2dPlan) -> list[list]:
    """Weight memory contents: word ``chunk * C*kh*kw + c*kh*kw + ky*kw + kx`` holds the codes
    of ``w[o][c][ky][kx]`` for ``o = chunk * lanes + lane``, lane 0 first (padding lanes: 0)."""
    w = layer.weights
    flat = w.values.reshape(layer.out_channels, -1)
    rows = []
    for chunk in range(plan.chunks):
        channels = range(chunk * plan.lanes, (chunk + 1) * plan.lanes)
        for i in range(flat.shape[1]):
            rows.append([weight_code(w, int(flat[o, i]) if o < layer.out_channels else 0)
                         for o in channels])
    return rows


def _per_lane_positions(plan: Conv2dPlan, values) -> list[list[int]]:
    """A per-neuron vector (flat order) as words ``chunk * H'W' + pos`` of `lanes` values; a
    padding lane (no channel) repeats its lane's value of the first chunk."""
    hw, lanes = plan.out_positions, plan.lanes
    out_channels = plan.out_map[0]
    return [[int(values[(chunk * lanes + lane if chunk * lanes + lane < out_channels else lane)
                        * hw + pos]) for lane in range(lanes)]
            for chunk in range(plan.chunks) for pos in range(hw)]


@core_for("conv2d")
class Conv2dCore(wiring.Component):
    """One conv2d layer.

    Schedule of a timestep (`spikeshift.gen.ir.maps.WindowPlan`): a start cycle and two
    cycles of event prefetch; then for every non-zero input event (c, y, x, s), for each chunk
    of `lanes` output channels and each of its P valid window positions (oy, ox), one cycle in
    which the weight word of (c, ky, kx) is read and every lane adds its product (PoT shift,
    select, or multiply for int weights with multi-bit inputs) to its current, a
    read-modify-write of the current RAM (read transparent to the write of the cycle before,
    so back-to-back events on one position are exact); an event that no window covers takes
    one cycle. Then one fire operation per chunk and position: leak, add the current and the
    bias, saturate, fire, reset; the membrane is written back, the current cleared, and each
    lane's spike appended to its bank of the next buffer. Busy cycles:
    ``sum of max(chunks * P, 1) + chunks * H' * W' + 4``. A timestep starts once the input
    buffer holds it and the output buffer has room, so nothing stalls inside a timestep.

    As the last layer (`result` given; 1 lane, so fire operation k is neuron k in flat order)
    the fire pass writes each membrane or spike count to the result buffer at the last
    timestep instead, and a timestep then also waits for the result buffer to be free.

    Members
    -------
    i_spikes : ``Out(spike_read_signature(in_banks, in_depth, ...))``
    o_spikes : ``Out(spike_write_signature(lanes, chunks * H' * W', ...))``, when not last
    o_result : ``Out(result_write_signature(1, size, result))``, when the last layer
    busy, done : ``Out(1)``
    """

    def __init__(self, layer: Conv2dLayer, plan: Conv2dPlan, *, timesteps: int, in_banks: int,
                 in_depth: int, result=None, output_mode: str = "membrane"):
        if not isinstance(layer, Conv2dLayer):
            raise TypeError(f"Conv2dCore layer must be a Conv2dLayer, not {layer!r}")
        if result is not None and plan.lanes != 1:
            raise ValueError(f"Conv2dCore as the last layer needs 1 lane, not {plan.lanes}")
        self._layer, self._plan, self._timesteps = layer, plan, timesteps
        self._in_banks = in_banks
        self._result, self._output_mode = result, output_mode
        self._weight_rows = conv_weight_init(layer, plan)
        super().__init__(event_core_members(plan, in_banks, in_depth, result))

    @property
    def layer(self) -> Conv2dLayer:
        return self._layer

    @property
    def plan(self) -> Conv2dPlan:
        return self._plan

    def memory_images(self) -> tuple[MemoryImage, ...]:
        """The weight and window memories' contents, packed as the hardware stores them."""
        return (weight_image(self._layer.weights, self._plan, self._weight_rows),
                window_image(self._plan))

    def elaborate(self, platform):
        m = Module()
        layer, plan = self._layer, self._plan
        neuron = layer.neuron
        lanes, hw = plan.lanes, plan.out_positions
        src = self.i_spikes
        is_last = self._result is not None

        t = Signal(range(self._timesteps))
        at_last_timestep = t == self._timesteps - 1
        running = Signal()
        room = (~at_last_timestep | self.o_result.free) if is_last else self.o_spikes.free
        go = ~running & src.full & room
        issue = WindowIssue(m, plan, src, self._in_banks, go=go)
        m.d.comb += self.busy.eq(running | go)
        with m.If(go):
            m.d.sync += running.eq(1)

        m.submodules.weights = weights = Memory(
            shape=data.ArrayLayout(weight_code_shape(layer.weights), lanes),
            depth=plan.memory("weights").depth, init=self._weight_rows)
        w_rd = weights.read_port()
        acc_shape = data.ArrayLayout(signed(plan.accumulator.bits), lanes)
        m.submodules.currents = currents = Memory(shape=acc_shape,
                                                  depth=plan.memory("currents").depth, init=[])
        i_wr = currents.write_port()
        i_rd = currents.read_port(transparent_for=(i_wr,))
        m.submodules.membranes = membranes = Memory(
            shape=data.ArrayLayout(signed(neuron.v.bits), lanes),
            depth=plan.memory("membranes").depth, init=[])
        v_rd, v_wr = membranes.read_port(), membranes.write_port()

        def neuron_constants(name, shape, values):
            """Per-neuron constants read with the fire operation; by chunk alone when every
            position of a channel shares one value."""
            words = _per_lane_positions(plan, values)
            by_chunk = words[::hw]
            if all(word == by_chunk[i // hw] for i, word in enumerate(words)):
                return lane_constants(m, name, shape, by_chunk, issue.fire_chunk)
            return lane_constants(m, name, shape, words, issue.fire_addr)

        bias_values = layer.bias_array()
        bias = lane_constants(m, "bias", signed(signed_bits_for(min(0, int(bias_values.min())),
                                                                max(0, int(bias_values.max())))),
                              per_lane(plan, bias_values), issue.fire_chunk)
        v_init = neuron_constants("v_init", signed(neuron.v.bits),
                                  neuron.v_init_array(plan.size))
        parameters = {port: neuron_constants(f"neuron_{port}", parameter_ports(neuron)[port],
                                             values)
                      for port, values in neuron_parameters(neuron, plan.size).items()}

        m.d.comb += [
            w_rd.addr.eq(issue.weight),
            i_rd.addr.eq(issue.state),
            v_rd.addr.eq(issue.fire_addr),
            i_wr.addr.eq(issue.u_addr), i_wr.en.eq(issue.u_scatter | issue.u_fire),
            v_wr.addr.eq(issue.u_addr), v_wr.en.eq(issue.u_fire),
        ]
        counting = is_last and self._output_mode == "spike_count"
        if counting:
            m.submodules.counts = counts = Memory(shape=signed(self._result.bits),
                                                  depth=plan.size, init=[])
            n_rd, n_wr = counts.read_port(), counts.write_port()
            m.d.comb += [n_rd.addr.eq(issue.fire_addr), n_wr.addr.eq(issue.u_addr),
                         n_wr.en.eq(issue.u_fire)]
        if is_last:
            m.d.comb += [self.o_result.en.eq(issue.u_fire & at_last_timestep),
                         self.o_result.chunk.eq(issue.u_addr)]
        first_step = t == 0
        units = []
        for lane in range(lanes):
            product = m.submodules[f"synapse_{lane}"] = synapse_for(
                layer.weights, plan.in_value, plan.accumulator)
            unit = m.submodules[f"neuron_{lane}"] = NeuronUpdate(neuron, plan.accumulator)
            current = i_rd.data[lane]
            m.d.comb += [
                product.value.eq(issue.u_value),
                product.code.eq(w_rd.data[lane]),
                i_wr.data[lane].eq(Mux(issue.u_fire, 0, current + product.addend)),
                unit.v.eq(Mux(first_step, v_init(lane), v_rd.data[lane])),
                unit.current.eq(current + bias(lane)),
                *(getattr(unit, port).eq(value(lane)) for port, value in parameters.items()),
                v_wr.data[lane].eq(unit.v_next),
            ]
            units.append(unit)
            if counting:            # last layer, 1 lane: word u_addr is neuron u_addr
                total = Mux(first_step, 0, n_rd.data) + unit.spike
                m.d.comb += [n_wr.data.eq(total), self.o_result.values[0].eq(total)]
            elif is_last:
                m.d.comb += self.o_result.values[0].eq(unit.v_next)
            else:
                dst = self.o_spikes
                active = issue.u_chunk * lanes + lane < layer.out_channels
                m.d.comb += [
                    dst.en[lane].eq(issue.u_fire & active & (unit.spike != 0)),
                    dst.data[lane].index.eq(issue.u_neuron + lane * hw),
                    dst.data[lane].value.eq(unit.spike),
                ]

        if neuron.has_synapse:                      # cuba_lif: a current beside each membrane
            syn_current_memory(m, units, plan.memory("syn_currents").depth,
                               read_addr=issue.fire_addr, write_addr=issue.u_addr,
                               write_en=issue.u_fire, first_step=first_step)

        finish = issue.u_fire & issue.u_last
        m.d.comb += [self.done.eq(finish), src.release.eq(finish)]
        if is_last:
            m.d.comb += self.o_result.commit.eq(finish & at_last_timestep)
        else:
            m.d.comb += self.o_spikes.commit.eq(finish)
        with m.If(finish):
            m.d.sync += [running.eq(0), t.eq(Mux(at_last_timestep, 0, t + 1))]
        return m
