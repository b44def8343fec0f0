"""Synaptic products ``s * w``: a shift for PoT weights, a select or multiply for int weights."""

from amaranth import Module, Mux, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..gen.ir.formats import IntFormat, UIntFormat
from ..gen.ir.weights import IntWeights, PotWeights
from .layouts import weight_code_shape

__all__ = ["PotShifter", "IntProduct", "synapse_for", "accumulate"]


def _members(value: UIntFormat, code, addend: IntFormat) -> dict:
    return {
        "value": In(unsigned(value.bits)),
        "code": In(code),
        "addend": Out(signed(addend.bits)),
        "term": Out(signed(addend.bits)),
        "negate": Out(1),
    }


def accumulate(acc, term, negate):
    """``acc + (-term if negate else term)`` in one adder: the negation is the ones'
    complement of `term` and a carry in, so no carry chain of its own precedes the sum."""
    return acc + (term ^ negate.replicate(len(term))) + negate


class PotShifter(wiring.Component):
    """Combinational ``s * (±2**e)`` as ``±(s << e)``: no multiplier.

    `addend` is the product; `term` and `negate` give it as ``±term`` for an accumulator that
    folds the sign into its adder (`accumulate`).

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
    term : ``Out(signed(addend.bits))``
        ``s << e`` (0 for a zero weight).
    negate : ``Out(1)``
        The weight's sign: the product is ``-term``.
    """

    def __init__(self, weights: PotWeights, value: UIntFormat, addend: IntFormat):
        if not isinstance(weights, PotWeights):
            raise TypeError(f"PotShifter weights must be PotWeights, not {weights!r}")
        self._weights = weights
        super().__init__(_members(value, weight_code_shape(weights), addend))

    def elaborate(self, platform):
        m = Module()
        magnitude = (self.value << self.code.exp) << self._weights.e_min
        m.d.comb += [
            self.term.eq(Mux(self.code.exp.all(), 0, magnitude)),
            self.negate.eq(self.code.sign),
            self.addend.eq(Mux(self.negate, -self.term, self.term)),
        ]
        return m


class IntProduct(wiring.Component):
    """Combinational ``s * w`` for int weights: a select for binary spikes, else a multiplier.

    Members
    -------
    value : ``In(unsigned(value.bits))``
    code : ``In(signed(weights.bits))``
    addend : ``Out(signed(addend.bits))``
    term, negate : ``Out(signed(addend.bits))``, ``Out(1)``
        As `PotShifter`'s: here `term` is the signed product and `negate` is 0.
    """

    def __init__(self, weights: IntWeights, value: UIntFormat, addend: IntFormat):
        if not isinstance(weights, IntWeights):
            raise TypeError(f"IntProduct weights must be IntWeights, not {weights!r}")
        self._value_bits = value.bits
        super().__init__(_members(value, weight_code_shape(weights), addend))

    def elaborate(self, platform):
        m = Module()
        if self._value_bits == 1:
            m.d.comb += self.term.eq(Mux(self.value, self.code, 0))
        else:
            m.d.comb += self.term.eq(self.value * self.code)
        m.d.comb += self.addend.eq(self.term)
        return m


def synapse_for(weights, value: UIntFormat, addend: IntFormat) -> wiring.Component:
    """The product block for a layer's weight format."""
    if isinstance(weights, PotWeights):
        return PotShifter(weights, value, addend)
    return IntProduct(weights, value, addend)
