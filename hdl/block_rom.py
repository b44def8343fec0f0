"""A read-only memory laid out in block-RAM depth pieces, each piece's data registered before
the select between them, so that no select follows a block's long clock-to-out."""

from amaranth import Module, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.ir.blocks import block_shape

__all__ = ["BlockRom", "BLOCK_ROM_LATENCY"]

#: Cycles from `addr` to `data`: the block reads, its piece's data are registered, the
#: selected piece's data are registered.
BLOCK_ROM_LATENCY = 3


class BlockRom(wiring.Component):
    """`rows` (values of `shape`) in pieces of the depth of one block (`block_shape`): the
    piece at hand is known from the address a cycle ahead, so the select runs from registers.

    Members
    -------
    addr : ``In(range(len(rows)))``
    data : ``Out(shape)``
        ``rows[addr]`` of `BLOCK_ROM_LATENCY` cycles before.
    """

    def __init__(self, shape, rows: list):
        self._shape, self._rows = shape, rows
        super().__init__({"addr": In(range(len(rows))), "data": Out(shape)})

    def elaborate(self, platform):
        m = Module()
        piece_depth, _ = block_shape(Shape.cast(self._shape).width, len(self._rows))
        pieces = [self._rows[start:start + piece_depth]
                  for start in range(0, len(self._rows), piece_depth)]
        low = (piece_depth - 1).bit_length() if len(pieces) > 1 else len(self.addr)
        read_piece = Signal(range(len(pieces)))
        held_piece = Signal.like(read_piece)
        m.d.sync += [read_piece.eq(self.addr[low:]), held_piece.eq(read_piece)]
        held = []
        for index, rows in enumerate(pieces):
            memory = m.submodules[f"piece_{index}"] = Memory(shape=self._shape, depth=len(rows),
                                                             init=rows)
            port = memory.read_port()
            data = Signal(self._shape, name=f"piece_{index}_data", reset_less=True)
            m.d.comb += port.addr.eq(self.addr[:low])
            m.d.sync += data.eq(port.data)
            held.append(data)
        with m.Switch(held_piece):
            for index, data in enumerate(held):
                with m.Case(index):
                    m.d.sync += self.data.eq(data)
        return m
