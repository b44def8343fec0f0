"""Bitstreams with the open toolchain (YoWASP Yosys and nextpnr; no system packages)."""

import json
import os
import sys
from pathlib import Path

from ..gen.ir.design import Design
from .link_top import DEFAULT_BAUD, LinkBoardTop
from .registry import Board

__all__ = ["TOOLS", "missing_tools", "build_open_bitstream"]

TOOLS = {"ecp5": ("yosys", "nextpnr-ecp5", "ecppack"),
         "ice40": ("yosys", "nextpnr-ice40", "icepack")}


def _tool_path(tool: str) -> Path:
    return Path(sys.executable).parent / f"yowasp-{tool}"


def missing_tools(board: Board) -> list[str]:
    return [f"yowasp-{t}" for t in TOOLS[board.family] if not _tool_path(t).exists()]


def build_open_bitstream(design: Design, board: Board, out_dir: Path, *,
                         baud: int = DEFAULT_BAUD) -> dict:
    """Synthesise, place, route and pack; returns utilisation and Fmax from nextpnr."""
    out_dir = Path(out_dir)
    for tool in TOOLS[board.family]:
        os.environ[tool.upper().replace("-", "_")] = str(_tool_path(tool))
    platform = board.platform()
    build = platform.build(LinkBoardTop(design, baud=baud), name="top",
                           build_dir=str(out_dir), do_build=False,
                           nextpnr_opts="--report nextpnr_report.json --timing-allow-fail")
    build.execute_local(str(out_dir))
    report = json.loads((out_dir / "nextpnr_report.json").read_text())
    fmax = min(clock["achieved"] for clock in report["fmax"].values())
    bitstream = out_dir / f"top{board.bitstream_suffix}"
    return {
        "bitstream": str(bitstream),
        "fmax_mhz": round(fmax, 2),
        "clock_mhz": board.clock_hz / 1e6,
        "meets_clock": fmax >= board.clock_hz / 1e6,
        "utilisation": {name: cell for name, cell in report["utilization"].items()
                        if cell["used"]},
        "baud": baud,
    }
