"""The frozen, typed, self-validating network: DESIGN.md §2 as Python objects.

Every class checks itself in ``__post_init__``; its messages start with the field name relative
to the object (``threshold must be ...``), and the JSON loader prefixes the path of the object
(``layers[1].neuron.``). Integer arrays are stored as read-only ``int64`` NumPy arrays.
"""

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np

from .formats import IntFormat, UIntFormat, unsigned_bits_for

__all__ = [
    "ShiftLeak", "SubtractLeak", "Neuron", "PotWeights", "IntWeights", "DenseLayer",
    "InputSpec", "OutputSpec", "Network", "NEURON_MODELS", "RESET_MODES", "OUTPUT_MODES",
    "LAYER_KINDS",
]

NEURON_MODELS = ("if", "lif", "integrator")
RESET_MODES = ("subtract", "zero", "none")
OUTPUT_MODES = ("spike_count", "membrane")
MAX_V_BITS = 48          # keeps every sum inside int64 in the golden model
MAX_SPIKE_BITS = 8
MAX_INPUT_BITS = 16
MAX_WEIGHT_BITS = 24
MAX_POT_EXPONENT = 30


def check_int(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """Return `value` if it is an integer within [lo, hi]; else raise naming `name`."""
    if isinstance(value, np.integer):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        lo_text = "-inf" if lo is None else str(lo)
        hi_text = "inf" if hi is None else str(hi)
        raise ValueError(f"{name} must be an integer in [{lo_text}, {hi_text}], not {value!r}")
    return value


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
    return value


def int_array(name: str, value, ndim: int) -> np.ndarray:
    """A read-only int64 copy of `value`, which must be an integer array of `ndim` dimensions."""
    try:
        arr = np.array(value)
    except ValueError:
        raise ValueError(f"{name} must be a rectangular array of integers") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-dimensional array of integers, "
                         f"not one of shape {arr.shape}")
    if arr.size and not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            bad = next(x for x in arr.flat if not isinstance(x, (int, np.integer)))
            raise TypeError(f"{name} must hold integers, not {bad!r}")
        bad_index = np.argwhere(arr != np.round(arr))
        if bad_index.size:
            idx = "".join(f"[{i}]" for i in bad_index[0])
            raise TypeError(f"{name}{idx} must be an integer, not {arr[tuple(bad_index[0])]!r}")
    arr = arr.astype(np.int64)
    arr.flags.writeable = False
    return arr


def _index(idx) -> str:
    return "".join(f"[{int(i)}]" for i in idx)


@dataclass(frozen=True, kw_only=True)
class ShiftLeak:
    """``v - (v >> shift)``: beta = 1 - 2**-shift, arithmetic shift (floor)."""

    shift: int

    def __post_init__(self):
        check_int("shift", self.shift, 0, 62)


@dataclass(frozen=True, kw_only=True)
class SubtractLeak:
    """Moves v towards 0 by `amount` each timestep, never across 0."""

    amount: int

    def __post_init__(self):
        check_int("subtract", self.amount, 0, 1 << MAX_V_BITS)


Leak = ShiftLeak | SubtractLeak


@dataclass(frozen=True, kw_only=True, eq=False)
class Neuron:
    """Neuron options of one layer (DESIGN.md §2 `neuron`).

    For ``model == "integrator"`` only `v`, `v_init` and `leak` apply: `threshold` is None,
    `reset` is ``"none"`` and `spike_bits` is 0 (it never fires).
    """

    model: Literal["if", "lif", "integrator"]
    v: IntFormat
    threshold: int | None = None
    leak: Leak | None = None
    reset: Literal["subtract", "zero", "none"] = "subtract"
    v_init: int | np.ndarray = 0
    spike_bits: int = 1

    def __post_init__(self):
        check_choice("model", self.model, NEURON_MODELS)
        if not isinstance(self.v, IntFormat):
            raise TypeError(f"v must be an IntFormat, not {self.v!r}")
        check_int("v_bits", self.v.bits, 2, MAX_V_BITS)
        if self.leak is not None and not isinstance(self.leak, (ShiftLeak, SubtractLeak)):
            raise TypeError(f"leak must be a ShiftLeak, a SubtractLeak or None, not {self.leak!r}")
        if self.model == "if" and self.leak is not None:
            raise ValueError(f"leak must be null for model 'if', not {self.leak!r}")
        if self.model == "lif" and self.leak is None:
            raise ValueError("leak must be given for model 'lif', not None")
        if self.model == "integrator":
            object.__setattr__(self, "threshold", None)
            object.__setattr__(self, "reset", "none")
            object.__setattr__(self, "spike_bits", 0)
        else:
            check_int("spike_bits", self.spike_bits, 1, MAX_SPIKE_BITS)
            check_int("threshold", self.threshold, 1, self.v.max)
            if self.spike_bits > 1 and self.threshold & (self.threshold - 1):
                raise ValueError(f"threshold must be a power of two when spike_bits > 1, "
                                 f"not {self.threshold!r}")
            check_choice("reset", self.reset, RESET_MODES)
        if isinstance(self.v_init, (list, tuple, np.ndarray)):
            v_init = int_array("v_init", self.v_init, 1)
            if not self.v.contains(v_init):
                bad = int(np.argmax((v_init < self.v.min) | (v_init > self.v.max)))
                raise ValueError(f"v_init[{bad}] must be an integer in [{self.v.min}, "
                                 f"{self.v.max}] for v_bits={self.v.bits}, "
                                 f"not {int(v_init[bad])!r}")
            object.__setattr__(self, "v_init", v_init)
        else:
            object.__setattr__(self, "v_init", check_int("v_init", self.v_init, self.v.min,
                                                         self.v.max))

    @property
    def fires(self) -> bool:
        return self.model != "integrator"

    @property
    def spike_max(self) -> int:
        """Largest spike value, 2**spike_bits - 1 (0 for an integrator)."""
        return (1 << self.spike_bits) - 1 if self.fires else 0

    @property
    def threshold_shift(self) -> int | None:
        """log2(threshold) when the threshold is a power of two, else None."""
        if self.threshold is None or self.threshold & (self.threshold - 1):
            return None
        return self.threshold.bit_length() - 1

    def v_init_array(self, size: int) -> np.ndarray:
        """`v_init` as one int64 value per neuron."""
        if isinstance(self.v_init, np.ndarray):
            return self.v_init
        return np.full(size, self.v_init, dtype=np.int64)


@dataclass(frozen=True, kw_only=True, eq=False)
class PotWeights:
    """Power-of-two weights: every value is 0 or ±2**e with `e_min` <= e <= `e_max`."""

    format: ClassVar[str] = "pot"
    e_min: int
    e_max: int
    values: np.ndarray

    def __post_init__(self):
        check_int("e_min", self.e_min, 0, MAX_POT_EXPONENT)
        check_int("e_max", self.e_max, self.e_min, MAX_POT_EXPONENT)
        values = int_array("values", self.values, 2)
        mag = np.abs(values)
        is_pow2 = (mag > 0) & ((mag & (mag - 1)) == 0)
        exponent = np.where(is_pow2, np.log2(np.maximum(mag, 1)).round().astype(np.int64), -1)
        ok = (values == 0) | (is_pow2 & (exponent >= self.e_min) & (exponent <= self.e_max))
        if not ok.all():
            bad = np.argwhere(~ok)[0]
            raise ValueError(f"values{_index(bad)} must be 0 or ±2^e with {self.e_min} <= e <= "
                             f"{self.e_max}, not {int(values[tuple(bad)])!r}")
        object.__setattr__(self, "values", values)

    @property
    def exponent_codes(self) -> int:
        """How many exponents the format holds (e_max - e_min + 1)."""
        return self.e_max - self.e_min + 1

    @property
    def exponent_bits(self) -> int:
        """Bits of the stored exponent field (exponent - e_min)."""
        return unsigned_bits_for(self.exponent_codes - 1)

    @property
    def code_bits(self) -> int:
        """Bits of one stored weight code: exponent, sign and zero flag."""
        return self.exponent_bits + 2


@dataclass(frozen=True, kw_only=True, eq=False)
class IntWeights:
    """Two's-complement integer weights of `bits` bits."""

    format: ClassVar[str] = "int"
    bits: int
    values: np.ndarray

    def __post_init__(self):
        check_int("bits", self.bits, 2, MAX_WEIGHT_BITS)
        values = int_array("values", self.values, 2)
        fmt = IntFormat(bits=self.bits)
        if not fmt.contains(values):
            bad = np.argwhere((values < fmt.min) | (values > fmt.max))[0]
            raise ValueError(f"values{_index(bad)} must be an integer in [{fmt.min}, {fmt.max}] "
                             f"for bits={self.bits}, not {int(values[tuple(bad)])!r}")
        object.__setattr__(self, "values", values)

    @property
    def code_bits(self) -> int:
        """Bits of one stored weight: the two's-complement value itself."""
        return self.bits


Weights = PotWeights | IntWeights


@dataclass(frozen=True, kw_only=True, eq=False)
class DenseLayer:
    """Fully connected layer: ``I_j = sum_i s_i * w_ij + b_j`` (weights[j][i], PyTorch order)."""

    kind: ClassVar[str] = "dense"
    size: int
    weights: Weights
    neuron: Neuron
    bias: np.ndarray | None = None

    def __post_init__(self):
        check_int("size", self.size, 1, 1 << 20)
        if not isinstance(self.weights, (PotWeights, IntWeights)):
            raise TypeError(f"weights must be PotWeights or IntWeights, not {self.weights!r}")
        if self.weights.values.shape[0] != self.size:
            raise ValueError(f"weights.values must have one row per neuron ({self.size}), "
                             f"not {self.weights.values.shape[0]}")
        if not isinstance(self.neuron, Neuron):
            raise TypeError(f"neuron must be a Neuron, not {self.neuron!r}")
        if isinstance(self.neuron.v_init, np.ndarray) and self.neuron.v_init.shape[0] != self.size:
            raise ValueError(f"neuron.v_init must hold one value per neuron ({self.size}), "
                             f"not {self.neuron.v_init.shape[0]}")
        if self.bias is not None:
            bias = int_array("bias", self.bias, 1)
            if bias.shape[0] != self.size:
                raise ValueError(f"bias must hold one value per neuron ({self.size}), "
                                 f"not {bias.shape[0]}")
            limit = 1 << (MAX_V_BITS - 1)
            if bias.size and np.abs(bias).max() >= limit:
                bad = int(np.argmax(np.abs(bias)))
                raise ValueError(f"bias[{bad}] must be an integer in [{-limit + 1}, {limit - 1}], "
                                 f"not {int(bias[bad])!r}")
            object.__setattr__(self, "bias", bias)

    @property
    def fan_in(self) -> int:
        return self.weights.values.shape[1]

    def bias_array(self) -> np.ndarray:
        """The bias as one int64 value per neuron (zeros when there is none)."""
        return self.bias if self.bias is not None else np.zeros(self.size, dtype=np.int64)


LAYER_KINDS = {"dense": DenseLayer}


@dataclass(frozen=True, kw_only=True)
class InputSpec:
    """`size` inputs, each an unsigned `bits`-bit value per timestep (1 = binary spikes)."""

    size: int
    bits: int

    def __post_init__(self):
        check_int("size", self.size, 1, 1 << 20)
        check_int("bits", self.bits, 1, MAX_INPUT_BITS)

    @property
    def format(self) -> UIntFormat:
        return UIntFormat(bits=self.bits)


@dataclass(frozen=True, kw_only=True)
class OutputSpec:
    mode: Literal["spike_count", "membrane"]

    def __post_init__(self):
        check_choice("mode", self.mode, OUTPUT_MODES)


@dataclass(frozen=True, kw_only=True, eq=False)
class Network:
    """A validated, quantized network: everything the hardware and the golden model need."""

    name: str
    timesteps: int
    input: InputSpec
    layers: tuple
    output: OutputSpec
    extra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, not {self.name!r}")
        check_int("timesteps", self.timesteps, 1, 1 << 16)
        if not isinstance(self.input, InputSpec):
            raise TypeError(f"input must be an InputSpec, not {self.input!r}")
        if not isinstance(self.output, OutputSpec):
            raise TypeError(f"output must be an OutputSpec, not {self.output!r}")
        layers = tuple(self.layers)
        if not layers:
            raise ValueError("layers must hold at least one layer, not []")
        object.__setattr__(self, "layers", layers)
        fan_in = self.input.size
        for index, layer in enumerate(layers):
            if not isinstance(layer, tuple(LAYER_KINDS.values())):
                raise TypeError(f"layers[{index}] must be a layer, not {layer!r}")
            if layer.fan_in != fan_in:
                source = "input.size" if index == 0 else f"layers[{index - 1}].size"
                raise ValueError(f"layers[{index}].weights.values must have {fan_in} columns "
                                 f"({source}), not {layer.fan_in}")
            if not layer.neuron.fires and index != len(layers) - 1:
                raise ValueError(f"layers[{index}].neuron.model 'integrator' is only allowed in "
                                 f"the last layer, not in layer {index} of {len(layers)}")
            fan_in = layer.size

    @property
    def n_out(self) -> int:
        return self.layers[-1].size

    def input_bits(self, index: int) -> int:
        """Bits of the values layer `index` receives: input.bits or the previous spike_bits."""
        return self.input.bits if index == 0 else self.layers[index - 1].neuron.spike_bits

    def input_max(self, index: int) -> int:
        return (1 << self.input_bits(index)) - 1

    @classmethod
    def load(cls, path) -> "Network":
        from .codec import load_network
        return load_network(path)

    def save(self, path, *, arrays: Literal["inline", "npz"] = "inline") -> None:
        from .codec import save_network
        save_network(self, path, arrays=arrays)
