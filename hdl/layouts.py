"""Payload and code layouts shared by the hardware blocks (widths come from the Design)."""

from amaranth import signed, unsigned
from amaranth.lib import data

from ..gen.ir.formats import IntFormat
from ..gen.ir.weights import IntWeights, PotWeights

__all__ = ["input_event_layout", "spike_entry_layout", "result_layout", "weight_code_shape",
           "weight_code"]


def input_event_layout(index_bits: int, value_bits: int) -> data.StructLayout:
    """One input value: `index`, `value` (0 is dropped) and `last` closing the timestep."""
    return data.StructLayout({"index": unsigned(index_bits), "value": unsigned(value_bits),
                              "last": 1})


def spike_entry_layout(index_bits: int, value_bits: int) -> data.StructLayout:
    """One entry of a spike list: the index of a non-zero spike and its value."""
    return data.StructLayout({"index": unsigned(index_bits), "value": unsigned(value_bits)})


def result_layout(fmt: IntFormat) -> data.StructLayout:
    """One result value (spike count or membrane); `last` marks the sample's last neuron."""
    return data.StructLayout({"value": signed(fmt.bits), "last": 1})


def weight_code_shape(weights):
    """Stored weight code.

    PoT: ``{exp, sign}``, the weight being 0 when `exp` is all ones, else
    (-1)**sign * 2**(e_min + exp) (`PotWeights.code_bits`: the fewest bits that hold every
    weight). Int: the two's-complement weight itself.
    """
    if isinstance(weights, PotWeights):
        return data.StructLayout({"exp": unsigned(weights.exponent_bits), "sign": 1})
    assert isinstance(weights, IntWeights)
    return signed(weights.bits)


def weight_code(weights, value: int):
    """The code of one weight `value`, as a constant of `weight_code_shape(weights)`."""
    if isinstance(weights, PotWeights):
        if value == 0:
            return {"exp": (1 << weights.exponent_bits) - 1, "sign": 0}
        return {"exp": abs(value).bit_length() - 1 - weights.e_min, "sign": int(value < 0)}
    return int(value)
