"""Block RAM geometry: how a memory of `depth` words of `width` bits falls into 18 Kbit blocks.

The 18 Kbit block is the one of both targets with block RAM: Xilinx's RAMB18 (UltraScale+)
and Lattice ECP5's DP16KD. Each is one of `BLOCK_SHAPES` (depth x width, the 9-bit multiples
counting the parity bits). A wide memory is several blocks side by side; a deep one is
several blocks cascaded in depth, whose output select follows the blocks' long clock-to-out
in the same cycle unless the data are registered per block first (`spikeshift.hdl.block_rom`).

A weight memory (each word the codes of `lanes` lanes) laid out so is wasteful when its word
is no multiple of 36 bits: 16 lanes of 4-bit codes take two 36-bit blocks side by side, 8 of
their 72 bits unused. `PackedRows` lays the same codes out with (almost) no bit unused:
each lane's codes form a column of 36-bit rows, the columns end to end in 512 x 36 blocks
(`spikeshift.hdl.packed_rom`).
"""

from dataclasses import dataclass

__all__ = ["BLOCK_BITS", "BLOCK_SHAPES", "ROW_DEPTH", "ROW_BITS", "block_shape", "blocks_used",
           "blocks_minimum", "WEIGHT_READ_CYCLES", "PackedRows", "packed_rows", "rom_blocks"]

BLOCK_BITS = 18 * 1024
#: (depth, width) of each configuration of an 18 Kbit block
BLOCK_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
#: The widest configuration, the one a packed memory takes (one read port, 36 bits)
ROW_DEPTH, ROW_BITS = BLOCK_SHAPES[-1]
#: The widest configuration with two read ports (true dual port)
DUAL_PORT_BITS = 18
#: Cycles of a weight memory read, address to registered codes (`spikeshift.hdl.block_rom`)
WEIGHT_READ_CYCLES = 4


def _blocks(width: int, depth: int, shape: tuple[int, int]) -> int:
    block_depth, block_width = shape
    return -(-width // block_width) * -(-depth // block_depth)


def block_shape(width: int, depth: int, *, ports: int = 1) -> tuple[int, int]:
    """The block configuration holding the memory in the fewest blocks, the deepest of equals
    (the fewest blocks in depth, so the shortest output select); with two read `ports`, one
    of true dual port (at most 18 bits wide)."""
    shapes = [s for s in BLOCK_SHAPES if ports == 1 or s[1] <= DUAL_PORT_BITS]
    return min(shapes, key=lambda shape: (_blocks(width, depth, shape), -shape[0]))


def blocks_used(width: int, depth: int, *, ports: int = 1) -> int:
    """Blocks the memory takes in its `block_shape`, each depth piece on its own."""
    return _blocks(width, depth, block_shape(width, depth, ports=ports))


def blocks_minimum(bits: int) -> int:
    """The fewest blocks that hold `bits`, every bit of every block used."""
    return -(-bits // BLOCK_BITS)


@dataclass(frozen=True)
class PackedRows:
    """`depth` words of `lanes` codes of `code_bits` each, packed in `ROW_BITS`-bit rows.

    A row holds `group` lanes side by side, `slots` codes of each. A group's codes form a
    column of `rows` rows; the columns lie end to end over blocks of `ROW_DEPTH` rows. Every
    word is read in one cycle, one row of every group: with `rows` >= `ROW_DEPTH` (or one
    group) no block is read twice in a cycle.

    Code k of a lane lies in row and slot `place(k)`, found without a division: `slots` is
    split in powers of two (9 = 8 + 1), each a `level` of its own over all rows, the first
    level taking the first ``8 * rows`` codes (row ``k >> 3``, slot ``k & 7``), the next the
    following ``rows`` codes (row ``k - 8 * rows``, slot 8).
    """

    lanes: int
    depth: int
    code_bits: int
    group: int
    slots: int

    @property
    def rows(self) -> int:
        """Rows of one group's column."""
        return -(-self.depth // self.slots)

    @property
    def groups(self) -> int:
        return -(-self.lanes // self.group)

    @property
    def row_bits(self) -> int:
        """Bits of a row that hold codes."""
        return self.group * self.slots * self.code_bits

    @property
    def blocks(self) -> int:
        return -(-self.groups * self.rows // ROW_DEPTH)

    @property
    def conflict_free(self) -> bool:
        return self.groups == 1 or self.rows >= ROW_DEPTH

    @property
    def levels(self) -> tuple[tuple[int, int, int], ...]:
        """``(first code, log2 of its slots, first slot)`` of each level holding a code."""
        levels, code, slot = [], 0, 0
        for shift in reversed(range(self.slots.bit_length())):
            if self.slots >> shift & 1 and code < self.depth:
                levels.append((code, shift, slot))
                code += self.rows << shift
                slot += 1 << shift
        return tuple(levels)

    def place(self, k: int) -> tuple[int, int]:
        """``(row, slot)`` of code k (word k) in its lane's column."""
        first, shift, slot = next(level for level in reversed(self.levels) if k >= level[0])
        return (k - first) >> shift, slot + ((k - first) & ((1 << shift) - 1))

    def segments(self, block: int) -> list[tuple[int, int, int]]:
        """``(group, first row, last row + 1)`` of the group columns in `block`, a group's
        row r lying at the block's address ``group * rows + r - block * ROW_DEPTH``."""
        low, high = block * ROW_DEPTH, (block + 1) * ROW_DEPTH
        return [(g, max(low - g * self.rows, 0), min(high - g * self.rows, self.rows))
                for g in range(self.groups)
                if g * self.rows < high and (g + 1) * self.rows > low]

    def words(self, codes: list[list[int]]) -> list[int]:
        """The rows of all blocks, end to end, from ``codes[k][lane]`` (each code unsigned)."""
        words = [0] * (self.groups * self.rows)
        field = self.slots * self.code_bits
        for k, row_codes in enumerate(codes):
            row, slot = self.place(k)
            for lane, code in enumerate(row_codes):
                group, position = divmod(lane, self.group)
                words[group * self.rows + row] |= code << (position * field
                                                           + slot * self.code_bits)
        return words


def packed_rows(lanes: int, depth: int, code_bits: int, *, ports: int = 1) -> PackedRows | None:
    """The conflict-free packing in the fewest blocks (the fewest lanes per row of equals),
    when it takes fewer blocks than the memory laid out word by word; else None, as always
    with two read `ports` (a packed row is read through one)."""
    if ports != 1:
        return None
    packings = [PackedRows(lanes, depth, code_bits, group, ROW_BITS // (group * code_bits))
                for group in range(1, min(lanes, ROW_BITS // code_bits) + 1)]
    packings = [p for p in packings if p.conflict_free]
    best = min(packings, key=lambda p: (p.blocks, p.group), default=None)
    if best is not None and best.blocks < blocks_used(lanes * code_bits, depth):
        return best
    return None


def rom_blocks(lanes: int, depth: int, code_bits: int, *, ports: int = 1) -> int:
    """Blocks a weight memory takes as `spikeshift.hdl.packed_rom.weight_rom` lays it out."""
    packed = packed_rows(lanes, depth, code_bits, ports=ports)
    return packed.blocks if packed else blocks_used(lanes * code_bits, depth, ports=ports)
