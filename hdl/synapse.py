"""Synaptic products ``s * w``: a shift for PoT weights, a select or multiply for int weights."""

from amaranth import Module, Mux, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..gen.ir.formats import IntFormat, UIntFormat
from ..gen.ir.weights import IntWeights, PotWeights
from .layouts import weight_code_shape

__all__ = ["PotShifter", "IntProduct", "synapse_for"]


class PotShifter(wiring.Component):
    """Combinational ``s * (±2**e)`` as ``±(s << e)``: no multiplier.

    Parameters
    ----------
    weights : PotWeights
        Gives the exponent range of the codes.
    value : UIntFormat
        Format of the spike value `s` (1 bit for binary spikes).
    addend : IntFormat
        Format of the product; the caller guarantees it holds the largest product.

    Members
    -------
    value : ``In(unsigned(value.bits))``
    code : ``In(weight_code_shape(weights))``
    addend : ``Out(signed(addend.bits))``
    """

    def __init__(self, weights: PotWeights, value: UIntFormat, addend: IntFormat):
        if not isinstance(weights, PotWeights):
            raise TypeError(f"PotShifter weights must be PotWeights, not {weights!r}")
        self._weights = weights
        super().__init__({
            "value": In(unsigned(value.bits)),
            "code": In(weight_code_shape(weights)),
            "addend": Out(signed(addend.bits)),
        })

    def elaborate(self, platform):
        m = Module()
        magnitude = (self.value << self.code.exp) << self._weights.e_min
        m.d.comb += self.addend.eq(Mux(self.code.exp.all(), 0,
                                       Mux(self.code.sign, -magnitude, magnitude)))
        return m


class IntProduct(wiring.Component):
    """Combinational ``s * w`` for int weights: a select for binary spikes, else a multiplier.

    Members
    -------
    value : ``In(unsigned(value.bits))``
    code : ``In(signed(weights.bits))``
    addend : ``Out(signed(addend.bits))``
    """

    def __init__(self, weights: IntWeights, value: UIntFormat, addend: IntFormat):
        if not isinstance(weights, IntWeights):
            raise TypeError(f"IntProduct weights must be IntWeights, not {weights!r}")
        self._value_bits = value.bits
        super().__init__({
            "value": In(unsigned(value.bits)),
            "code": In(weight_code_shape(weights)),
            "addend": Out(signed(addend.bits)),
        })

    def elaborate(self, platform):
        m = Module()
        if self._value_bits == 1:
            m.d.comb += self.addend.eq(Mux(self.value, self.code, 0))
        else:
            m.d.comb += self.addend.eq(self.value * self.code)
        return m


def synapse_for(weights, value: UIntFormat, addend: IntFormat) -> wiring.Component:
    """The product block for a layer's weight format."""
    if isinstance(weights, PotWeights):
        return PotShifter(weights, value, addend)
    return IntProduct(weights, value, addend)
