# amaranth: UnusedElaboratable=no
import numpy as np
from amaranth.sim import Simulator

from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.link import input_events
from spikeshift.hdl.feedback_buffer import FeedbackBuffer
from spikeshift.hdl.input_stage import InputStage
from spikeshift.hdl.layouts import spike_entry_layout
from spikeshift.hdl.result_buffer import ResultBuffer
from spikeshift.hdl.spike_buffer import SpikeBuffer

from .harness import stream_get


def test_spike_buffer_double_buffers_banked_lists():
    dut = SpikeBuffer(banks=3, depth=4, entry=spike_entry_layout(4, 2))
    steps = [[[(1, 1), (5, 2)], [], [(9, 3)]], [[], [], []], [[(0, 1)], [(7, 2)], []]]
    seen = []

    async def producer(ctx):
        for step in steps:
            await ctx.tick().until(dut.w.free)
            for k in range(max(len(bank) for bank in step) or 1):
                for b, bank in enumerate(step):
                    ctx.set(dut.w.en[b], k < len(bank))
                    if k < len(bank):
                        ctx.set(dut.w.data[b], {"index": bank[k][0], "value": bank[k][1]})
                ctx.set(dut.w.commit, k == max(len(bank) for bank in step) - 1 or
                        not any(step))
                await ctx.tick()
            ctx.set(dut.w.en, 0)
            ctx.set(dut.w.commit, 0)

    async def consumer(ctx):
        await ctx.tick().repeat(8)                  # let the producer fill both slots
        assert not ctx.get(dut.w.free)
        for _ in steps:
            await ctx.tick().until(dut.r.full)
            counts = [ctx.get(dut.r.counts[b]) for b in range(3)]
            entries = []
            for b, count in enumerate(counts):
                for k in range(count):
                    ctx.set(dut.r.bank, 1 << b)     # one-hot
                    ctx.set(dut.r.entry, k)
                    await ctx.tick()
                    data = ctx.get(dut.r.data)
                    entries.append((b, data.index, data.value))
            seen.append(entries)
            ctx.set(dut.r.release, 1)
            await ctx.tick()
            ctx.set(dut.r.release, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    assert seen == [[(0, 1, 1), (0, 5, 2), (2, 9, 3)], [], [(0, 0, 1), (1, 7, 2)]]


def test_feedback_buffer_shows_the_previous_timesteps_lists_and_r_init_at_each_first():
    initial = [[(0, 1)], [(1, 2), (3, 1)]]
    dut = FeedbackBuffer(banks=2, depth=3, entry=spike_entry_layout(3, 2), initial=initial)
    rng = np.random.default_rng(3)
    timesteps = 3
    written = [[[(int(rng.integers(0, 8)), int(rng.integers(1, 4)))
                 for _ in range(int(rng.integers(0, 4)))] for _ in range(2)]
               for _ in range(2 * timesteps)]
    seen = []

    async def bench(ctx):
        for g, lists in enumerate(written):
            ctx.set(dut.r.first, g % timesteps == 0)
            entries = []
            for b in range(2):
                for k in range(ctx.get(dut.r.counts[b])):
                    ctx.set(dut.r.bank, 1 << b)     # one-hot
                    ctx.set(dut.r.entry, k)
                    await ctx.tick()
                    data = ctx.get(dut.r.data)
                    entries.append((data.index, data.value))
            seen.append(entries)
            writes = max(map(len, lists)) or 1          # commit with the last write, as a core
            for k in range(writes):
                for b in range(2):
                    ctx.set(dut.w.en[b], k < len(lists[b]))
                    if k < len(lists[b]):
                        ctx.set(dut.w.data[b], dict(zip(("index", "value"), lists[b][k])))
                ctx.set(dut.w.commit, k == writes - 1)
                await ctx.tick()
            ctx.set(dut.w.en, 0)
            ctx.set(dut.w.commit, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    expected = [initial if g % timesteps == 0 else written[g - 1] for g in range(len(written))]
    assert seen == [[entry for bank in lists for entry in bank] for lists in expected]
    assert any(written[g] for g in range(len(written)) if g % timesteps != timesteps - 1)


def test_input_stage_drops_zero_values_and_commits_on_last():
    dut = InputStage(size=6, index_bits=3, value_bits=2, entry_index_bits=3, value_max=3)
    x = np.array([[[0, 3, 0, 1, 2, 0], [0] * 6]])
    beats = [{"index": i, "value": v, "last": int(last)} for _, _, i, v, last in input_events(x)]
    beats.insert(1, {"index": 7, "value": 3, "last": 0})      # beyond the input size
    writes, commits = [], []

    async def bench(ctx):
        ctx.set(dut.o_spikes.free, 1)
        ctx.set(dut.o_spikes.free_next, 1)
        for beat in [*beats, None, None]:       # a beat is written two cycles after its accept
            ctx.set(dut.i_stream.valid, beat is not None)
            if beat is not None:
                ctx.set(dut.i_stream.payload, beat)
            await ctx.delay(1e-9)
            assert ctx.get(dut.i_stream.ready) or beat is None
            if ctx.get(dut.o_spikes.en):
                data = ctx.get(dut.o_spikes.data[0])
                writes.append((data.index, data.value))
            commits.append(ctx.get(dut.o_spikes.commit))
            await ctx.tick()
        ctx.set(dut.o_spikes.free, 0)
        await ctx.delay(1e-9)
        assert not ctx.get(dut.i_stream.ready)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert writes == [(1, 3), (3, 1), (4, 2)]
    assert commits == [0, 0, 0, 0, 0, 1, 1]


def test_result_buffer_streams_every_value_once_under_backpressure():
    fmt = IntFormat(bits=9)
    dut = ResultBuffer(size=5, lanes=2, fmt=fmt)
    samples = [[-256, 3, 255, -1, 7], [1, 2, 3, 4, 5]]
    received = []
    rng = np.random.default_rng(0)

    async def writer(ctx):
        for values in samples:
            await ctx.tick().until(dut.w.free)
            for chunk in range(3):
                ctx.set(dut.w.en, 1)
                ctx.set(dut.w.chunk, chunk)
                for lane in range(2):
                    j = chunk * 2 + lane
                    ctx.set(dut.w.values[lane], values[j] if j < 5 else 0)
                ctx.set(dut.w.commit, chunk == 2)
                await ctx.tick()
            ctx.set(dut.w.en, 0)
            ctx.set(dut.w.commit, 0)

    async def reader(ctx):
        for _ in range(10):
            if idle := int(rng.integers(0, 3)):
                await ctx.tick().repeat(idle)
            beat = await stream_get(ctx, dut.o_stream)
            received.append((beat.value, beat.last))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(writer)
    sim.add_testbench(reader)
    sim.run()
    assert received == [(v, int(j == 4)) for values in samples for j, v in enumerate(values)]
