"""amaranth.sim drivers shared by the unit tests: stream helpers and an `rtl_*` accelerator run."""

import numpy as np
from amaranth.sim import Simulator

from spikeshift.gen.ir.link import input_events

__all__ = ["stream_put", "stream_get", "rtl_accelerator"]


async def stream_put(ctx, stream, payload):
    ctx.set(stream.valid, 1)
    ctx.set(stream.payload, payload)
    await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def stream_get(ctx, stream):
    ctx.set(stream.ready, 1)
    payload, = await ctx.tick().sample(stream.payload).until(stream.valid)
    ctx.set(stream.ready, 0)
    return payload


async def _gap(ctx, rng, seed):
    if seed is not None and (idle := int(rng.integers(0, 3))):
        await ctx.tick().repeat(idle)


def rtl_accelerator(dut, x: np.ndarray, *, seed: int | None = None):
    """Run `x` (batch, T, n) through an Accelerator; (outputs, per-layer step cycles).

    With a `seed`, the producer leaves random gaps and the consumer applies random
    backpressure.
    """
    rng = np.random.default_rng(seed)
    batch, steps, _ = x.shape
    n_out = dut.network.n_out
    n_layers = len(dut.network.layers)
    outputs = np.zeros((batch, n_out), np.int64)
    cycles = [[] for _ in range(n_layers)]

    async def producer(ctx):
        for _, _, index, value, last in input_events(x, direct=dut.network.input.direct):
            await _gap(ctx, rng, seed)
            await stream_put(ctx, dut.i_stream, {"index": index, "value": value,
                                                 "last": int(last)})

    async def consumer(ctx):
        for b in range(batch):
            for j in range(n_out):
                await _gap(ctx, rng, seed)
                beat = await stream_get(ctx, dut.o_stream)
                outputs[b, j] = beat.value
                assert beat.last == (j == n_out - 1)

    async def monitor(ctx):
        count = [0] * n_layers
        async for _, _, busy, done in ctx.tick().sample(dut.busy, dut.done):
            for i in range(n_layers):
                count[i] += (busy >> i) & 1
                if (done >> i) & 1:
                    cycles[i].append(count[i])
                    count[i] = 0

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.add_process(monitor)
    sim.run()
    return outputs, np.array(cycles).T.reshape(batch, steps, n_layers)
