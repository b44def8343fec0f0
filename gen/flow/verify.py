"""Verification: generate the Verilog, simulate it under cocotb, compare with the models.

Every output value, every result's `last` flag (set on a sample's final result only), every
layer-timestep cycle count and, for gap-free runs, every sample's stream latency must equal
the golden model (`spikeshift.sim.golden`) and the cycle model (`spikeshift.sim.cycles`)
exactly. A failed check inside the testbench raises `spikeshift.sim.rtl_run.TestbenchFailed`.
"""

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ...sim.cycles import input_beats, layer_inputs, schedule, step_cycles
from ...sim.golden import check_inputs, trace
from ...sim.rtl_run import SIMULATOR_CHOICES, RtlSimulation, choose_simulator
from ..ir.checks import check_choice
from ..ir.design import Design, plan
from ..ir.files import check_output_folder
from ..ir.network import Network
from .generator import write_design

__all__ = ["Verification", "verify", "verify_design", "run_chunks", "CHUNK_SAMPLES"]

#: Samples per fresh simulation by default: Icarus's take long enough for a progress bar to
#: tell; Verilator's are fast enough that starting a simulation (~1-3 s) would dominate.
CHUNK_SAMPLES = {"icarus": 64, "verilator": 1024}


@dataclass
class Verification:
    """RTL results next to the models' and every mismatch found (empty when it passed)."""

    outputs: np.ndarray
    classes: np.ndarray
    step_cycles: np.ndarray
    latency: np.ndarray
    expected_outputs: np.ndarray
    expected_step_cycles: np.ndarray
    expected_latency: np.ndarray
    report: dict
    last_flags: np.ndarray
    expected_last_flags: np.ndarray
    mismatches: list = field(default_factory=list)
    #: the simulator that ran, the cycles it simulated and the seconds that took (builds
    #: excluded)
    simulator: str = ""
    simulated_cycles: int = 0
    simulation_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def cycles_per_second(self) -> float:
        return self.simulated_cycles / self.simulation_seconds if self.simulation_seconds else 0.0

    @property
    def first_difference(self) -> str | None:
        return self.mismatches[0] if self.mismatches else None


def _differences(what: str, got: np.ndarray, want: np.ndarray, names: tuple) -> list[str]:
    found = []
    for idx in np.argwhere(got != want)[:20]:
        where = ", ".join(f"{n} {i}" for n, i in zip(names, idx))
        found.append(f"{what} differs at {where}: RTL {got[tuple(idx)]}, "
                     f"model {want[tuple(idx)]}")
    return found


def verify(net: Network, x, *, lanes=None, max_luts=None, **options) -> Verification:
    """Plan `net` with `lanes` (or balanced within `max_luts` for the worst case, as
    `generate` plans without inputs) and verify its design (`verify_design`)."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, not {net!r}")
    return verify_design(plan(net, lanes, max_luts=max_luts), x, **options)


def run_chunks(design: Design, verilog: Path, sim_dir: Path, x: np.ndarray, *, simulator: str,
               seed: int | None, chunk: int, progress: bool = False) -> list:
    """The RTL's results on `x`, one fresh simulation per `chunk` samples (built once)."""
    sim = RtlSimulation(design, verilog, sim_dir, simulator=simulator)
    return [sim.run(x[start:start + chunk], seed=seed)
            for start in tqdm(range(0, len(x), chunk), desc="RTL simulation", unit="chunk",
                              disable=not progress)]


def verify_design(design: Design, x, *, simulator: str = "auto", build_dir=None,
                  seed: int | None = None, chunk: int | None = None,
                  progress: bool = True, runner=None) -> Verification:
    """Run the generated Verilog on every sample of `x` and compare it with the models.

    `simulator` "auto" takes Verilator when it is installed and the cycle model's cycles for
    `x` make its build pay (`choose_simulator`). `seed` adds random input gaps and output
    backpressure (latency is then not compared). Samples run in chunks of `chunk` (default:
    the simulator's `CHUNK_SAMPLES`, Icarus's for a `runner` so that shards stay many), each a
    fresh simulation; with `progress`, the choice of simulator, a progress bar and the
    simulated cycles per second are printed to stderr.
    `runner(design, x, simulator=, seed=, chunk=)`, if given, returns the chunks' results
    instead of `run_chunks` here (e.g. shards on a Dask cluster; the same chunks, so the
    same results).
    """
    net = design.network
    x = check_inputs(net, x)
    if not len(x):
        raise ValueError("inputs must hold at least one sample to verify, not 0")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0, not {seed!r}")
    check_choice("simulator", simulator, SIMULATOR_CHOICES)
    if build_dir is not None:
        check_output_folder(build_dir, "build_dir")
    golden = trace(net, x)
    inputs = layer_inputs(x, golden)
    direct = net.input.direct
    simulator, why = choose_simulator(
        schedule(design, inputs, input_beats(x, direct=direct)).total, simulator)
    if progress:                         # beside the progress bar: stdout stays the results'
        print(why, file=sys.stderr, flush=True)
    chunk = chunk or CHUNK_SAMPLES["icarus" if runner is not None else simulator]
    starts = range(0, len(x), chunk)
    schedules = [schedule(design, [v[s:s + chunk] for v in inputs],
                          input_beats(x[s:s + chunk], direct=direct)) for s in starts]
    with tempfile.TemporaryDirectory(prefix="spikeshift-verify-") as tmp:
        work = Path(build_dir) if build_dir is not None else Path(tmp)
        generated = write_design(design, work / "rtl", inputs=inputs)
        if runner is None:
            parts = run_chunks(design, generated.verilog, work / "sim", x, simulator=simulator,
                               seed=seed, chunk=chunk, progress=progress)
        else:
            parts = runner(design, x, simulator=simulator, seed=seed, chunk=chunk)
    outputs = np.concatenate([p.outputs for p in parts])
    last_flags = np.concatenate([p.last_flags for p in parts])
    expected_last = np.zeros_like(last_flags)
    expected_last[:, -1] = 1
    rtl_steps = np.concatenate([p.step_cycles for p in parts])
    latency = np.concatenate([p.latency for p in parts])
    model_steps = step_cycles(design, inputs)
    model_latency = np.concatenate([s.latency for s in schedules])
    simulated = sum(p.cycles for p in parts)
    seconds = sum(p.seconds for p in parts)
    if progress and seconds:
        print(f"simulated {simulated:,} cycles in {seconds:.1f} s: "
              f"{simulated / seconds:,.0f} cycles/s ({simulator})", file=sys.stderr, flush=True)
    mismatches = _differences("output", outputs, golden.outputs, ("sample", "neuron"))
    mismatches += _differences("last flag", last_flags, expected_last, ("sample", "neuron"))
    mismatches += _differences("cycles", rtl_steps, model_steps,
                               ("sample", "timestep", "layer"))
    if seed is None:
        mismatches += _differences("latency", latency, model_latency, ("sample",))
    return Verification(outputs=outputs, classes=np.argmax(outputs, axis=1), step_cycles=rtl_steps,
                        latency=latency, expected_outputs=golden.outputs,
                        expected_step_cycles=model_steps, expected_latency=model_latency,
                        report=generated.report, last_flags=last_flags,
                        expected_last_flags=expected_last, mismatches=mismatches,
                        simulator=simulator, simulated_cycles=simulated,
                        simulation_seconds=seconds)
