"""Weight formats (DESIGN.md §2 `weights`): power-of-two and integer, and their codec.

Also the two format facts the quantizers share: how many exponents a PoT code of `bits` bits
holds, and the power-of-two scale that maps float weights onto an int format.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .checks import check_int, index_text, int_array
from .fields import Arrays, build, choice_at, fields
from .formats import IntFormat, unsigned_bits_for

__all__ = ["PotWeights", "IntWeights", "Weights", "WEIGHT_FORMATS", "MAX_WEIGHT_BITS", "POT_BITS",
           "MAX_POT_EXPONENT", "weights_from_dict", "weights_to_dict", "random_weights"]

MAX_WEIGHT_BITS = 24
MAX_POT_EXPONENT = 30
POT_BITS = (2, 6)  # code bits of a PoT weight: sign + exponent field with a zero code


class _Codes:
    """What both weight formats compute from their `values` and `code_bits`."""

    @property
    def stored_bits(self) -> int:
        """The fewest bits that hold these weights: every value at its code width (the
        report's minimum beside the weight memory's bits)."""
        return int(self.values.size) * self.code_bits


@dataclass(frozen=True, kw_only=True, eq=False)
class PotWeights(_Codes):
    """Power-of-two weights: every value is 0 or ±2**e with `e_min` <= e <= `e_max`.

    `values` has any number of dimensions; the layer kind fixes its shape.
    """

    format: ClassVar[str] = "pot"
    e_min: int
    e_max: int
    values: np.ndarray
    ndim: int = 2

    def __post_init__(self):
        check_int("e_min", self.e_min, 0, MAX_POT_EXPONENT)
        check_int("e_max", self.e_max, self.e_min, MAX_POT_EXPONENT)
        values = int_array("values", self.values, self.ndim)
        mag = np.abs(values)
        is_pow2 = (mag > 0) & ((mag & (mag - 1)) == 0)
        exponent = np.where(is_pow2, np.log2(np.maximum(mag, 1)).round().astype(np.int64), -1)
        ok = (values == 0) | (is_pow2 & (exponent >= self.e_min) & (exponent <= self.e_max))
        if not ok.all():
            bad = np.argwhere(~ok)[0]
            raise ValueError(f"values{index_text(bad)} must be 0 or ±2^e with {self.e_min} <= "
                             f"e <= {self.e_max}, not {int(values[tuple(bad)])!r}")
        object.__setattr__(self, "values", values)

    @property
    def exponent_codes(self) -> int:
        """How many exponents the format holds (e_max - e_min + 1)."""
        return self.e_max - self.e_min + 1

    @property
    def exponent_bits(self) -> int:
        """Bits of the stored exponent field: exponent - e_min, or all ones for a zero weight
        (a value no exponent uses, since the field holds 0 .. exponent_codes)."""
        return unsigned_bits_for(self.exponent_codes)

    @property
    def code_bits(self) -> int:
        """Bits of one stored weight code: exponent field and sign. The minimum: 2 *
        exponent_codes + 1 weights need exactly this many bits."""
        return self.exponent_bits + 1

    @staticmethod
    def e_max_for_bits(bits: int) -> int:
        """Largest exponent of a `bits`-bit PoT code (sign + exponent field with a zero code)
        whose exponents start at 0: 2**(bits - 1) - 2."""
        check_int("bits", bits, *POT_BITS)
        return (1 << (bits - 1)) - 2


@dataclass(frozen=True, kw_only=True, eq=False)
class IntWeights(_Codes):
    """Two's-complement integer weights of `bits` bits."""

    format: ClassVar[str] = "int"
    bits: int
    values: np.ndarray
    ndim: int = 2

    def __post_init__(self):
        check_int("bits", self.bits, 2, MAX_WEIGHT_BITS)
        values = int_array("values", self.values, self.ndim)
        fmt = IntFormat(bits=self.bits)
        if not fmt.contains(values):
            bad = np.argwhere((values < fmt.min) | (values > fmt.max))[0]
            raise ValueError(f"values{index_text(bad)} must be an integer in [{fmt.min}, "
                             f"{fmt.max}] for bits={self.bits}, not {int(values[tuple(bad)])!r}")
        object.__setattr__(self, "values", values)

    @property
    def code_bits(self) -> int:
        """Bits of one stored weight: the two's-complement value itself."""
        return self.bits

    @staticmethod
    def scale_exponent(peak: float, bits: int) -> int:
        """The k for which ``w * 2**k`` maps the largest |w| (`peak`) into `bits` bits."""
        peak = max(float(peak), 1e-30)
        return int(np.floor(np.log2(((1 << (bits - 1)) - 1) / peak)))


Weights = PotWeights | IntWeights
WEIGHT_FORMATS = {"pot": PotWeights, "int": IntWeights}


def weights_from_dict(obj, path: str, arrays: Arrays, *, ndim: int = 2) -> Weights:
    if not isinstance(obj, dict):
        raise TypeError(f"{path} must be an object, not {obj!r}")
    fmt = choice_at(f"{path}.format", obj.get("format"), WEIGHT_FORMATS)
    if fmt == "pot":
        fields(obj, path, required=("format", "e_min", "e_max", "values"))
        return build(path, PotWeights, e_min=obj["e_min"], e_max=obj["e_max"], ndim=ndim,
                     values=arrays(obj["values"], f"{path}.values"))
    fields(obj, path, required=("format", "bits", "values"))
    return build(path, IntWeights, bits=obj["bits"], ndim=ndim,
                 values=arrays(obj["values"], f"{path}.values"))


def weights_to_dict(w: Weights, arrays: Arrays, key: str) -> dict:
    obj = {"format": w.format}
    if isinstance(w, PotWeights):
        obj |= {"e_min": w.e_min, "e_max": w.e_max}
    else:
        obj |= {"bits": w.bits}
    obj["values"] = arrays.out(w.values, key)
    return obj


def random_weights(rng: np.random.Generator, shape: tuple) -> Weights:
    """Random PoT or int weights of `shape` and random density (tests and benchmarks)."""
    density = float(rng.uniform(0.3, 1.0))
    mask = rng.random(shape) < density
    sign = np.where(rng.random(shape) < 0.4, -1, 1)
    if rng.random() < 0.5:
        e_min = int(rng.integers(0, 3))
        e_max = e_min + int(rng.integers(0, 5))
        exps = rng.integers(e_min, e_max + 1, shape)
        return PotWeights(e_min=e_min, e_max=e_max, values=mask * sign * (1 << exps),
                          ndim=len(shape))
    bits = int(rng.integers(2, 7))
    hi = (1 << (bits - 1)) - 1
    values = rng.integers(-hi - 1, hi + 1, shape)
    return IntWeights(bits=bits, values=mask * np.where(values < 0, values, np.abs(values)),
                      ndim=len(shape))
