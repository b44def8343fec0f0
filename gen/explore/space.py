"""The knobs an exploration varies and one point of that space (a candidate).

The space is written once, as Optuna categorical parameters with stable names, so a study
file records exactly which choices it was made with and a resumed run can be checked
against them.
"""

import re
from dataclasses import dataclass

from ..ir.kinds.dense import MAX_LANES
from ..ir.weights import MAX_WEIGHT_BITS, POT_BITS

__all__ = ["WEIGHTS_HELP", "parse_weight_format", "auto_lanes", "Space", "Candidate"]

WEIGHTS_HELP = (f"pot{POT_BITS[0]} to pot{POT_BITS[1]} (sign + exponent code bits) or "
                f"int2 to int{MAX_WEIGHT_BITS}")


def parse_weight_format(text: str) -> tuple[str, int]:
    """``"pot4"`` -> ``("pot", 4)``; a ValueError says what is allowed."""
    match = re.fullmatch(r"(pot|int)(\d+)", text)
    low, high = POT_BITS if match and match[1] == "pot" else (2, MAX_WEIGHT_BITS)
    if match is None or not low <= int(match[2]) <= high:
        raise ValueError(f"must be weight formats {WEIGHTS_HELP}, not {text!r}")
    return match[1], int(match[2])


def auto_lanes(max_lanes: int) -> list[int]:
    """Powers of two up to what a layer can use, and that maximum itself."""
    values = [1 << k for k in range(MAX_LANES.bit_length()) if 1 << k < max_lanes]
    return values + [max_lanes]


def _knobs(timesteps, weights, spike_bits) -> dict:
    """The knobs in their fixed order, leaving out those not varied (None)."""
    knobs = {"timesteps": timesteps, "weights": weights, "spike_bits": spike_bits}
    return {name: value for name, value in knobs.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class Space:
    """The choices of every knob; None: the knob is not varied (the source's own value).

    Members
    -------
    timesteps : T values
    weights : weight formats (``"pot4"``, ``"int6"``); None for an integer description
    spike_bits : spike bits of every spiking layer; None keeps the source's
    lanes : one tuple of lane counts per layer
    """

    timesteps: tuple
    weights: tuple | None
    spike_bits: tuple | None
    lanes: tuple

    def distributions(self) -> dict:
        """Parameter name -> Optuna distribution, in a fixed order."""
        from optuna.distributions import CategoricalDistribution
        params = _knobs(self.timesteps, self.weights, self.spike_bits)
        params |= {f"lanes_{i}": choices for i, choices in enumerate(self.lanes)}
        return {name: CategoricalDistribution(list(choices)) for name, choices in params.items()}

    def to_json(self) -> dict:
        return {"timesteps": list(self.timesteps),
                "weights": None if self.weights is None else list(self.weights),
                "spike_bits": None if self.spike_bits is None else list(self.spike_bits),
                "lanes": [list(choices) for choices in self.lanes]}

    @property
    def size(self) -> int:
        """How many distinct candidates the space holds."""
        count = len(self.timesteps) * len(self.weights or [0]) * len(self.spike_bits or [0])
        for choices in self.lanes:
            count *= len(choices)
        return count


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One point of the space: what a network and its design are built from."""

    timesteps: int
    weights: str | None
    spike_bits: int | None
    lanes: tuple

    @classmethod
    def from_params(cls, params: dict) -> "Candidate":
        lanes = tuple(params[f"lanes_{i}"] for i in range(len(params))
                      if f"lanes_{i}" in params)
        return cls(timesteps=params["timesteps"], weights=params.get("weights"),
                   spike_bits=params.get("spike_bits"), lanes=lanes)

    @property
    def network_key(self) -> tuple:
        """What the network depends on (lanes change the hardware, not what it computes)."""
        return self.timesteps, self.weights, self.spike_bits

    def to_json(self) -> dict:
        return _knobs(self.timesteps, self.weights, self.spike_bits) | {"lanes": list(self.lanes)}

    @property
    def label(self) -> str:
        """A short file-name-safe name: ``T8-pot4-S1-L16x10``."""
        parts = [f"T{self.timesteps}"]
        if self.weights is not None:
            parts.append(self.weights)
        if self.spike_bits is not None:
            parts.append(f"S{self.spike_bits}")
        return "-".join(parts + ["L" + "x".join(map(str, self.lanes))])
