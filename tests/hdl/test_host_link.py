# amaranth: UnusedElaboratable=no
import numpy as np
import pytest
from amaranth.sim import Simulator

from spikeshift import predict
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.link import decode_results, encode_inputs
from spikeshift.gen.ir.synthetic import random_inputs, random_network
from spikeshift.hdl.host_link import UartAccelerator
from spikeshift.hdl.uart import UartRx, UartTx

DIVISOR = 4


async def send_bytes(ctx, line, data: bytes, divisor: int):
    for byte in data:
        for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
            ctx.set(line, bit)
            await ctx.tick().repeat(divisor)


async def receive_bytes(ctx, line, count: int, divisor: int) -> bytes:
    out = bytearray()
    while len(out) < count:
        await ctx.tick().until(line == 0)                  # start bit
        await ctx.tick().repeat(divisor + divisor // 2)    # middle of bit 0
        byte = 0
        for i in range(8):
            byte |= ctx.get(line) << i
            await ctx.tick().repeat(divisor)
        assert ctx.get(line) == 1, "stop bit"
        out.append(byte)
    return bytes(out)


def test_uart_tx_and_rx_round_trip_every_byte():
    data = bytes(range(256))
    received = bytearray()
    tx, rx = UartTx(divisor=5), UartRx(divisor=5)

    async def producer(ctx):
        for byte in data:
            ctx.set(tx.i_stream.payload, byte)
            ctx.set(tx.i_stream.valid, 1)
            await ctx.tick().until(tx.i_stream.ready)
        ctx.set(tx.i_stream.valid, 0)

    async def wire(ctx):
        async for _, _, line in ctx.tick().sample(tx.tx):
            ctx.set(rx.rx, line)

    async def consumer(ctx):
        ctx.set(rx.o_stream.ready, 1)
        while len(received) < len(data):
            payload, = await ctx.tick().sample(rx.o_stream.payload).until(rx.o_stream.valid)
            received.append(payload)

    from amaranth import Module
    m = Module()
    m.submodules.tx, m.submodules.rx = tx, rx
    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(producer)
    sim.add_process(wire)
    sim.add_testbench(consumer)
    sim.run()
    assert bytes(received) == data


@pytest.mark.parametrize("seed", [0, 1])
def test_uart_accelerator_answers_frames_with_golden_results(seed):
    rng = np.random.default_rng(seed)
    net = random_network(rng, max_layers=2, max_size=8, max_timesteps=3)
    x = random_inputs(rng, net, 2)
    dut = UartAccelerator(plan(net), divisor=DIVISOR, fifo_depth=64)
    frame = encode_inputs(x)
    # corrupt one extra frame: the board must drop it and count it
    bad = bytearray(encode_inputs(x[:1, :1])[:7])
    bad[-1] ^= 1
    n_bytes = len(x) * (4 + 4 * net.n_out)
    result = {}

    async def host(ctx):
        await send_bytes(ctx, dut.rx, bytes(bad) + frame, DIVISOR)

    async def listener(ctx):
        result["bytes"] = await receive_bytes(ctx, dut.tx, n_bytes, DIVISOR)
        result["bad"] = ctx.get(dut.bad_frames)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(host)
    sim.add_testbench(listener)
    sim.run()
    np.testing.assert_array_equal(decode_results(result["bytes"], net.n_out), predict(net, x)[0])
    assert result["bad"] == 1
