"""Bitstreams with the open toolchain (YoWASP Yosys and nextpnr; no system packages)."""

import json
import os
import shutil
import statistics
import sys
from pathlib import Path

from ..gen.ir.design import Design
from .link_top import DEFAULT_BAUD, LinkBoardTop
from .registry import Board

__all__ = ["TOOLS", "SEEDS", "missing_tools", "median_seed", "build_open_bitstream",
           "critical_path"]

TOOLS = {"ecp5": ("yosys", "nextpnr-ecp5", "ecppack"),
         "ice40": ("yosys", "nextpnr-ice40", "icepack")}
#: nextpnr placement seeds of every bitstream: Fmax varies by several percent from seed to
#: seed, so the report gives the median of these.
SEEDS = (1, 2, 3)
#: The folder holding hdl/, gen/, sim/ and boards/ (an editable install's checkout, or the
#: installed package): nextpnr names source lines by their path.
_PACKAGE_ROOT = Path(__file__).resolve().parents[1].as_posix()
_PARTS = ("hdl", "gen", "sim", "boards")


def _tool_path(tool: str) -> Path:
    return Path(sys.executable).parent / f"yowasp-{tool}"


def missing_tools(board: Board) -> list[str]:
    return [f"yowasp-{t}" for t in TOOLS[board.family] if not _tool_path(t).exists()]


def critical_path(report: dict) -> dict:
    """The critical path of a nextpnr report (the first clock's): its start and end cells (as
    nextpnr names them, after the Amaranth signals), its first net, its delay, and the lines of
    spikeshift's sources it runs through, in order."""
    path = report["critical_paths"][0]["path"]
    root = f"{_PACKAGE_ROOT}/"
    sources = []
    for step in path:
        for source in step.get("sources", []):
            if source.startswith(root) and source[len(root):].split("/")[0] in _PARTS:
                source = "spikeshift/" + source[len(root):]
            elif "/spikeshift/" in source:
                source = "spikeshift/" + source.rsplit("/spikeshift/", 1)[1]
            else:
                continue
            if source not in sources:
                sources.append(source)
    nets = [step["net"] for step in path if step.get("net")]
    return {"from": path[0]["from"]["cell"], "to": path[-1]["to"]["cell"],
            "first_net": nets[0] if nets else None,
            "delay_ns": round(sum(step["delay"] for step in path), 2), "sources": sources}


def median_seed(fmax_by_seed: dict) -> tuple[float, int]:
    """(the median Fmax, the seed whose Fmax is nearest to it, the lowest of equals): the
    seed whose bitstream a build keeps."""
    fmax = statistics.median(fmax_by_seed.values())
    return fmax, min(fmax_by_seed, key=lambda s: (abs(fmax_by_seed[s] - fmax), s))


def build_open_bitstream(design: Design, board: Board, out_dir: Path, *,
                         baud: int = DEFAULT_BAUD, seeds=SEEDS) -> dict:
    """Synthesise once (with the first of the board's `synth_attempts` that Yosys completes
    and nextpnr accepts), place and route with each of `seeds`, pack each; returns
    utilisation, the median Fmax, each seed's, and the critical path of the seed whose
    bitstream is kept (the median one)."""
    out_dir = Path(out_dir)
    env = dict(os.environ)
    for tool in TOOLS[board.family]:
        env[tool.upper().replace("-", "_")] = str(_tool_path(tool))
    bitstream = out_dir / f"top{board.bitstream_suffix}"

    def attempt(prepare: str, options: str):
        # The build script expands $NEXTPNR_SEED: one synthesis, one run of the script per seed.
        # An attempt fails when Yosys does, or when nextpnr refuses its netlist (ABC9 with
        # -dff has made one with a net driven twice).
        build = board.platform().build(LinkBoardTop(design, baud=baud), name="top",
                               build_dir=str(out_dir), do_build=False, synth_opts=options,
                               script_after_read=prepare,
                               nextpnr_opts="--seed $NEXTPNR_SEED --report nextpnr_report.json "
                                            "--timing-allow-fail")
        (out_dir / "top.json").unlink(missing_ok=True)
        build.execute_local(str(out_dir), env=dict(env, NEXTPNR_SEED=str(seeds[0])))
        return build

    prepare, options, build = board.first_synthesis(attempt)
    runs = {}
    for n, seed in enumerate(seeds):
        if n:
            env["YOSYS"] = "true"                   # the netlist of the first run is reused
            build.execute_local(str(out_dir), env=dict(env, NEXTPNR_SEED=str(seed)))
        report = json.loads((out_dir / "nextpnr_report.json").read_text())
        kept = out_dir / f"seed{seed}"
        kept.mkdir(exist_ok=True)
        for made in ("nextpnr_report.json", "top.tim", bitstream.name):
            shutil.move(out_dir / made, kept / made)
        runs[seed] = (min(clock["achieved"] for clock in report["fmax"].values()), report)
    fmax, seed = median_seed({s: mhz for s, (mhz, _) in runs.items()})
    report = runs[seed][1]
    shutil.copyfile(out_dir / f"seed{seed}" / bitstream.name, bitstream)
    return {
        "bitstream": str(bitstream),
        "fmax_mhz": round(fmax, 2),
        "fmax_mhz_by_seed": {str(s): round(mhz, 2) for s, (mhz, _) in runs.items()},
        "bitstream_seed": seed,
        "synth_options": options,
        "synth_prepare": prepare,
        "critical_path": critical_path(report),
        "clock_mhz": board.clock_hz / 1e6,
        "meets_clock": runs[seed][0] >= board.clock_hz / 1e6,
        "utilisation": {name: cell for name, cell in report["utilization"].items()
                        if cell["used"]},
        "baud": baud,
    }
