"""Integer formats: the one place a width is turned into a range (pure Python, no Amaranth)."""

from dataclasses import dataclass

import numpy as np

__all__ = ["IntFormat", "UIntFormat", "signed_bits_for", "unsigned_bits_for"]


def unsigned_bits_for(value: int) -> int:
    """Bits of the unsigned format that holds 0 .. `value` (at least 1)."""
    if value < 0:
        raise ValueError(f"value must be non-negative, not {value!r}")
    return max(1, int(value).bit_length())


def signed_bits_for(lo: int, hi: int) -> int:
    """Bits of the two's-complement format that holds every integer in [`lo`, `hi`]."""
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


@dataclass(frozen=True, kw_only=True)
class IntFormat:
    """Two's-complement integer of `bits` bits; updates saturate to [`min`, `max`]."""

    bits: int

    def __post_init__(self):
        if not isinstance(self.bits, int) or isinstance(self.bits, bool) or self.bits < 2:
            raise ValueError(f"bits must be an integer of at least 2, not {self.bits!r}")

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1

    def contains(self, value) -> bool:
        """Whether every element of `value` lies in [`min`, `max`]."""
        arr = np.asarray(value)
        return bool(arr.size == 0 or (arr.min() >= self.min and arr.max() <= self.max))

    def clip(self, value):
        """Saturate `value` (an integer or integer array) to the format."""
        return np.clip(value, self.min, self.max)


@dataclass(frozen=True, kw_only=True)
class UIntFormat:
    """Unsigned integer of `bits` bits: 0 .. 2**bits - 1 (input values, spike values)."""

    bits: int

    def __post_init__(self):
        if not isinstance(self.bits, int) or isinstance(self.bits, bool) or self.bits < 1:
            raise ValueError(f"bits must be a positive integer, not {self.bits!r}")

    @property
    def min(self) -> int:
        return 0

    @property
    def max(self) -> int:
        return (1 << self.bits) - 1

    def contains(self, value) -> bool:
        arr = np.asarray(value)
        return bool(arr.size == 0 or (arr.min() >= 0 and arr.max() <= self.max))
