"""cocotb testbench for the generated accelerator Verilog (run by spikeshift.sim.rtl_run).

The bench reads its job from the ``.npz`` named by ``SPIKESHIFT_TB_JOB``: the inputs, the
port layout, optionally the input beats themselves (``events``: rows of sample, index, value,
last, sent as they are, bad ones included), and optionally a seed for random input gaps and
output backpressure. One coroutine does everything at each rising edge, so the cycle numbers it
records are exact: it samples the handshakes and the per-layer `busy`/`done` strobes of the
cycle that just ended, then drives the next cycle. It writes what the RTL did, including every
result's `last` flag and the input stage's drop counters at the end, to
``SPIKESHIFT_TB_RESULT``; the caller compares it with the golden and cycle models, so a wrong
result is reported as a mismatch rather than as a failed check.
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

from spikeshift.gen.ir.link import DROP_COUNTERS, input_events

__all__ = ["run_accelerator"]


def _beats(events, index_bits: int, value_bits: int) -> list[tuple[int, int, bool]]:
    """(sample, packed payload, first beat of the sample) for every input beat."""
    beats, first = [], set()
    for sample, index, value, last in events:
        sample, index, value, last = int(sample), int(index), int(value), bool(last)
        payload = index | (value << index_bits) | (int(last) << (index_bits + value_bits))
        beats.append((sample, payload, sample not in first))
        first.add(sample)
    return beats


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) else value


@cocotb.test()
async def run_accelerator(dut):
    job = dict(np.load(os.environ["SPIKESHIFT_TB_JOB"]))
    x = job["inputs"]
    batch, steps, _ = x.shape
    n_out, n_layers = int(job["n_out"]), int(job["n_layers"])
    index_bits, value_bits = int(job["index_bits"]), int(job["value_bits"])
    result_bits = int(job["result_bits"])
    seed = int(job["seed"])
    rng = np.random.default_rng(seed) if seed >= 0 else None
    events = (job["events"] if "events" in job else
              [(sample, index, value, last) for sample, _, index, value, last in input_events(x)])
    beats = _beats(events, index_bits, value_bits)
    max_cycles = int(job["max_cycles"])

    outputs = np.zeros((batch, n_out), np.int64)
    last_flags = np.zeros((batch, n_out), np.int64)
    step_cycles = np.zeros((batch * steps, n_layers), np.int64)
    first_input = np.full(batch, -1, np.int64)
    last_output = np.full(batch, -1, np.int64)
    done_steps = [0] * n_layers
    busy_count = [0] * n_layers

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.i_stream__valid.value = 0
    dut.o_stream__ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0

    sent = received = cycle = 0
    offering = False
    while received < batch * n_out:
        # Drive this cycle.
        if not offering and sent < len(beats) and (rng is None or rng.random() < 0.7):
            offering = True
            dut.i_stream__payload.value = beats[sent][1]
        dut.i_stream__valid.value = int(offering)
        dut.o_stream__ready.value = int(rng is None or rng.random() < 0.7)
        await RisingEdge(dut.clk)
        # Sample what happened in the cycle that this edge ends.
        if offering and dut.i_stream__ready.value:
            sample, _, first = beats[sent]
            if first:
                first_input[sample] = cycle
            sent += 1
            offering = False
        if dut.o_stream__valid.value and dut.o_stream__ready.value:
            raw = int(dut.o_stream__payload.value)
            sample, j = divmod(received, n_out)
            outputs[sample, j] = _signed(raw & ((1 << result_bits) - 1), result_bits)
            last_flags[sample, j] = raw >> result_bits
            if j == n_out - 1:
                last_output[sample] = cycle
            received += 1

        busy, done = int(dut.busy.value), int(dut.done.value)
        for i in range(n_layers):
            busy_count[i] += (busy >> i) & 1
            if (done >> i) & 1:
                if done_steps[i] < batch * steps:
                    step_cycles[done_steps[i], i] = busy_count[i]
                done_steps[i] += 1
                busy_count[i] = 0
        cycle += 1
        assert cycle < max_cycles, (f"no progress: {received} of {batch * n_out} results after "
                                    f"{cycle} cycles")

    np.savez(os.environ["SPIKESHIFT_TB_RESULT"], outputs=outputs, last_flags=last_flags,
             step_cycles=step_cycles.reshape(batch, steps, n_layers),
             first_input=first_input, last_output=last_output, cycles=cycle,
             drops=np.array([int(getattr(dut, name).value) for name in DROP_COUNTERS]))
