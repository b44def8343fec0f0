"""How good a quantization is: the quantized network in the golden model beside the float one."""

import numpy as np

from ...sim.golden import trace
from ..frontends.quantize import FloatNetwork, QuantizationReport, simulate_float
from ..ir.network import Network

__all__ = ["evaluate_quantization"]


def evaluate_quantization(float_net: FloatNetwork, net: Network, report: QuantizationReport,
                          x: np.ndarray, labels: np.ndarray | None = None) -> QuantizationReport:
    """Add each layer's membrane headroom on inputs `x`, the agreement of the two networks'
    classes and, given `labels`, both accuracies to `report` (returned)."""
    result = trace(net, x)
    for entry, layer, membranes in zip(report.layers, net.layers, result.membranes):
        entry["membrane_headroom"] = f"{np.abs(membranes).max() / layer.neuron.v.max:.1%}"
    float_classes = simulate_float(float_net, x)[1]
    report.accuracy["agreement with the float network"] = float(
        (float_classes == result.classes).mean())
    if labels is not None:
        report.accuracy["float accuracy"] = float((float_classes == labels).mean())
        report.accuracy["quantized accuracy"] = float((result.classes == labels).mean())
    return report
