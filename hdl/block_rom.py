"""A read-only memory laid out in block-RAM depth pieces, each piece's data registered before
the select between them, so that no select follows a block's long clock-to-out."""

from amaranth import Module, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.ir.blocks import WEIGHT_READ_CYCLES, block_shape

__all__ = ["BlockRom", "BLOCK_ROM_LATENCY"]

#: Cycles from `addr` to `data`: the address is registered, the block reads, its piece's
#: data are registered, the selected piece's data are registered. `PackedRom` takes as many.
BLOCK_ROM_LATENCY = WEIGHT_READ_CYCLES


class BlockRom(wiring.Component):
    """`rows` (values of `shape`) in pieces of the depth of one block (`block_shape`): the
    piece at hand is known from the address a cycle ahead, so the select runs from registers;
    the address is registered first, so that what computes it does not meet a block's setup.

    Members
    -------
    addr : ``In(range(len(rows)))``
    data : ``Out(shape)``
        ``rows[addr]`` of `BLOCK_ROM_LATENCY` cycles before.
    pair_addr, pair_data : with two `ports`, a second read (a block's second port)
    """

    def __init__(self, shape, rows: list, *, ports: int = 1):
        if ports not in (1, 2):
            raise ValueError(f"BlockRom ports must be 1 or 2, not {ports!r}")
        self._shape, self._rows, self._ports = shape, rows, ports
        members = {"addr": In(range(len(rows))), "data": Out(shape)}
        if ports == 2:
            members |= {"pair_addr": In(range(len(rows))), "pair_data": Out(shape)}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        piece_depth, _ = block_shape(Shape.cast(self._shape).width, len(self._rows),
                                     ports=self._ports)
        pieces = [self._rows[start:start + piece_depth]
                  for start in range(0, len(self._rows), piece_depth)]
        low = (piece_depth - 1).bit_length() if len(pieces) > 1 else len(self.addr)
        memories = [Memory(shape=self._shape, depth=len(rows), init=rows) for rows in pieces]
        for index, memory in enumerate(memories):
            m.submodules[f"piece_{index}"] = memory
        reads = [(self.addr, self.data, "")]
        if self._ports == 2:
            reads.append((self.pair_addr, self.pair_data, "pair_"))
        for given, out, prefix in reads:
            addr = Signal.like(given, name=f"{prefix}addr_held")
            m.d.sync += addr.eq(given)
            read_piece = Signal(range(len(pieces)), name=f"{prefix}read_piece")
            held_piece = Signal.like(read_piece, name=f"{prefix}held_piece")
            m.d.sync += [read_piece.eq(addr[low:]), held_piece.eq(read_piece)]
            with m.Switch(held_piece):
                for index, memory in enumerate(memories):
                    port = memory.read_port()
                    data = Signal(self._shape, name=f"{prefix}piece_{index}_data",
                                  reset_less=True)
                    m.d.comb += port.addr.eq(addr[:low])
                    m.d.sync += data.eq(port.data)
                    with m.Case(index):
                        m.d.sync += out.eq(data)
        return m
