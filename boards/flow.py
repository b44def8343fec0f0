"""The build as named, resumable steps: verilog, sim, estimate, bitstream.

Each step writes ``<out>/<step>.json`` (what it produced, its results and how long it took),
so make can skip what is up to date. Unknown boards, missing tools and designs that cannot fit
are reported before any long step starts.
"""

import json
import time
from pathlib import Path

import numpy as np

from ..gen.flow.generator import write_design
from ..gen.ir.design import Design, plan
from ..gen.ir.link import TOPLEVEL
from ..gen.ir.network import Network
from .errors import ToolMissing
from .fit import check_fit
from .registry import Board, board_named

__all__ = ["STEPS", "run_step", "ToolMissing"]

STEPS = ("verilog", "sim", "estimate", "bitstream")


def _sample_inputs(net: Network, inputs) -> np.ndarray:
    if inputs is not None:
        return np.load(inputs)[:16]
    from ..gen.ir.synthetic import random_inputs
    return random_inputs(np.random.default_rng(0), net, 8, activity=0.3)


def _verilog(design: Design, board: Board, out: Path, inputs) -> dict:
    generated = write_design(design, out / "rtl")
    files = [str(generated.verilog)]
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
            "mean_latency_cycles": float(result.latency.mean())}


def _estimate(design: Design, board, out: Path, inputs) -> dict:
    from .estimate import synthesize
    verilog = out / "rtl" / f"{TOPLEVEL}.v"
    return {"command": board.synth_command, "top": TOPLEVEL,
            "cells": synthesize(verilog, TOPLEVEL, board.name)}


def _bitstream(design: Design, board, out: Path, inputs) -> dict:
    if board.flow == "open":
        from .open_flow import build_open_bitstream
        result = build_open_bitstream(design, board, out / "bitstream")
        if not result["meets_clock"]:
            raise RuntimeError(f"the design reaches {result['fmax_mhz']} MHz, below the "
                               f"{result['clock_mhz']} MHz board clock")
        return result
    from .vivado_flow import build_vivado_project
    return build_vivado_project(design, board, out)


_RUN = {"verilog": _verilog, "sim": _sim, "estimate": _estimate, "bitstream": _bitstream}


def run_step(step: str, net: Network, board_name: str, out_dir, *, lanes=None,
             inputs=None, network_path: str | None = None) -> dict:
    """Run one step and write its report; checks come first, so failures are early."""
    if step not in _RUN:
        raise ValueError(f"step must be one of {', '.join(map(repr, STEPS))}, not {step!r}")
    board = board_named(board_name)
    design = plan(net, lanes)
    estimate = check_fit(design, board)
    if step == "bitstream" and board.flow == "open":
        from .open_flow import missing_tools
        if missing := missing_tools(board):
            raise ToolMissing(f"the {board.name} flow needs {', '.join(missing)}; "
                              f"run `make setup`")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    result = _RUN[step](design, board, out, inputs)
    report = {"step": step, "board": board.name, "device": board.device,
              "network": network_path or net.name, "fit_estimate": estimate,
              "seconds": round(time.time() - started, 2), **result}
    (out / f"{step}.json").write_text(json.dumps(report, indent=1) + "\n")
    return report
