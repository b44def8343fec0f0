"""The accelerator top level: input stream -> layer cores chained by spike buffers -> results."""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..gen.ir.design import Design
from ..gen.ir.link import COUNTER_BITS, DROP_COUNTERS
from .cores import CORES
from .input_stage import InputStage
from .layouts import input_event_layout, result_layout, spike_entry_layout
from .result_buffer import ResultBuffer
from .spike_buffer import SpikeBuffer

__all__ = ["Accelerator"]


def _hold_for_timesteps(m, buffer, core, timesteps: int) -> None:
    """Connect the input buffer's read side to core 0 so that a slot (one sample of a direct
    network) is released only at the end of the core's last timestep on it: the core walks,
    or keeps what it computed from, the same spike list for all `timesteps`."""
    t = Signal(range(timesteps))
    m.d.comb += [
        core.full.eq(buffer.full),
        *(c.eq(b) for c, b in zip(core.counts, buffer.counts)),
        buffer.bank.eq(core.bank),
        buffer.entry.eq(core.entry),
        core.data.eq(buffer.data),
        buffer.release.eq(core.release & (t == timesteps - 1)),
    ]
    with m.If(core.release):
        m.d.sync += t.eq(Mux(t == timesteps - 1, 0, t + 1))


class Accelerator(wiring.Component):
    """The whole network in hardware, pipelined across layers and timesteps.

    Layer l works on timestep t while layer l + 1 works on t - 1; consecutive samples overlap
    the same way. Every cycle count is given by the cycle model (spikeshift.sim.cycles).

    Parameters
    ----------
    design : Design
    index_bits, value_bits : int, optional
        Widths of the input stream's `index` and `value` fields; default (and minimum) the
        first layer's. A wrapper passes its wire widths so that an index or value beyond the
        network's range is dropped and counted instead of truncated.

    Members
    -------
    i_stream : ``In(stream.Signature(input_event_layout(index_bits, value_bits)))``
        Input values per timestep, T timesteps per sample, or one for ``input.encoding``
        ``"direct"``: core 0 keeps it for all T (see InputStage: bad beats are dropped and
        counted).
    o_stream : ``Out(stream.Signature(result_layout(design.result)))``
        n_out results per sample, `last` on the final one; backpressure stalls the pipeline,
        never drops.
    busy, done : ``Out(len(layers))``
        Per layer core: busy during a timestep, done on its last cycle (for cycle checks).
    extra_beats, bad_indices, duplicates, bad_values : ``Out(COUNTER_BITS)``
        Input beats dropped for each reason since reset (InputStage).
    """

    def __init__(self, design: Design, *, index_bits: int | None = None,
                 value_bits: int | None = None):
        if not isinstance(design, Design):
            raise TypeError(f"Accelerator design must be a Design, not {design!r}")
        self._design = design
        net, plan = design.network, design
        first = plan.layers[0]
        index_bits = first.in_index_bits if index_bits is None else index_bits
        value_bits = first.in_value.bits if value_bits is None else value_bits
        if index_bits < first.in_index_bits:
            raise ValueError(f"index_bits must be at least {first.in_index_bits} for input.size "
                             f"{net.input.size}, not {index_bits!r}")
        if value_bits < first.in_value.bits:
            raise ValueError(f"value_bits must be at least {first.in_value.bits} for input.bits "
                             f"{net.input.bits}, not {value_bits!r}")
        self._index_bits, self._value_bits = index_bits, value_bits
        super().__init__({
            "i_stream": In(stream.Signature(input_event_layout(index_bits, value_bits))),
            "o_stream": Out(stream.Signature(result_layout(plan.result))),
            "busy": Out(len(net.layers)),
            "done": Out(len(net.layers)),
            **{name: Out(COUNTER_BITS) for name in DROP_COUNTERS},
        })
        # Built here so that the generator can read memory contents without elaborating.
        self.cores = []
        banks, depth = 1, net.input.size
        for index, (layer, lp) in enumerate(design.pairs()):
            last = index == len(net.layers) - 1
            self.cores.append(CORES[layer.kind](
                layer, lp, timesteps=net.timesteps, in_banks=banks, in_depth=depth,
                result=plan.result if last else None, output_mode=net.output.mode))
            banks, depth = lp.out_banks, lp.out_depth

    @property
    def design(self) -> Design:
        return self._design

    @property
    def network(self):
        return self._design.network

    def elaborate(self, platform):
        m = Module()
        plan = self._design
        net = plan.network
        first = plan.layers[0]
        m.submodules.input_stage = stage = InputStage(
            size=net.input.size, index_bits=self._index_bits, value_bits=self._value_bits,
            entry_index_bits=first.in_index_bits, value_max=first.in_value.max)
        wiring.connect(m, wiring.flipped(self.i_stream), stage.i_stream)
        m.d.comb += [getattr(self, name).eq(getattr(stage, name)) for name in DROP_COUNTERS]
        producer = stage.o_spikes
        banks, depth = 1, net.input.size
        entry = spike_entry_layout(first.in_index_bits, first.in_value.bits)
        for index, (core, lp) in enumerate(zip(self.cores, plan.layers)):
            buffer = m.submodules[f"spikes_{index}"] = SpikeBuffer(
                banks=banks, depth=depth, entry=entry, read_ports=lp.entries_per_cycle)
            m.submodules[f"core_{index}"] = core
            wiring.connect(m, producer=producer, buffer=buffer.w)
            if index == 0 and net.input.direct and net.timesteps > 1:
                _hold_for_timesteps(m, buffer.r, core.i_spikes, net.timesteps)
            else:
                wiring.connect(m, buffer=buffer.r, core=core.i_spikes)
            if index < len(self.cores) - 1:
                producer = core.o_spikes
                banks, depth = lp.out_banks, lp.out_depth
                entry = spike_entry_layout(lp.out_index_bits, lp.spike.bits)
        last = plan.layers[-1]
        m.submodules.results = results = ResultBuffer(size=last.size, lanes=last.out_banks,
                                                      fmt=plan.result)
        wiring.connect(m, core=self.cores[-1].o_result, results=results.w)
        wiring.connect(m, results=results.o_stream, top=wiring.flipped(self.o_stream))
        m.d.comb += [
            self.busy.eq(Cat(core.busy for core in self.cores)),
            self.done.eq(Cat(core.done for core in self.cores)),
        ]
        return m
