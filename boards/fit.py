"""A quick resource estimate, checked against the board before any long step starts.

Per lane, the accumulator, the product and the neuron update take about 12 LUT4 per bit of the
wider of accumulator and membrane (measured: the digits demo, 26 lanes of 19-20 bits plus the
UART link, placed in 6,936 LUT4 on the ECP5); memories are counted in bits. LUT6 devices need
fewer, so the estimate errs on the safe side there. It catches designs that cannot fit (the
demo with 16 lanes on an iCE40UP5K) before synthesis; the flows report the real numbers.
"""

from ..gen.ir.network import Network
from ..gen.ir.design import NetworkPlan
from ..gen.flow.report import build_report
from .registry import Board

__all__ = ["estimate_resources", "check_fit", "DoesNotFit"]

LINK_LUTS = 600            # UART, frame codecs, FIFO control
LUTS_PER_LANE_BIT = 12


class DoesNotFit(ValueError):
    """The design cannot fit the board's device."""


def estimate_resources(net: Network, plan: NetworkPlan) -> dict:
    report = build_report(net, plan)
    luts = LINK_LUTS
    ram = 0
    for layer, lp, entry in zip(net.layers, plan.layers, report["layers"]):
        width = max(lp.accumulator.bits, layer.neuron.v.bits)
        luts += lp.lanes * LUTS_PER_LANE_BIT * width + 16 * lp.fan_in.bit_length()
        ram += entry["weight_memory"]["bits"] + entry["membrane_memory_bits"]
    return {"luts": luts, "ram_bits": ram}


def check_fit(net: Network, plan: NetworkPlan, board: Board) -> dict:
    """The estimate, or `DoesNotFit` naming what overflows and the lanes to try."""
    estimate = estimate_resources(net, plan)
    advice = {"luts": "try fewer lanes (--lanes 1 or LANES=1)",
              "ram_bits": "weights and membranes need a smaller network or a larger device"}
    for key, capacity in (("luts", board.luts), ("ram_bits", board.ram_bits)):
        if estimate[key] > capacity:
            raise DoesNotFit(
                f"the design needs about {estimate[key]:,} {key.replace('_', ' ')} but the "
                f"{board.name} ({board.device}) has {capacity:,}; {advice[key]}")
    return estimate
