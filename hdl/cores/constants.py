"""Per-lane constants of a layer core (per-neuron bias, v_init, threshold, leak): the values
each lane needs for the neurons of the fire operation at hand."""

from amaranth import Const, Signal
from amaranth.lib import data
from amaranth.lib.memory import Memory

__all__ = ["lane_constants"]


def lane_constants(m, name: str, shape, words, addr, *, registered: bool = False):
    """``lane -> value`` of ``words[a][lane]`` at address `addr`, as cheap as the values allow.

    One value everywhere is one constant; a lane whose value is the same at every address gets
    its own constant (no memory: the usual case with one chunk); otherwise a ROM of
    ``len(words)`` words, read at `addr`, so its data arrives one cycle later, with the
    membranes read at the same address; `registered` adds a register after the ROM (two
    cycles, for a core that registers its memories' outputs before use).
    """
    values = [[int(v) for v in word] for word in words]
    columns = list(zip(*values))
    if all(len(set(column)) == 1 for column in columns):
        return lambda lane: Const(columns[lane][0], shape)
    rom = m.submodules[name] = Memory(shape=data.ArrayLayout(shape, len(columns)),
                                      depth=len(values), init=values)
    port = rom.read_port()
    m.d.comb += port.addr.eq(addr)
    out = port.data
    if registered:
        out = Signal.like(port.data, name=f"{name}_data", reset_less=True)
        m.d.sync += out.eq(port.data)
    return lambda lane: out[lane]
