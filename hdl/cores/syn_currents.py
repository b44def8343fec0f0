"""The synaptic current state of ``cuba_lif`` layers: one word of `lanes` currents per
membrane word, read and written with the membranes."""

from amaranth import Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.memory import Memory

__all__ = ["syn_current_memory"]


def syn_current_memory(m, units, depth: int, *, read_addr, write_addr, write_en, first_step,
                       registered: bool = False):
    """Connect the `syn` / `syn_next` ports of the lanes' `units` (NeuronUpdate, one per lane)
    to a memory of `depth` words: read at `read_addr` (data one cycle later, with the
    membranes; two with `registered`, which registers it first), written at `write_addr` when
    `write_en`; 0 at the first timestep."""
    bits = units[0].neuron.i.bits
    m.submodules.syn_currents = memory = Memory(
        shape=data.ArrayLayout(signed(bits), len(units)), depth=depth, init=[])
    rd, wr = memory.read_port(), memory.write_port()
    m.d.comb += [rd.addr.eq(read_addr), wr.addr.eq(write_addr), wr.en.eq(write_en)]
    data_out = rd.data
    if registered:
        data_out = Signal.like(rd.data, name="syn_currents_data", reset_less=True)
        m.d.sync += data_out.eq(rd.data)
    for lane, unit in enumerate(units):
        m.d.comb += [unit.syn.eq(Mux(first_step, 0, data_out[lane])),
                     wr.data[lane].eq(unit.syn_next)]
