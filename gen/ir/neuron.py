"""The neuron of a layer (DESIGN.md §2 `neuron`, §3 update) and its description codec.

`threshold`, the leak's `shift` or `amount`, and `v_init` take one integer for the whole layer
or one per neuron (DESIGN.md §3.1), in the layer's flat neuron order (``c*H'*W' + y*W' + x``
for a map); each neuron then follows DESIGN.md §3 with its own values. A per-neuron value is a
read-only int64 array; a single one stays an int.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .checks import check_choice, check_int, int_array
from .fields import Arrays, build, fields
from .formats import IntFormat

__all__ = ["ShiftLeak", "SubtractLeak", "Leak", "Neuron", "NEURON_MODELS", "RESET_MODES",
           "MAX_V_BITS", "MAX_SPIKE_BITS", "MAX_LEAK_SHIFT", "UPDATE_STAGES", "per_neuron_int",
           "value_range", "value_text",
           "neuron_from_dict", "neuron_to_dict"]

NEURON_MODELS = ("if", "lif", "cuba_lif", "integrator")
RESET_MODES = ("subtract", "zero", "none")
#: Register boundaries of the staged neuron update (hdl/neuron.py): leak | add | saturate and
#: fire | reset.
UPDATE_STAGES = 3
MAX_V_BITS = 48          # keeps every sum inside int64 in the golden model
MAX_SPIKE_BITS = 8
MAX_LEAK_SHIFT = 62


def _is_array(value) -> bool:
    return isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0)


def per_neuron_int(name: str, value, lo: int, hi: int, what: str = "") -> int | np.ndarray:
    """`value` as an int within [lo, hi], or, given a list or array, as a read-only int64 array
    of such values (one per neuron); the message names the first bad index (``shift[2]``).
    `what` is appended to the range (``" for v_bits=12"``)."""
    if not _is_array(value):
        if isinstance(value, np.ndarray):               # a 0-dimensional array
            value = value.item()
        try:
            return check_int(name, value, lo, hi)
        except ValueError:
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}]{what}, "
                             f"not {value!r}") from None
    arr = int_array(name, value, 1)
    if arr.size == 0:
        raise ValueError(f"{name} must hold one value per neuron, not an empty list")
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(f"{name}[{j}] must be an integer in [{lo}, {hi}]{what}, "
                         f"not {int(arr[j])!r}")
    return arr


def value_range(value) -> tuple[int, int]:
    """(smallest, largest) of a per-neuron value (an int or an array)."""
    if isinstance(value, np.ndarray):
        return int(value.min()), int(value.max())
    return int(value), int(value)


def value_text(value) -> str:
    """A per-neuron value for people: ``17``, or ``3..17 per neuron``."""
    lo, hi = value_range(value)
    if not isinstance(value, np.ndarray):
        return str(lo)
    return f"{lo} per neuron" if lo == hi else f"{lo}..{hi} per neuron"


def _values(value, size: int) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    return np.full(size, value, dtype=np.int64)


def _same(a, b) -> bool:
    return type(a) is type(b) and np.array_equal(a, b)


def _key(value):
    return tuple(value.tolist()) if isinstance(value, np.ndarray) else value


def _listed(value):
    return value.tolist() if isinstance(value, np.ndarray) else value


class _LeakValue:
    """Equality by value, hashing and the per-neuron helpers shared by both leaks; `_field`
    names the dataclass field holding the value (an int, or one per neuron)."""

    _field: str

    @property
    def _value(self):
        return getattr(self, self._field)

    def __eq__(self, other):
        return type(other) is type(self) and _same(self._value, other._value)

    def __hash__(self):
        return hash((self._field, _key(self._value)))

    def __repr__(self):
        return f"{type(self).__name__}({self._field}={_listed(self._value)!r})"

    @property
    def per_neuron(self) -> bool:
        return isinstance(self._value, np.ndarray)

    def values(self, size: int) -> np.ndarray:
        """The leak's value as one int64 value per neuron."""
        return _values(self._value, size)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ShiftLeak(_LeakValue):
    """``v - (v >> shift)``: beta = 1 - 2**-shift, arithmetic shift (floor).

    `shift` is one integer in [0, 62] or one per neuron.
    """

    _field = "shift"
    shift: int | np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "shift", per_neuron_int("shift", self.shift, 0, MAX_LEAK_SHIFT))

    @property
    def beta(self) -> float | np.ndarray:
        return 1 - 2.0 ** -np.asarray(self.shift) if self.per_neuron else 1 - 2.0 ** -self.shift

    @classmethod
    def nearest(cls, beta) -> "ShiftLeak":
        """The shift leak whose beta is nearest to `beta` on a log scale of 1 - beta; `beta`
        may be one float or one per neuron (a per-neuron leak)."""
        k = np.clip(np.round(-np.log2(np.maximum(1 - np.asarray(beta, float), 1e-18))),
                    0, MAX_LEAK_SHIFT).astype(np.int64)
        return cls(shift=int(k) if k.ndim == 0 else k)

    def approximation(self, beta) -> str:
        """What standing in for `beta` changes, for quantization and import reports."""
        if not self.per_neuron:
            return f"beta {float(beta):g} -> shift {self.shift} (beta {self.beta:g})"
        beta = np.asarray(beta, float)
        worst = int(np.argmax(np.abs(beta - self.beta)))
        return (f"beta {beta.min():g}..{beta.max():g} -> shift {self.shift.min()}.."
                f"{self.shift.max()} per neuron (largest change: neuron {worst}, beta "
                f"{beta[worst]:g} -> {self.beta[worst]:g})")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class SubtractLeak(_LeakValue):
    """Moves v towards 0 by `amount` each timestep, never across 0.

    `amount` is one integer in [0, 2**48] or one per neuron.
    """

    _field = "amount"
    amount: int | np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "amount", per_neuron_int("subtract", self.amount, 0,
                                                          1 << MAX_V_BITS))


Leak = ShiftLeak | SubtractLeak


@dataclass(frozen=True, kw_only=True, eq=False)
class Neuron:
    """Neuron options of one layer (DESIGN.md §2 `neuron`).

    `threshold`, `v_init` and the leak's value take one integer or one per neuron (a list or
    array, stored as a read-only int64 array); `check_size` (called by the layer) checks that
    an array holds one value per neuron of the layer. For ``model == "integrator"`` only `v`,
    `v_init` and `leak` apply: `threshold` is None, `reset` is ``"none"`` and `spike_bits` is
    0 (it never fires).

    ``model == "cuba_lif"`` (current-based LIF) adds a synaptic current state I per neuron,
    0 at the start of every inference, of format `i` (``i_bits``; default: `v`'s), decaying
    by `syn_shift` k_syn (one or one per neuron): each timestep
    ``I = sat_i(I - (I >> k_syn) + input)``, then ``v = sat_v(leak(v) + I)``, then fire and
    reset as for ``lif`` (the reset acts on v only). Its leak may be null (v integrates I).
    `syn_shift` and `i` are None for every other model.
    """

    model: Literal["if", "lif", "cuba_lif", "integrator"]
    v: IntFormat
    threshold: int | np.ndarray | None = None
    leak: Leak | None = None
    reset: Literal["subtract", "zero", "none"] = "subtract"
    v_init: int | np.ndarray = 0
    spike_bits: int = 1
    syn_shift: int | np.ndarray | None = None
    i: IntFormat | None = None

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
            theta = per_neuron_int("threshold", self.threshold, 1, self.v.max)
            if self.spike_bits > 1 and (np.asarray(theta) & (np.asarray(theta) - 1)).any():
                bad = np.flatnonzero(np.atleast_1d(theta & (theta - 1)))[0]
                at, value = ((f"[{bad}]", int(theta[bad])) if isinstance(theta, np.ndarray)
                             else ("", theta))
                raise ValueError(f"threshold{at} must be a power of two when spike_bits > 1, "
                                 f"not {value!r}")
            object.__setattr__(self, "threshold", theta)
            check_choice("reset", self.reset, RESET_MODES)
        object.__setattr__(self, "v_init", per_neuron_int(
            "v_init", self.v_init, self.v.min, self.v.max, f" for v_bits={self.v.bits}"))
        self._check_synapse()

    def _check_synapse(self):
        if self.model != "cuba_lif":
            if self.syn_shift is not None:
                raise ValueError(f"syn_shift applies only to model 'cuba_lif', not "
                                 f"{self.model!r}")
            if self.i is not None:
                raise ValueError(f"i_bits applies only to model 'cuba_lif', not {self.model!r}")
            return
        if self.syn_shift is None:
            raise ValueError("syn_shift must be given for model 'cuba_lif', not None")
        object.__setattr__(self, "syn_shift", per_neuron_int("syn_shift", self.syn_shift, 0,
                                                             MAX_LEAK_SHIFT))
        i = self.v if self.i is None else self.i
        if not isinstance(i, IntFormat):
            raise TypeError(f"i must be an IntFormat, not {i!r}")
        check_int("i_bits", i.bits, 2, MAX_V_BITS)
        object.__setattr__(self, "i", i)

    @property
    def has_synapse(self) -> bool:
        """Whether the neuron keeps a synaptic current state (``cuba_lif``)."""
        return self.model == "cuba_lif"

    @property
    def synapse_bits(self) -> int:
        """Bits of the synaptic current state per neuron (0 without one)."""
        return self.i.bits if self.has_synapse else 0

    @property
    def fires(self) -> bool:
        return self.model != "integrator"

    @property
    def spike_max(self) -> int:
        """Largest spike value, 2**spike_bits - 1 (0 for an integrator)."""
        return (1 << self.spike_bits) - 1 if self.fires else 0

    @property
    def per_neuron(self) -> tuple[str, ...]:
        """The fields given one value per neuron: some of ``"threshold"``, ``"leak"``,
        ``"v_init"``, ``"syn_shift"``."""
        given = {"threshold": isinstance(self.threshold, np.ndarray),
                 "leak": self.leak is not None and self.leak.per_neuron,
                 "v_init": isinstance(self.v_init, np.ndarray),
                 "syn_shift": isinstance(self.syn_shift, np.ndarray)}
        return tuple(name for name, per in given.items() if per)

    @property
    def threshold_max(self) -> int | None:
        """The largest threshold of the layer (None for an integrator)."""
        return None if self.threshold is None else value_range(self.threshold)[1]

    @property
    def threshold_shift(self) -> int | np.ndarray | None:
        """log2(threshold), per neuron when the threshold is, when every threshold is a power
        of two; else None."""
        if self.threshold is None:
            return None
        theta = np.asarray(self.threshold)
        if (theta & (theta - 1)).any():
            return None
        shift = np.frexp(theta.astype(np.float64))[1].astype(np.int64) - 1
        return shift if isinstance(self.threshold, np.ndarray) else int(shift)

    def summary(self) -> str:
        """One line for reports: model, θ, leak, reset, spike bits, v_init, v_bits."""
        parts = [self.model]
        if self.fires:
            parts.append(f"θ {value_text(self.threshold)}")
        if self.has_synapse:
            parts.append(f"synapse shift {value_text(self.syn_shift)}, I {self.i.bits} bit")
        if isinstance(self.leak, ShiftLeak):
            parts.append(f"leak shift {value_text(self.leak.shift)}")
        elif isinstance(self.leak, SubtractLeak):
            parts.append(f"leak subtract {value_text(self.leak.amount)}")
        if self.fires:
            parts += [f"reset {self.reset}", f"S {self.spike_bits}"]
        parts += [f"v_init {value_text(self.v_init)}", f"v {self.v.bits} bit"]
        return ", ".join(parts)

    def threshold_array(self, size: int) -> np.ndarray:
        """`threshold` as one int64 value per neuron (an integrator: none)."""
        return _values(self.threshold, size)

    def v_init_array(self, size: int) -> np.ndarray:
        """`v_init` as one int64 value per neuron."""
        return _values(self.v_init, size)

    def check_size(self, size: int, channels: int | None = None) -> None:
        """Per-neuron values must hold one value per neuron of the layer (a map layer of
        `channels` output channels: the message says how a per-channel value is written)."""
        given = {"threshold": self.threshold, "v_init": self.v_init,
                 "syn_shift": self.syn_shift}
        if self.leak is not None:
            name = "leak.shift" if isinstance(self.leak, ShiftLeak) else "leak.subtract"
            given[name] = self.leak.shift if isinstance(self.leak, ShiftLeak) else \
                self.leak.amount
        for name, value in given.items():
            if isinstance(value, np.ndarray) and value.shape[0] != size:
                hint = ""
                if value.shape[0] == channels:
                    hint = (f"; give a value per output channel as one per neuron, each "
                            f"repeated {size // channels} times (flat order c, y, x)")
                raise ValueError(f"neuron.{name} must hold one value per neuron ({size}), "
                                 f"not {value.shape[0]}{hint}")


def _leak_from_dict(obj, path: str, arrays: Arrays):
    if obj is None:
        return None
    if not isinstance(obj, dict) or len(obj) != 1 or next(iter(obj)) not in ("shift", "subtract"):
        raise ValueError(f"{path} must be null, {{\"shift\": k}} or {{\"subtract\": c}}, "
                         f"not {obj!r}")
    if "shift" in obj:
        return build(path, ShiftLeak, shift=arrays(obj["shift"], f"{path}.shift"))
    return build(path, SubtractLeak, amount=arrays(obj["subtract"], f"{path}.subtract"))


def neuron_from_dict(obj, path: str, arrays: Arrays) -> Neuron:
    fields(obj, path, required=("model", "v_bits"),
           optional=("threshold", "leak", "reset", "v_init", "spike_bits", "syn_shift",
                     "i_bits"))
    try:
        v = IntFormat(bits=obj["v_bits"])
    except (TypeError, ValueError):
        raise ValueError(f"{path}.v_bits must be an integer in [2, {MAX_V_BITS}], "
                         f"not {obj['v_bits']!r}") from None
    kwargs = {"model": obj["model"], "v": v,
              "leak": _leak_from_dict(obj.get("leak"), f"{path}.leak", arrays)}
    for key in ("reset", "spike_bits"):
        if key in obj:
            kwargs[key] = obj[key]
    for key in ("threshold", "v_init", "syn_shift"):
        if key in obj:
            kwargs[key] = arrays(obj[key], f"{path}.{key}")
    if "i_bits" in obj:
        try:
            kwargs["i"] = IntFormat(bits=obj["i_bits"])
        except (TypeError, ValueError):
            raise ValueError(f"{path}.i_bits must be an integer in [2, {MAX_V_BITS}], "
                             f"not {obj['i_bits']!r}") from None
    if obj["model"] in ("if", "lif", "cuba_lif") and "threshold" not in obj:
        raise ValueError(f"{path}.threshold is required for model {obj['model']!r}")
    return build(path, Neuron, **kwargs)


def _out(value, arrays: Arrays, key: str):
    return arrays.out(value, key) if isinstance(value, np.ndarray) else value


def neuron_to_dict(n: Neuron, arrays: Arrays, key: str) -> dict:
    obj = {"model": n.model}
    if n.fires:
        obj["threshold"] = _out(n.threshold, arrays, f"{key}.threshold")
    if isinstance(n.leak, ShiftLeak):
        obj["leak"] = {"shift": _out(n.leak.shift, arrays, f"{key}.leak_shift")}
    elif isinstance(n.leak, SubtractLeak):
        obj["leak"] = {"subtract": _out(n.leak.amount, arrays, f"{key}.leak_subtract")}
    else:
        obj["leak"] = None
    if n.fires:
        obj |= {"reset": n.reset, "spike_bits": n.spike_bits}
    obj["v_init"] = _out(n.v_init, arrays, f"{key}.v_init")
    obj["v_bits"] = n.v.bits
    if n.has_synapse:
        obj |= {"syn_shift": _out(n.syn_shift, arrays, f"{key}.syn_shift"), "i_bits": n.i.bits}
    return obj
