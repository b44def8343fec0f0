"""cocotb testbench for the generated accelerator Verilog (run by spikeshift.sim.rtl_run).

The bench reads its job from the ``.npz`` named by ``SPIKESHIFT_TB_JOB``: the inputs, the
port layout, optionally the input beats themselves (``events``: rows of sample, index, value,
last, sent as they are, bad ones included), and optionally a seed for random input gaps and
output backpressure. It writes what the RTL did, including every result's `last` flag and the
input stage's drop counters at the end, to ``SPIKESHIFT_TB_RESULT``; the caller compares it
with the golden and cycle models, so a wrong result is reported as a mismatch rather than as
a failed check.

Python runs only when something happens, not every cycle: the driver wakes once per input
beat (or per gap), the receiver once per cycle while a result is offered, and the per-layer
`busy`/`done` strobes are logged on their changes and turned into cycle counts at the end.
Cycle numbers come from the simulation time, so they are those of a bench that sampled every
signal at every rising edge: cycle c is the one that the (c + 1)-th edge after reset ends.
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, First, ReadOnly, RisingEdge, Timer

from spikeshift.gen.ir.link import DROP_COUNTERS, input_events

__all__ = ["run_accelerator"]

#: Clock period; the clock toggles in the simulator, not in Python ("gpi").
PERIOD_NS = 10
#: Probability that a stream is willing in a cycle, with a seed (input offered, result taken).
WILLING = 0.7


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


def _int(handle) -> int:
    """A signal's value, 0 while it is still undefined (before reset)."""
    value = handle.value
    return int(value) if value.is_resolvable else 0


class _Cycles:
    """Cycle numbers from the simulation time: `now()` is the cycle the last edge began."""

    def __init__(self, start: int, period: int):
        self._start, self._period = start, period

    def now(self) -> int:
        return (get_sim_time("step") - self._start) // self._period

    def of(self, times: np.ndarray) -> np.ndarray:
        """The cycles whose values are those that changed at `times` (a change at an edge
        belongs to the cycle that edge begins)."""
        return (np.asarray(times, np.int64) - self._start) // self._period


async def _log_changes(signal, log: list) -> None:
    """Append (time, value) at every change of `signal`: its value history."""
    while True:
        await signal.value_change
        log.append((get_sim_time("step"), _int(signal)))


def _per_cycle(log: list, cycles: _Cycles, total: int) -> np.ndarray:
    """(total,) the value a bench sampling at each rising edge sees for cycles 0 .. total-1:
    the last change before the edge that ends the cycle."""
    if not log:
        return np.zeros(total, np.int64)
    times, values = np.array(log, np.int64).T
    starts = cycles.of(times)
    # the last change of a cycle wins
    index = np.searchsorted(starts, np.arange(total), side="right") - 1
    return np.where(index >= 0, values[np.maximum(index, 0)], 0)


def _step_cycles(busy: np.ndarray, done: np.ndarray, n_layers: int, steps: int) -> np.ndarray:
    """(steps, n_layers) busy cycles of each layer between its `done` strobes, inclusive."""
    out = np.zeros((steps, n_layers), np.int64)
    for i in range(n_layers):
        counted = np.cumsum((busy >> i) & 1)
        at = np.flatnonzero((done >> i) & 1)[:steps]
        ends = counted[at]
        out[:len(at), i] = np.diff(ends, prepend=0)
    return out


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
    first_input = np.full(batch, -1, np.int64)
    last_output = np.full(batch, -1, np.int64)
    busy_log, done_log = [], []

    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns", impl="gpi").start())
    cocotb.start_soon(_log_changes(dut.busy, busy_log))
    cocotb.start_soon(_log_changes(dut.done, done_log))
    dut.rst.value = 1
    dut.i_stream__valid.value = 0
    dut.o_stream__ready.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    before = get_sim_time("step")
    await RisingEdge(dut.clk)
    start = get_sim_time("step")
    cycles = _Cycles(start, start - before)
    dut.rst.value = 0

    async def wait_until(signal) -> None:
        """Until an edge that ends a cycle in which `signal` was high."""
        await ReadOnly()
        if not signal.value:
            await RisingEdge(signal)
        await RisingEdge(dut.clk)

    async def drive() -> None:
        for sample, payload, first in beats:
            if rng is not None and (gap := int(rng.geometric(WILLING)) - 1):
                dut.i_stream__valid.value = 0
                await ClockCycles(dut.clk, gap)
            dut.i_stream__payload.value = payload
            dut.i_stream__valid.value = 1
            await RisingEdge(dut.clk)
            while not dut.i_stream__ready.value:
                await wait_until(dut.i_stream__ready)
            if first:
                first_input[sample] = cycles.now() - 1
        dut.i_stream__valid.value = 0

    async def receive() -> None:
        dut.o_stream__ready.value = 1 if rng is None else int(rng.random() < WILLING)
        for received in range(batch * n_out):
            while True:
                await wait_until(dut.o_stream__valid)
                taken = bool(dut.o_stream__valid.value and dut.o_stream__ready.value)
                if rng is not None:
                    dut.o_stream__ready.value = int(rng.random() < WILLING)
                if taken:
                    break
            raw = int(dut.o_stream__payload.value)
            sample, j = divmod(received, n_out)
            outputs[sample, j] = _signed(raw & ((1 << result_bits) - 1), result_bits)
            last_flags[sample, j] = raw >> result_bits
            if j == n_out - 1:
                last_output[sample] = cycles.now() - 1

    cocotb.start_soon(drive())
    receiving = cocotb.start_soon(receive())
    # a timer, not ClockCycles: that one wakes Python at every edge
    await First(receiving, Timer(max_cycles * PERIOD_NS, unit="ns"))
    total = cycles.now()
    assert receiving.done(), (f"no progress: {int((last_output >= 0).sum())} of {batch} "
                              f"samples' results after {total} cycles")
    busy = _per_cycle(busy_log, cycles, total)
    done = _per_cycle(done_log, cycles, total)
    np.savez(os.environ["SPIKESHIFT_TB_RESULT"], outputs=outputs, last_flags=last_flags,
             step_cycles=_step_cycles(busy, done, n_layers, batch * steps).reshape(
                 batch, steps, n_layers),
             first_input=first_input, last_output=last_output, cycles=total,
             drops=np.array([int(getattr(dut, name).value) for name in DROP_COUNTERS]))
