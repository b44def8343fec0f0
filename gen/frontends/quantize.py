"""Float networks to the integer description: per-layer power-of-two scales folded into the
thresholds, PoT or int weights, leaks mapped to shifts, and a report of what changed.

The float description has the shape of the integer one with floats allowed
(``"format": "spikeshift-float-network"``): ``weights`` is a plain matrix, and ``neuron`` has
``threshold``, ``beta`` (1 for IF; v = beta v + I), ``reset``, ``v_init`` and ``spike_bits``.
Its inputs are the same integers as the quantized network's. `simulate_float` runs it with
the DESIGN §3 rules in floating point (no floor, no saturation), the reference that the
quantized network's accuracy is compared with.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..ir.checks import check_choice, check_int
from ..ir.kinds.dense import DenseLayer
from ..ir.network import InputSpec, Network, OutputSpec
from ..ir.neuron import Neuron, ShiftLeak
from ..ir.weights import IntWeights, PotWeights
from .convert import MIN_THRESHOLD, membrane_format_for, pot_round, pot_scale

__all__ = ["FloatLayer", "FloatNetwork", "load_float_network", "simulate_float",
           "quantize_network", "QuantizationReport"]

FLOAT_FORMAT = "spikeshift-float-network"


@dataclass(frozen=True, kw_only=True, eq=False)
class FloatLayer:
    weights: np.ndarray
    bias: np.ndarray | None
    model: str
    threshold: float | None
    beta: float
    reset: str
    v_init: float
    spike_bits: int


@dataclass(frozen=True, kw_only=True, eq=False)
class FloatNetwork:
    name: str
    timesteps: int
    input: InputSpec
    layers: tuple
    output: OutputSpec


def load_float_network(path) -> FloatNetwork:
    """Read a float description; errors name the field path."""
    obj = json.loads(Path(path).read_text())
    if obj.get("format") != FLOAT_FORMAT:
        raise ValueError(f"format must be {FLOAT_FORMAT!r}, not {obj.get('format')!r}")
    layers = []
    fan_in = obj["input"]["size"]
    for index, layer in enumerate(obj["layers"]):
        where = f"layers[{index}]"
        w = np.asarray(layer["weights"], np.float64)
        if w.ndim != 2 or w.shape != (layer["size"], fan_in):
            raise ValueError(f"{where}.weights must have shape ({layer['size']}, {fan_in}), "
                             f"not {w.shape}")
        n = layer["neuron"]
        model = check_choice(f"{where}.neuron.model", n["model"], ("if", "lif", "integrator"))
        beta = float(n.get("beta", 1.0) if n.get("beta") is not None else 1.0)
        if not 0 <= beta <= 1:
            raise ValueError(f"{where}.neuron.beta must be in [0, 1], not {beta!r}")
        threshold = None if model == "integrator" else float(n["threshold"])
        if threshold is not None and threshold <= 0:
            raise ValueError(f"{where}.neuron.threshold must be positive, not {threshold!r}")
        bias = layer.get("bias")
        layers.append(FloatLayer(
            weights=w, bias=None if bias is None else np.asarray(bias, np.float64), model=model,
            threshold=threshold, beta=beta, reset=n.get("reset", "subtract"),
            v_init=float(n.get("v_init", 0.0)),
            spike_bits=check_int(f"{where}.neuron.spike_bits", n.get("spike_bits", 1), 1, 8)))
        fan_in = layer["size"]
    return FloatNetwork(name=obj["name"], timesteps=obj["timesteps"],
                        input=InputSpec(size=obj["input"]["size"], bits=obj["input"]["bits"]),
                        layers=tuple(layers), output=OutputSpec(mode=obj["output"]["mode"]))


def simulate_float(net: FloatNetwork, x: np.ndarray):
    """(outputs, classes, membranes per layer) with the DESIGN §3 rules in floating point."""
    x = np.asarray(x, np.float64)
    v = [np.full((len(x), layer.weights.shape[0]), layer.v_init) for layer in net.layers]
    counts = 0
    for t in range(net.timesteps):
        s_in = x[:, t]
        for index, layer in enumerate(net.layers):
            current = s_in @ layer.weights.T + (0 if layer.bias is None else layer.bias)
            vl = layer.beta * v[index] + current
            if layer.model == "integrator":
                v[index], s_in = vl, np.zeros_like(vl)
                continue
            smax = (1 << layer.spike_bits) - 1
            s = np.where(vl >= layer.threshold, np.minimum(np.floor(vl / layer.threshold), smax),
                         0)
            if layer.reset == "subtract":
                vl = vl - s * layer.threshold
            elif layer.reset == "zero":
                vl = np.where(s > 0, 0, vl)
            v[index], s_in = vl, s
        counts = counts + s_in
    outputs = counts if net.output.mode == "spike_count" else v[-1]
    return outputs, np.argmax(outputs, axis=1), v


@dataclass
class QuantizationReport:
    """Per layer: scale, weight error, zeroed weights, threshold and leak changes, headroom."""

    layers: list = field(default_factory=list)
    accuracy: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"layers": self.layers, "accuracy": self.accuracy}

    def text(self) -> str:
        lines = []
        for e in self.layers:
            lines.append(", ".join(f"{k} {v}" for k, v in e.items()))
        for k, v in self.accuracy.items():
            lines.append(f"{k}: {v:.2%}" if isinstance(v, float) else f"{k}: {v}")
        return "\n".join(lines)


def quantize_network(net: FloatNetwork, *, weights: str = "pot", bits: int = 4,
                     name: str | None = None) -> tuple[Network, QuantizationReport]:
    """Quantize `net`: PoT codes of `bits` bits (sign + exponent field with a zero code) or
    `bits`-bit int weights, one power-of-two scale per layer folded into its threshold."""
    check_choice("weights", weights, ("pot", "int"))
    report = QuantizationReport()
    layers = []
    in_max = net.input.format.max
    for index, fl in enumerate(net.layers):
        w = fl.weights
        entry = {"layer": index}
        if weights == "pot":
            e_max = PotWeights.e_max_for_bits(bits)
            sigma = pot_scale(w, e_max)
            values = pot_round(w / sigma, e_max)
            boost = 0
            if fl.threshold is not None:
                boost = max(0, int(np.ceil(np.log2(MIN_THRESHOLD * sigma / fl.threshold))))
            values, scale = values << boost, (1 << boost) / sigma
            weight_obj = PotWeights(e_min=boost, e_max=e_max + boost, values=values)
        else:
            scale = 2.0 ** IntWeights.scale_exponent(np.abs(w).max(), bits)
            values = np.clip(np.round(w * scale), -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
            values = values.astype(np.int64)
            weight_obj = IntWeights(bits=bits, values=values)
        entry["scale"] = f"2^{int(np.log2(scale))}"
        entry["weight_rms_error"] = round(float(np.sqrt(np.mean((values / scale - w) ** 2)) /
                                                max(np.sqrt(np.mean(w ** 2)), 1e-30)), 4)
        entry["zeroed"] = int(np.sum((values == 0) & (w != 0)))
        bias = None if fl.bias is None else np.round(fl.bias * scale).astype(np.int64)
        v_init = int(round(fl.v_init * scale))
        leak = None
        if fl.beta < 1:
            leak = ShiftLeak.nearest(fl.beta)
            entry["leak"] = leak.approximation(fl.beta)
        theta = None
        if fl.threshold is not None:
            exact = fl.threshold * scale
            theta = max(1, int(round(exact)))
            if fl.spike_bits > 1:
                theta = 1 << int(round(np.log2(exact)))
            entry["threshold_error"] = f"{abs(theta - exact) / exact:.3%}"
        v = membrane_format_for(values, bias, in_max, net.timesteps, theta, v_init)
        if fl.model == "integrator":
            neuron = Neuron(model="integrator", v=v, leak=leak, v_init=v_init)
        else:
            neuron = Neuron(model="lif" if leak else "if", v=v, threshold=theta, leak=leak,
                            reset=fl.reset, v_init=v_init, spike_bits=fl.spike_bits)
        layers.append(DenseLayer(size=w.shape[0], weights=weight_obj, neuron=neuron,
                                 bias=bias if bias is not None and bias.any() else None))
        report.layers.append(entry)
        in_max = neuron.spike_max
    out = Network(name=name or net.name, timesteps=net.timesteps, input=net.input,
                  layers=tuple(layers), output=net.output)
    return out, report
