"""The boards spikeshift builds for: one `Board` row each, everything a flow needs to know.

Adding a board is one entry of `BOARDS`: its Amaranth platform, FPGA family, flow, Yosys
synthesis command, the cell names its resource counts come from, clock and capacity.
"""

import importlib
import subprocess
from dataclasses import dataclass, field

__all__ = ["Board", "BOARDS", "board_named", "FLOWS"]

FLOWS = ("open", "vivado")


@dataclass(frozen=True, kw_only=True)
class Board:
    """A target board.

    Members
    -------
    name : what ``BOARD=`` and ``--board`` take
    flow : ``"open"`` (Yosys + nextpnr from YoWASP) or ``"vivado"``
    family : FPGA family (``ecp5``, ``ice40``, ``xcup``): the open flow's nextpnr and packer
    platform_class : ``"module:Class"`` of the Amaranth platform
    synth_command : the Yosys command of a resource estimate
    synth_options : options of that command, tried in order until Yosys succeeds (estimate
        and open flow)
    synth_prepares : Yosys commands run before it, each tried with every option in turn
    synth_fallback : options tried last, alone, when every other attempt failed; ``{top}``
        stands for the top module (`ECP5_PLAIN_ABC`)
    cells : resource name -> regular expression of the Yosys cell types it counts
    bitstream_suffix : file name suffix of the open flow's bitstream
    clock_hz : the clock the design runs at
    luts, ffs, ram_bits : device capacity used by the fit check
    """

    name: str
    flow: str
    family: str
    device: str
    platform_class: str
    synth_command: str
    cells: dict = field(hash=False)
    clock_hz: float
    luts: int
    ffs: int
    ram_bits: int
    bitstream_suffix: str = ".bit"
    synth_options: tuple = ("",)
    synth_prepares: tuple = ("",)
    synth_fallback: str | None = None

    def synth_attempts(self, prepare: str | None = None, *,
                       top: str = "top") -> list[tuple[str, str]]:
        """(commands before synthesis, synthesis options) in the order to try them; `prepare`
        replaces the board's own commands; `top` names the top module."""
        prepares = self.synth_prepares if prepare is None else (prepare,)
        attempts = [(p, options) for p in prepares for options in self.synth_options]
        if self.synth_fallback is not None:
            attempts.append(("", self.synth_fallback.format(top=top)))
        return attempts

    def first_synthesis(self, attempt, prepare: str | None = None, *, top: str = "top"):
        """(commands before, options, result) of the first of `synth_attempts` for which
        ``attempt(before, options)`` returns without `subprocess.CalledProcessError` (Yosys
        failing, or a tool after it refusing the netlist); the last attempt's error is raised.
        One loop for the estimate and the bitstream."""
        attempts = self.synth_attempts(prepare, top=top)
        for n, (before, options) in enumerate(attempts):
            try:
                return before, options, attempt(before, options)
            except subprocess.CalledProcessError:
                if n == len(attempts) - 1:
                    raise
        raise AssertionError("a board has at least one synthesis attempt")

    def platform(self):
        """The Amaranth platform of the board."""
        module, name = self.platform_class.split(":")
        return getattr(importlib.import_module(module), name)()


#: synth_ecp5 with its ABC9 LUT mapping replaced by plain ABC's: slower logic, but it completes
#: where ABC9's recursion overflows its stack (Yosys 0.70 on, e.g., a paired dense core's
#: cuba_lif network); the caller's ``-top`` follows the last command
ECP5_PLAIN_ABC = ("-run :map_luts -top {top}; techmap -map +/lattice/latches_map.v; "
                  "abc -lut 4; clean; synth_ecp5 -run map_cells:")

BOARDS = {
    # ECP5-85F: 83,640 LUT4 and FFs, 208 DP16KD blocks of 18 Kbit
    "ulx3s": Board(
        name="ulx3s", flow="open", family="ecp5", device="LFE5U-85F-6BG381C",
        platform_class="amaranth_boards.ulx3s:ULX3S_85F_Platform", synth_command="synth_ecp5",
        cells={"LUT": r"LUT4$", "FF": r"TRELLIS_FF$", "CARRY": r"CCU2C$",
               "LUTRAM": r"TRELLIS_DPR16X4$", "BRAM18": r"DP16KD$", "DSP": r"MULT18X18D$"},
        clock_hz=25e6, luts=83_640, ffs=83_640, ram_bits=208 * 18_432,
        # Yosys 0.70's ABC9 fails on some designs without -dff (the demo network's link top:
        # an assertion in its reintegration) and on others with it (a cuba_lif network, the
        # 784-128-10 MLP at 64 lanes: its stack overflows); with gate chains balanced first it
        # completes on designs that fail both ways unbalanced (the demo network's, since the
        # bank walk is held in registers)
        synth_options=("-dff", ""), synth_prepares=("opt_balance_tree", ""),
        synth_fallback=ECP5_PLAIN_ABC),
    # iCE40UP5K: 5,280 LUT4 and FFs, 30 EBR blocks of 4 Kbit
    "icebreaker": Board(
        name="icebreaker", flow="open", family="ice40", device="iCE40UP5K-SG48",
        platform_class="amaranth_boards.icebreaker:ICEBreakerPlatform",
        synth_command="synth_ice40",
        cells={"LUT": r"SB_LUT4$", "FF": r"SB_DFF\w*$", "CARRY": r"SB_CARRY$",
               "BRAM4": r"SB_RAM40_4K$", "DSP": r"SB_MAC16$"},
        clock_hz=12e6, luts=5_280, ffs=5_280, ram_bits=30 * 4_096, bitstream_suffix=".bin"),
    # XCZU7EV: 230,400 LUT6, 460,800 FFs, 312 RAMB36 (and 96 UltraRAM, not counted)
    "zcu104": Board(
        name="zcu104", flow="vivado", family="xcup", device="xczu7ev-ffvc1156-2-e",
        platform_class="spikeshift.boards.zcu104:ZCU104Platform",
        synth_command="synth_xilinx -family xcup -flatten",
        cells={"LUT": r"LUT[1-6]$", "LUTRAM": r"RAM(32|64|128|256)[MX]\d*|RAM\d+[SD]\d*",
               "FF": r"FD[RSCP]E$", "CARRY": r"CARRY[48]$", "BRAM18": r"RAMB18E2$",
               "BRAM36": r"RAMB36E2$", "DSP": r"DSP48E2$"},
        clock_hz=100e6, luts=230_400, ffs=460_800, ram_bits=312 * 36_864),
}


def board_named(name: str) -> Board:
    if name not in BOARDS:
        raise ValueError(f"board must be one of {', '.join(map(repr, BOARDS))}, not {name!r}")
    return BOARDS[name]
