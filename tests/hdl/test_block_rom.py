"""BlockRom: every row, BLOCK_ROM_LATENCY cycles after its address, across its depth pieces."""

import pytest
from amaranth import unsigned
from amaranth.sim import Simulator

from spikeshift.gen.ir.blocks import block_shape, blocks_minimum, blocks_used
from spikeshift.hdl.block_rom import BLOCK_ROM_LATENCY, BlockRom


def test_block_shape_takes_the_fewest_blocks_then_the_deepest():
    assert block_shape(64, 6272) == (512, 36)                  # 2 wide x 13 deep
    assert blocks_used(64, 6272) == 26
    assert block_shape(4, 100) == (4096, 4)                    # one block, any shape: deepest
    assert block_shape(1, 100) == (16384, 1)
    assert blocks_used(9, 4096) == 2 and block_shape(9, 4096) == (2048, 9)
    assert blocks_minimum(64 * 6272) == 22 and blocks_minimum(1) == 1


@pytest.mark.parametrize("width, depth", [(36, 1100), (8, 5000), (3, 1)])
def test_every_row_arrives_its_latency_after_its_address(width, depth):
    rows = [(r * 2654435761) % (1 << width) for r in range(depth)]
    dut = BlockRom(unsigned(width), rows)
    order = [(r * 7919) % depth for r in range(min(depth, 600))] + [depth - 1, 0]
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
    # seen[k] is sampled after k + 1 edges: the row addressed BLOCK_ROM_LATENCY edges before
    assert seen[BLOCK_ROM_LATENCY - 1:] == [rows[a] for a in order] + [rows[0]]
