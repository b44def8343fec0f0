"""Float networks to the integer description: per-layer power-of-two scales folded into the
thresholds, PoT or int weights, leaks mapped to shifts, and a report of what changed.

The float description has the shape of the integer one with floats allowed
(``"format": "spikeshift-float-network"``): ``weights`` is a plain matrix, and ``neuron`` has
``threshold``, ``beta`` (1 for IF; v = beta v + I), ``reset``, ``v_init`` and ``spike_bits``.
Its inputs are the same integers as the quantized network's. `simulate_float` runs it with
the DESIGN §3 rules in floating point (no floor, no saturation), the reference that the
quantized network's accuracy is compared with.
"""

from dataclasses import dataclass, field

import numpy as np

from ..ir.checks import check_choice, check_int, index_text
from ..ir.fields import build, choice_at, fields
from ..ir.kinds.dense import DenseLayer
from ..ir.network import InputSpec, Network, OutputSpec, read_json
from ..ir.neuron import MAX_SPIKE_BITS, RESET_MODES, Neuron, ShiftLeak
from ..ir.weights import IntWeights, PotWeights
from .convert import MIN_THRESHOLD, membrane_format_for, pot_round, pot_scale

__all__ = ["FloatLayer", "FloatNetwork", "float_network_from_dict", "load_float_network",
           "simulate_float",
           "quantize_network", "QuantizationReport"]

FLOAT_FORMAT = "spikeshift-float-network"
#: The neuron models of a float description (a current-based LIF has no float form yet).
FLOAT_MODELS = ("if", "lif", "integrator")


def _float_array(name: str, value, ndim: int) -> np.ndarray:
    """`value` as a float64 array of `ndim` dimensions with finite values, or a clear error."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a rectangular array of numbers") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-dimensional array of numbers, "
                         f"not one of shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name}{index_text(bad)} must be a finite number, "
                         f"not {float(arr[tuple(bad)])!r}")
    return arr


def _finite(name: str, value, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite number, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}], not {value!r}")
    return float(value)


@dataclass(frozen=True, kw_only=True, eq=False)
class FloatLayer:
    """A dense layer of the float description; validates itself like the integer one."""

    weights: np.ndarray
    bias: np.ndarray | None
    model: str
    threshold: float | None
    beta: float = 1.0
    reset: str = "subtract"
    v_init: float = 0.0
    spike_bits: int = 1

    def __post_init__(self):
        weights = _float_array("weights", self.weights, 2)
        object.__setattr__(self, "weights", weights)
        if self.bias is not None:
            bias = _float_array("bias", self.bias, 1)
            if bias.shape[0] != weights.shape[0]:
                raise ValueError(f"bias must hold one value per neuron ({weights.shape[0]}), "
                                 f"not {bias.shape[0]}")
            object.__setattr__(self, "bias", bias)
        check_choice("neuron.model", self.model, FLOAT_MODELS)
        object.__setattr__(self, "beta", _finite("neuron.beta", self.beta, 0, 1))
        if self.model == "integrator":
            object.__setattr__(self, "threshold", None)
        else:
            if self.threshold is None:
                raise ValueError(f"neuron.threshold is required for model {self.model!r}")
            threshold = _finite("neuron.threshold", self.threshold)
            if threshold <= 0:
                raise ValueError(f"neuron.threshold must be positive, not {self.threshold!r}")
            object.__setattr__(self, "threshold", threshold)
        check_choice("neuron.reset", self.reset, RESET_MODES)
        object.__setattr__(self, "v_init", _finite("neuron.v_init", self.v_init))
        check_int("neuron.spike_bits", self.spike_bits, 1, MAX_SPIKE_BITS)

    @property
    def size(self) -> int:
        return self.weights.shape[0]


@dataclass(frozen=True, kw_only=True, eq=False)
class FloatNetwork:
    """The float description: the integer description's shape with floats allowed."""

    name: str
    timesteps: int
    input: InputSpec
    layers: tuple
    output: OutputSpec

    def __post_init__(self):
        check_int("timesteps", self.timesteps, 1, 1 << 16)
        if not self.layers:
            raise ValueError("layers must hold at least one layer, not []")
        fan_in = self.input.size
        for index, layer in enumerate(self.layers):
            if layer.weights.shape[1] != fan_in:
                source = "input.size" if index == 0 else f"layers[{index - 1}].size"
                raise ValueError(f"layers[{index}].weights must have {fan_in} columns "
                                 f"({source}), not {layer.weights.shape[1]}")
            if layer.model == "integrator" and index != len(self.layers) - 1:
                raise ValueError(f"layers[{index}].neuron.model 'integrator' is only allowed "
                                 f"in the last layer, not in layer {index} of "
                                 f"{len(self.layers)}")
            fan_in = layer.size


_NEURON_FIELDS = ("beta", "reset", "v_init", "spike_bits")


def _float_layer(obj, path: str) -> FloatLayer:
    fields(obj, path, required=("kind", "size", "weights", "neuron"), optional=("bias",))
    choice_at(f"{path}.kind", obj["kind"], ("dense",))
    size = obj["size"]
    neuron = fields(obj["neuron"], f"{path}.neuron", required=("model",),
                    optional=("threshold", *_NEURON_FIELDS))
    kwargs = {key: neuron[key] for key in _NEURON_FIELDS
              if key in neuron and neuron[key] is not None}
    layer = build(path, FloatLayer, weights=obj["weights"], bias=obj.get("bias"),
                  model=neuron["model"], threshold=neuron.get("threshold"), **kwargs)
    if layer.size != size:
        raise ValueError(f"{path}.weights must have one row per neuron ({size!r}), "
                         f"not {layer.size}")
    return layer


def float_network_from_dict(obj) -> FloatNetwork:
    """Validate a parsed float description; every message names the field path."""
    fields(obj, "", required=("format", "name", "timesteps", "input", "layers", "output"),
           optional=("version",))
    if obj["format"] != FLOAT_FORMAT:
        raise ValueError(f"format must be {FLOAT_FORMAT!r}, not {obj['format']!r}")
    fields(obj["input"], "input", required=("size", "bits"), optional=("encoding",))
    inp = build("input", InputSpec, size=obj["input"]["size"], bits=obj["input"]["bits"],
                encoding=obj["input"].get("encoding", "per_timestep"))
    if not isinstance(obj["layers"], list):
        raise TypeError(f"layers must be a list, not {obj['layers']!r}")
    layers = tuple(_float_layer(layer, f"layers[{i}]") for i, layer in enumerate(obj["layers"]))
    fields(obj["output"], "output", required=("mode",))
    out = build("output", OutputSpec, mode=obj["output"]["mode"])
    return build("", FloatNetwork, name=obj["name"], timesteps=obj["timesteps"], input=inp,
                 layers=layers, output=out)


def load_float_network(path) -> FloatNetwork:
    """Read and validate a float description file; errors name the field path."""
    return float_network_from_dict(read_json(path))


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
