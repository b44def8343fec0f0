"""A quick resource estimate, checked against the board before any long step starts.

Each layer core estimates itself (`LayerPlan.resources`: LUTs and memory bits); the host link
adds a fixed amount. LUT6 devices need fewer LUTs than the LUT4 count, so the estimate errs on
the safe side there. It catches designs that cannot fit (the demo with 16 lanes on an
iCE40UP5K) before synthesis; the flows report the real numbers.
"""

from ..gen.ir.design import Design
from .errors import DoesNotFit
from .registry import Board

__all__ = ["estimate_resources", "check_fit", "board_budget", "LINK_LUTS", "BOARD_SHARE"]

LINK_LUTS = 600            # UART, frame codecs, FIFO control
#: Share of a device's LUTs that default (balanced) lanes may take: the estimate is rough,
#: and a fuller device routes slower.
BOARD_SHARE = 0.5


def estimate_resources(design: Design) -> dict:
    luts, ram = LINK_LUTS, 0
    for layer, lp in design.pairs():
        resources = lp.resources(layer)
        luts += resources.luts
        ram += resources.ram_bits
    return {"luts": luts, "ram_bits": ram}


def board_budget(board: Board) -> int:
    """LUTs the layer cores may take when a build for `board` balances the lanes."""
    return max(1, int(board.luts * BOARD_SHARE) - LINK_LUTS)


def check_fit(design: Design, board: Board) -> dict:
    """The estimate, or `DoesNotFit` naming what overflows and the lanes to try."""
    estimate = estimate_resources(design)
    advice = {"luts": "try fewer lanes (--lanes 1 or LANES=1)",
              "ram_bits": "weights and membranes need a smaller network or a larger device"}
    for key, capacity in (("luts", board.luts), ("ram_bits", board.ram_bits)):
        if estimate[key] > capacity:
            raise DoesNotFit(
                f"the design needs about {estimate[key]:,} {key.replace('_', ' ')} but the "
                f"{board.name} ({board.device}) has {capacity:,}; {advice[key]}")
    return estimate
