"""The boards spikeshift builds for, their clocks and capacities (for checks before a build)."""

from dataclasses import dataclass

__all__ = ["Board", "BOARDS", "board_named"]


@dataclass(frozen=True, kw_only=True)
class Board:
    """A target board.

    Members
    -------
    name : what ``BOARD=`` and ``--board`` take
    flow : ``"open"`` (Yosys + nextpnr from YoWASP) or ``"vivado"``
    clock_hz : the clock the design runs at
    luts, ffs, ram_bits : device capacity used by the fit check
    """

    name: str
    flow: str
    device: str
    clock_hz: float
    luts: int
    ffs: int
    ram_bits: int

    def platform(self):
        """The Amaranth platform of the board."""
        if self.name == "ulx3s":
            from amaranth_boards.ulx3s import ULX3S_85F_Platform
            return ULX3S_85F_Platform()
        if self.name == "icebreaker":
            from amaranth_boards.icebreaker import ICEBreakerPlatform
            return ICEBreakerPlatform()
        from .zcu104 import ZCU104Platform
        return ZCU104Platform()


BOARDS = {
    # ECP5-85F: 83,640 LUT4 and FFs, 208 DP16KD blocks of 18 Kbit
    "ulx3s": Board(name="ulx3s", flow="open", device="LFE5U-85F-6BG381C", clock_hz=25e6,
                   luts=83_640, ffs=83_640, ram_bits=208 * 18_432),
    # iCE40UP5K: 5,280 LUT4 and FFs, 30 EBR blocks of 4 Kbit
    "icebreaker": Board(name="icebreaker", flow="open", device="iCE40UP5K-SG48",
                        clock_hz=12e6, luts=5_280, ffs=5_280, ram_bits=30 * 4_096),
    # XCZU7EV: 230,400 LUT6, 460,800 FFs, 312 RAMB36 (and 96 UltraRAM, not counted)
    "zcu104": Board(name="zcu104", flow="vivado", device="xczu7ev-ffvc1156-2-e",
                    clock_hz=100e6, luts=230_400, ffs=460_800, ram_bits=312 * 36_864),
}


def board_named(name: str) -> Board:
    if name not in BOARDS:
        raise ValueError(f"board must be one of {', '.join(map(repr, BOARDS))}, not {name!r}")
    return BOARDS[name]
