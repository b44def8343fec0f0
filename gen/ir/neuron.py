"""The neuron of a layer (DESIGN.md §2 `neuron`, §3 update) and its description codec."""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .checks import check_choice, check_int, int_array
from .fields import Arrays, build, fields
from .formats import IntFormat

__all__ = ["ShiftLeak", "SubtractLeak", "Leak", "Neuron", "NEURON_MODELS", "RESET_MODES",
           "MAX_V_BITS", "MAX_SPIKE_BITS", "neuron_from_dict", "neuron_to_dict"]

NEURON_MODELS = ("if", "lif", "integrator")
RESET_MODES = ("subtract", "zero", "none")
MAX_V_BITS = 48          # keeps every sum inside int64 in the golden model
MAX_SPIKE_BITS = 8


@dataclass(frozen=True, kw_only=True)
class ShiftLeak:
    """``v - (v >> shift)``: beta = 1 - 2**-shift, arithmetic shift (floor)."""

    shift: int

    def __post_init__(self):
        check_int("shift", self.shift, 0, 62)

    @property
    def beta(self) -> float:
        return 1 - 2.0 ** -self.shift

    @classmethod
    def nearest(cls, beta: float) -> "ShiftLeak":
        """The shift leak whose beta is nearest to `beta` on a log scale of 1 - beta."""
        return cls(shift=int(np.clip(np.round(-np.log2(max(1 - beta, 1e-18))), 0, 62)))

    def approximation(self, beta: float) -> str:
        """What standing in for `beta` changes, for quantization and import reports."""
        return f"beta {beta:g} -> shift {self.shift} (beta {self.beta:g})"


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

    def check_size(self, size: int) -> None:
        """Per-neuron values must hold one value per neuron of the layer."""
        if isinstance(self.v_init, np.ndarray) and self.v_init.shape[0] != size:
            raise ValueError(f"neuron.v_init must hold one value per neuron ({size}), "
                             f"not {self.v_init.shape[0]}")


def _leak_from_dict(obj, path: str):
    if obj is None:
        return None
    if not isinstance(obj, dict) or len(obj) != 1 or next(iter(obj)) not in ("shift", "subtract"):
        raise ValueError(f"{path} must be null, {{\"shift\": k}} or {{\"subtract\": c}}, "
                         f"not {obj!r}")
    if "shift" in obj:
        return build(path, ShiftLeak, shift=obj["shift"])
    return build(path, SubtractLeak, amount=obj["subtract"])


def neuron_from_dict(obj, path: str, arrays: Arrays) -> Neuron:
    fields(obj, path, required=("model", "v_bits"),
           optional=("threshold", "leak", "reset", "v_init", "spike_bits"))
    try:
        v = IntFormat(bits=obj["v_bits"])
    except (TypeError, ValueError):
        raise ValueError(f"{path}.v_bits must be an integer in [2, {MAX_V_BITS}], "
                         f"not {obj['v_bits']!r}") from None
    kwargs = {"model": obj["model"], "v": v,
              "leak": _leak_from_dict(obj.get("leak"), f"{path}.leak")}
    for key in ("threshold", "reset", "spike_bits"):
        if key in obj:
            kwargs[key] = obj[key]
    if "v_init" in obj:
        kwargs["v_init"] = arrays(obj["v_init"], f"{path}.v_init")
    if obj["model"] in ("if", "lif") and "threshold" not in obj:
        raise ValueError(f"{path}.threshold is required for model {obj['model']!r}")
    return build(path, Neuron, **kwargs)


def neuron_to_dict(n: Neuron, arrays: Arrays, key: str) -> dict:
    obj = {"model": n.model}
    if n.fires:
        obj["threshold"] = n.threshold
    if isinstance(n.leak, ShiftLeak):
        obj["leak"] = {"shift": n.leak.shift}
    elif isinstance(n.leak, SubtractLeak):
        obj["leak"] = {"subtract": n.leak.amount}
    else:
        obj["leak"] = None
    if n.fires:
        obj |= {"reset": n.reset, "spike_bits": n.spike_bits}
    obj["v_init"] = (arrays.out(n.v_init, f"{key}.v_init") if isinstance(n.v_init, np.ndarray)
                     else n.v_init)
    obj["v_bits"] = n.v.bits
    return obj
