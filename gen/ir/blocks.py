"""Block RAM geometry: how a memory of `depth` words of `width` bits falls into 18 Kbit blocks.

The 18 Kbit block is the one of both targets with block RAM: Xilinx's RAMB18 (UltraScale+)
and Lattice ECP5's DP16KD. Each is one of `BLOCK_SHAPES` (depth x width, the 9-bit multiples
counting the parity bits). A wide memory is several blocks side by side; a deep one is
several blocks cascaded in depth, whose output select follows the blocks' long clock-to-out
in the same cycle unless the data are registered per block first (`spikeshift.hdl.block_rom`).
"""

__all__ = ["BLOCK_BITS", "BLOCK_SHAPES", "block_shape", "blocks_used", "blocks_minimum"]

BLOCK_BITS = 18 * 1024
#: (depth, width) of each configuration of an 18 Kbit block
BLOCK_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))


def _blocks(width: int, depth: int, shape: tuple[int, int]) -> int:
    block_depth, block_width = shape
    return -(-width // block_width) * -(-depth // block_depth)


def block_shape(width: int, depth: int) -> tuple[int, int]:
    """The block configuration holding the memory in the fewest blocks, the deepest of equals
    (the fewest blocks in depth, so the shortest output select)."""
    return min(BLOCK_SHAPES, key=lambda shape: (_blocks(width, depth, shape), -shape[0]))


def blocks_used(width: int, depth: int) -> int:
    """Blocks the memory takes in its `block_shape`, each depth piece on its own."""
    return _blocks(width, depth, block_shape(width, depth))


def blocks_minimum(bits: int) -> int:
    """The fewest blocks that hold `bits`, every bit of every block used."""
    return -(-bits // BLOCK_BITS)
