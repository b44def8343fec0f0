# amaranth: UnusedElaboratable=no
import numpy as np
import pytest
from amaranth.sim import Simulator

from spikeshift.gen.ir.link import DROP_COUNTERS
from spikeshift.hdl.input_stage import InputStage

from ..bad_input import bad_events, ref_input_stage


def rtl_input_stage(dut: InputStage, events, *, timesteps: int, seed: int):
    """Per closed timestep the (index, value) entries written; the counters at the end."""
    steps, entries = [], []
    rng = np.random.default_rng(seed)
    counters = {}
    out = dut.o_spikes

    async def drive(ctx):
        for index, value, last in events:
            ctx.set(dut.i_stream.payload, {"index": index, "value": value, "last": last})
            ctx.set(dut.i_stream.valid, 1)
            while True:
                ctx.set(out.free, int(rng.random() < 0.7))
                ctx.set(out.free_next, int(rng.random() < 0.7))
                await ctx.delay(1e-9)
                accepted = ctx.get(dut.i_stream.ready)
                await ctx.tick()
                if accepted:
                    break
            ctx.set(dut.i_stream.valid, 0)
            for _ in range(int(rng.integers(0, 2))):
                await ctx.tick()
        await ctx.tick().repeat(2)              # the last beat leaves the third stage
        counters.update({name: ctx.get(getattr(dut, name)) for name in DROP_COUNTERS})

    async def watch(ctx):                       # what the stage writes, cycle by cycle
        async for _, _, en, data, commit in ctx.tick().sample(out.en, out.data[0], out.commit):
            if en:
                entries.append((data.index, data.value))
            if commit:
                steps.append(sorted(entries))
                entries.clear()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(drive)
    sim.add_testbench(watch, background=True)
    sim.run()
    return steps, counters


@pytest.mark.parametrize("kinds", [("extra_beats",), ("bad_indices",), ("duplicates",),
                                   ("bad_values",), DROP_COUNTERS])
def test_input_stage_drops_and_counts_bad_beats_as_the_reference(kinds):
    rng = np.random.default_rng(len(kinds) * 10 + DROP_COUNTERS.index(kinds[0]))
    size, timesteps, batch = 6, 3, 4
    x = rng.integers(0, 4, size=(batch, timesteps, size)) * (rng.random((batch, timesteps,
                                                                          size)) < 0.5)
    events = bad_events(rng, x, kinds=kinds, index_limit=1 << 4, value_max=3,
                        value_limit=1 << 3, rate=0.7)
    ref = ref_input_stage(events, batch=batch, timesteps=timesteps, size=size, value_max=3)
    assert all(ref.drops[name] > 0 for name in kinds)            # the stimulus has every kind
    dut = InputStage(size=size, index_bits=4, value_bits=3, entry_index_bits=3, value_max=3)
    steps, counters = rtl_input_stage(dut, events, timesteps=timesteps, seed=len(events))
    expected = [sorted((i, int(v)) for i, v in enumerate(frame) if v)
                for frame in ref.x.reshape(-1, size)]
    assert steps == expected
    assert counters == ref.drops


def test_input_stage_keeps_the_first_beat_of_an_index_and_closes_on_a_dropped_last():
    dut = InputStage(size=3, index_bits=3, value_bits=3, entry_index_bits=2, value_max=3)
    events = [(1, 2, 0), (1, 3, 0), (5, 1, 1),                         # duplicate, bad index
              (0, 7, 0), (0, 1, 0), (0, 2, 1),                         # bad value, duplicate
              (0, 0, 0), (1, 1, 0), (2, 3, 0), (1, 1, 0), (0, 1, 1)]   # two extra beats
    steps, counters = rtl_input_stage(dut, events, timesteps=3, seed=0)
    assert steps == [[(1, 2)], [(0, 1)], [(1, 1), (2, 3)]]
    assert counters == {"extra_beats": 2, "bad_indices": 1, "duplicates": 2, "bad_values": 1}


def test_input_stage_refuses_an_entry_index_too_narrow_for_the_size():
    with pytest.raises(ValueError, match=r"^entry_index_bits \(2\) must hold index 4 of size "
                                         r"5$"):
        InputStage(size=5, index_bits=4, value_bits=2, entry_index_bits=2, value_max=3)
