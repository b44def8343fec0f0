"""A weight memory packed into 512 x 36 blocks with (almost) no bit unused (`PackedRows`),
read in as many cycles as a `BlockRom`, and `weight_rom`, which picks the one of the two
that takes fewer blocks."""

from amaranth import Module, Shape, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.ir.blocks import ROW_DEPTH, PackedRows, packed_rows
from .block_rom import BLOCK_ROM_LATENCY, BlockRom

__all__ = ["PackedRom", "weight_rom"]


def weight_rom(layout: data.ArrayLayout, rows: list, *, ports: int = 1):
    """A ROM of `rows` (values of `layout`, one per word): a `PackedRom` when its packing
    takes fewer blocks (one read port), else a `BlockRom`."""
    code_bits = Shape.cast(layout.elem_shape).width
    packed = packed_rows(layout.length, len(rows), code_bits, ports=ports)
    return PackedRom(layout, rows, packed) if packed else BlockRom(layout, rows, ports=ports)


def _field(value, start: int, width: int):
    return value[start:start + width]


def _first_true(m, domain: str, cases: list):
    """`cases` of ``(condition, statements)``, in order: the statements of the first true
    condition, those of the last case when none is (its condition is never built)."""
    *tested, (_, otherwise) = cases
    for index, (condition, statements) in enumerate(tested):
        with (m.If if index == 0 else m.Elif)(condition):
            m.d[domain] += statements
    if not tested:
        m.d[domain] += otherwise
        return
    with m.Else():
        m.d[domain] += otherwise


class PackedRom(wiring.Component):
    """`rows` (each ``layout.length`` codes) packed as `packing` says, `BLOCK_ROM_LATENCY`
    cycles from address to data:

    - the address's row and slot are registered (`PackedRows.place`: a compare and a subtract
      per level, a mux);
    - each block's address is its group's row plus a constant (a compare and a mux where
      two groups share the block), and the block reads;
    - each block's data are registered;
    - each lane's code is selected (its group's block, then its slot) and registered.

    Members
    -------
    addr : ``In(range(len(rows)))``
    data : ``Out(layout)``
        ``rows[addr]`` of `BLOCK_ROM_LATENCY` cycles before.
    """

    def __init__(self, layout: data.ArrayLayout, rows: list, packing: PackedRows):
        if not packing.conflict_free or packing.depth != len(rows):
            raise ValueError(f"PackedRom packing {packing!r} must be conflict free and hold "
                             f"{len(rows)} words")
        self._layout, self._rows, self._packing = layout, rows, packing
        super().__init__({"addr": In(range(len(rows))), "data": Out(layout)})

    def _words(self) -> list[int]:
        layout, width = self._layout, self._packing.code_bits
        codes = [[(layout.const(row).as_bits() >> lane * width) & ((1 << width) - 1)
                  for lane in range(layout.length)] for row in self._rows]
        return self._packing.words(codes)

    def elaborate(self, platform):
        m = Module()
        p = self._packing
        assert BLOCK_ROM_LATENCY == 4   # the four registered steps below

        # 1: the address's row and slot
        row = Signal(range(p.rows))
        slot = Signal(range(p.slots))
        levels = []
        for first, shift, first_slot in reversed(p.levels):     # the highest first
            offset = self.addr - first if first else self.addr
            levels.append((self.addr >= first, [
                row.eq(offset[shift:]),
                slot.eq(first_slot + offset[:shift] if shift else first_slot)]))
        _first_true(m, "sync", levels)

        # 2: each block reads its group's row; 3: its data registered
        words = self._words()
        held_row = Signal.like(row)
        m.d.sync += held_row.eq(row)
        block_data = []
        for block in range((len(words) + ROW_DEPTH - 1) // ROW_DEPTH):
            contents = words[block * ROW_DEPTH:(block + 1) * ROW_DEPTH]
            memory = m.submodules[f"block_{block}"] = Memory(
                shape=unsigned(p.row_bits), depth=len(contents), init=contents)
            port = memory.read_port()
            # at most one group's row lies in the block in a cycle (`conflict_free`)
            _first_true(m, "comb", [
                (row >= low, port.addr.eq(row + (group * p.rows - block * ROW_DEPTH)))
                for group, low, _ in sorted(p.segments(block), key=lambda s: -s[1])])
            registered = Signal(unsigned(p.row_bits), name=f"block_{block}_data",
                                reset_less=True)
            m.d.sync += registered.eq(port.data)
            block_data.append(registered)

        # 4: each group's row from the block holding it, each lane's code from its slot
        slot_at = slot
        for stage in (2, 3):
            later = Signal.like(slot, name=f"slot_{stage}")
            m.d.sync += later.eq(slot_at)
            slot_at = later
        field = p.slots * p.code_bits
        for group in range(p.groups):
            first_block = group * p.rows // ROW_DEPTH
            last_block = (group * p.rows + p.rows - 1) // ROW_DEPTH
            piece = Signal(range(last_block - first_block + 1), name=f"group_{group}_piece")
            _first_true(m, "sync", [                  # the boundaries its row has passed
                (held_row >= block * ROW_DEPTH - group * p.rows, piece.eq(block - first_block))
                for block in range(last_block, first_block - 1, -1)])
            group_row = Signal(unsigned(p.row_bits), name=f"group_{group}_row")
            with m.Switch(piece):
                for index in range(last_block - first_block + 1):
                    with m.Case(index):
                        m.d.comb += group_row.eq(block_data[first_block + index])
            for position in range(min(p.group, p.lanes - group * p.group)):
                lane = group * p.group + position
                codes = _field(group_row, position * field, field)
                out = _field(self.data.as_value(), lane * p.code_bits, p.code_bits)
                m.d.sync += out.eq(codes.word_select(slot_at, p.code_bits) if p.slots > 1
                                   else codes)
        return m
