"""BlockRom and PackedRom: every row, BLOCK_ROM_LATENCY cycles after its address, across
their blocks; the packing within a block of the minimum."""

import random

import pytest
from amaranth import unsigned
from amaranth.lib import data
from amaranth.sim import Simulator

from spikeshift.gen.ir.blocks import (
    PackedRows,
    block_shape,
    blocks_minimum,
    blocks_used,
    packed_rows,
    rom_blocks,
)
from spikeshift.hdl.block_rom import BLOCK_ROM_LATENCY, BlockRom
from spikeshift.hdl.packed_rom import PackedRom, weight_rom


def test_block_shape_takes_the_fewest_blocks_then_the_deepest():
    assert block_shape(64, 6272) == (512, 36)                  # 2 wide x 13 deep
    assert blocks_used(64, 6272) == 26
    assert block_shape(4, 100) == (4096, 4)                    # one block, any shape: deepest
    assert block_shape(1, 100) == (16384, 1)
    assert blocks_used(9, 4096) == 2 and block_shape(9, 4096) == (2048, 9)
    assert blocks_minimum(64 * 6272) == 22 and blocks_minimum(1) == 1
    assert block_shape(40, 128, ports=2) == (1024, 18) and blocks_used(40, 128, ports=2) == 3


@pytest.mark.parametrize("lanes, depth, code_bits, group, slots, blocks, minimum", [
    (16, 6272, 4, 1, 9, 22, 22),        # MNIST layer 0, 16 lanes: 26 word by word
    (64, 1568, 4, 3, 3, 23, 22),        # 64 lanes: a lane's 175 rows would share blocks
    (16, 6272, 3, 1, 12, 17, 17),
    (16, 6272, 5, 1, 7, 28, 28),        # 7 = 4 + 2 + 1: three levels
    (128, 784, 4, 9, 1, 23, 22),
])
def test_packing_comes_within_a_block_of_the_minimum(lanes, depth, code_bits, group, slots,
                                                     blocks, minimum):
    packing = packed_rows(lanes, depth, code_bits)
    assert (packing.group, packing.slots, packing.blocks) == (group, slots, blocks)
    assert packing.conflict_free and packing.row_bits <= 36
    assert blocks_minimum(lanes * depth * code_bits) == minimum
    assert rom_blocks(lanes, depth, code_bits) == blocks
    # every code has a place of its own, in its lane's column
    places = {packing.place(k) for k in range(depth)}
    assert len(places) == depth
    assert all(0 <= row < packing.rows and 0 <= slot < slots for row, slot in places)


def test_nine_codes_to_a_row_without_a_division():
    packing = PackedRows(lanes=1, depth=20, code_bits=4, group=1, slots=9)   # 3 rows
    assert packing.levels == ((0, 3, 0),)             # 20 codes fit the first 8 x 3
    assert [packing.place(k) for k in (0, 7, 8, 19)] == [(0, 0), (0, 7), (1, 0), (2, 3)]
    packing = PackedRows(lanes=1, depth=27, code_bits=4, group=1, slots=9)
    assert packing.levels == ((0, 3, 0), (24, 0, 8))
    assert [packing.place(k) for k in (23, 24, 26)] == [(2, 7), (0, 8), (2, 8)]


def test_no_packing_when_word_by_word_takes_as_few_blocks():
    assert packed_rows(10, 128, 4) is None            # no conflict-free packing: 2 blocks
    assert rom_blocks(10, 128, 4) == 2 and rom_blocks(10, 128, 4, ports=2) == 3
    assert packed_rows(9, 512, 4) is None             # 36 bits x 512: one block already
    layout = data.ArrayLayout(unsigned(4), 10)
    rom = weight_rom(layout, [[0] * 10] * 128)
    assert isinstance(rom, BlockRom)
    Simulator(rom)                                    # elaborated: no unused-elaboratable warning


def _reads(dut, order):
    """The data seen after each address of `order` (and the zeros that flush it), from the
    cycle its row is due: seen[k] is sampled after k + 1 edges."""
    seen = []

    async def bench(ctx):
        for addr in order + [0] * BLOCK_ROM_LATENCY:
            ctx.set(dut.addr, addr)
            await ctx.tick()
            seen.append(ctx.get(dut.data))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return seen[BLOCK_ROM_LATENCY - 1:]


@pytest.mark.parametrize("width, depth", [(36, 1100), (8, 5000), (3, 1)])
def test_every_row_arrives_its_latency_after_its_address(width, depth):
    rows = [(r * 2654435761) % (1 << width) for r in range(depth)]
    dut = BlockRom(unsigned(width), rows)
    order = [(r * 7919) % depth for r in range(min(depth, 600))] + [depth - 1, 0]
    assert _reads(dut, order) == [rows[a] for a in order] + [rows[0]]


@pytest.mark.parametrize("lanes, depth, code_bits", [
    (16, 6272, 4), (64, 1568, 4), (16, 6272, 5), (32, 3136, 4), (16, 6272, 3), (18, 600, 4)])
def test_packed_codes_arrive_their_latency_after_their_address(lanes, depth, code_bits):
    rng = random.Random(lanes * depth)
    rows = [[rng.randrange(1 << code_bits) for _ in range(lanes)] for _ in range(depth)]
    dut = weight_rom(data.ArrayLayout(unsigned(code_bits), lanes), rows)
    assert isinstance(dut, PackedRom)
    # random words, and every level's first and last (each block boundary of a column)
    edges = [k for first, *_ in dut._packing.levels for k in (first, first - 1)
             if 0 <= k < depth]
    order = [rng.randrange(depth) for _ in range(60)] + edges + [depth - 1, 0]
    assert [list(word) for word in _reads(dut, order)] == [rows[a] for a in order
                                                                  ] + [rows[0]]
