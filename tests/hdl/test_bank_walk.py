# amaranth: UnusedElaboratable=no
"""The dense cores' bank walk visits every entry of a spike list once, bank after bank, in both
of its forms (one bit per position, or per bank with a count) and both directions, against the
list itself."""

import numpy as np
import pytest
from amaranth import Module, Signal
from amaranth.sim import Simulator

from spikeshift.hdl.cores.events import POSITION_WALK_BANKS, POSITION_WALK_BITS, bank_walk, meeting


def bank_of(one_hot: int) -> int:
    """The bank of a walk's one-hot bank, which must have exactly one bit set."""
    assert one_hot and one_hot & (one_hot - 1) == 0, f"bank {one_hot:#b} is not one-hot"
    return one_hot.bit_length() - 1


def walked(counts: list[int], depth: int,
           descending: bool = False) -> tuple[bool, list[tuple[int, int]]]:
    """(any, the positions a walk of a list with `counts` presents, begin to its last)."""
    m = Module()
    count_signals = [Signal(range(depth + 1), name=f"count_{b}") for b in range(len(counts))]
    walk = bank_walk(m, count_signals, len(counts), depth, "walk", descending=descending)
    start, step = Signal(), Signal()
    with m.If(start):
        m.d.sync += walk.begin
    with m.Elif(step):
        m.d.sync += walk.advance
    seen = []

    async def bench(ctx):
        for signal, count in zip(count_signals, counts):
            ctx.set(signal, count)
        await ctx.tick()                # the begin values: registers of the counts
        found = bool(ctx.get(walk.any))
        if found:
            ctx.set(start, 1)
            await ctx.tick()
            ctx.set(start, 0)
            while True:
                seen.append((bank_of(ctx.get(walk.bank)), ctx.get(walk.entry)))
                if not ctx.get(walk.more):
                    break
                ctx.set(step, 1)
                await ctx.tick()
        seen.insert(0, found)

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return seen[0], seen[1:]


@pytest.mark.parametrize("banks, depth", [(1, 9), (3, 5), (POSITION_WALK_BANKS + 1, 4),
                                          (16, POSITION_WALK_BITS // 16), (16, 9), (64, 2)])
@pytest.mark.parametrize("descending", [False, True])
def test_bank_walk_visits_every_entry_once_in_list_order(banks, depth, descending):
    rng = np.random.default_rng(banks * 100 + depth)
    cases = [[0] * banks, [depth] * banks, [0] * (banks - 1) + [1]]
    cases += [list(rng.integers(0, depth + 1, banks) * (rng.random(banks) < p))
              for p in (0.2, 0.6, 1.0) for _ in range(3)]
    for counts in cases:
        expected = [(b, e) for b, n in enumerate(counts) for e in range(n)]
        if descending:                  # the last entry of the highest bank first
            expected.reverse()
        found, positions = walked([int(c) for c in counts], depth, descending)
        assert found == bool(expected), counts
        assert positions == expected, counts


def paired(counts: list[int], depth: int) -> list[list[tuple[int, int]]]:
    """The entries each operation of a walk up and a walk down takes until they meet."""
    m = Module()
    count_signals = [Signal(range(depth + 1), name=f"count_{b}") for b in range(len(counts))]
    up = bank_walk(m, count_signals, len(counts), depth, "up")
    down = bank_walk(m, count_signals, len(counts), depth, "down", descending=True)
    pair, more = meeting(up, down)
    start, step = Signal(), Signal()
    with m.If(start):
        m.d.sync += [*up.begin, *down.begin]
    with m.Elif(step):
        m.d.sync += [*up.advance, *down.advance]
    operations = []

    async def bench(ctx):
        for signal, count in zip(count_signals, counts):
            ctx.set(signal, count)
        await ctx.tick()                # the begin values: registers of the counts
        if not ctx.get(up.any):
            return
        ctx.set(start, 1)
        await ctx.tick()
        ctx.set(start, 0)
        while len(operations) <= sum(counts):
            taken = [(bank_of(ctx.get(up.bank)), ctx.get(up.entry))]
            if ctx.get(pair):
                taken.append((bank_of(ctx.get(down.bank)), ctx.get(down.entry)))
            operations.append(taken)
            if not ctx.get(more):
                break
            ctx.set(step, 1)
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return operations


@pytest.mark.parametrize("banks, depth", [(1, 9), (3, 5), (POSITION_WALK_BANKS + 1, 4),
                                          (16, POSITION_WALK_BITS // 16), (16, 9), (64, 2)])
def test_two_walks_meeting_take_every_entry_once_in_half_the_operations(banks, depth):
    rng = np.random.default_rng(banks * 10 + depth)
    cases = [[0] * banks, [depth] * banks, [0] * (banks - 1) + [1], [2] + [0] * (banks - 1)]
    cases += [list(rng.integers(0, depth + 1, banks) * (rng.random(banks) < p))
              for p in (0.2, 0.6, 1.0) for _ in range(4)]
    for counts in cases:
        counts = [int(c) for c in counts]
        expected = sorted((b, e) for b, n in enumerate(counts) for e in range(n))
        operations = paired(counts, depth)
        assert len(operations) == -(-len(expected) // 2), counts
        assert sorted(p for taken in operations for p in taken) == expected, counts
