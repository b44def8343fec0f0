# amaranth: UnusedElaboratable=no
import numpy as np
import pytest
from amaranth import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from spikeshift.gen.ir.formats import IntFormat, UIntFormat
from spikeshift.gen.ir.weights import IntWeights, PotWeights
from spikeshift.hdl.layouts import weight_code
from spikeshift.hdl.synapse import IntProduct, PotShifter, accumulate, synapse_for


def rtl_products(dut, weights, cases, accs=None):
    """`dut.addend` per (value, weight) case, or with `accs` (one per case) `dut.total`."""
    out = []

    async def bench(ctx):
        for n, (value, w) in enumerate(cases):
            if accs is not None:
                ctx.set(dut.acc, accs[n])
            ctx.set(dut.value, value)
            ctx.set(dut.code, weight_code(weights, w))
            await ctx.delay(1e-9)
            out.append(ctx.get(dut.addend if accs is None else dut.total))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return np.array(out)


@pytest.mark.parametrize("e_min, e_max, value_bits", [(0, 0, 1), (0, 5, 1), (2, 4, 3),
                                                      (1, 6, 4), (0, 6, 2), (0, 7, 1), (3, 3, 2)])
def test_pot_shifter_computes_value_times_pot_weight(e_min, e_max, value_bits):
    pot = [0] + [s * (1 << e) for e in range(e_min, e_max + 1) for s in (1, -1)]
    weights = PotWeights(e_min=e_min, e_max=e_max, values=[pot])
    cases = [(v, w) for v in range(1 << value_bits) for w in pot]
    addend = IntFormat(bits=value_bits + e_max + 2)
    dut = PotShifter(weights, UIntFormat(bits=value_bits), addend)
    np.testing.assert_array_equal(rtl_products(dut, weights, cases), [v * w for v, w in cases])


@pytest.mark.parametrize("bits, value_bits", [(4, 1), (5, 3)])
def test_int_product_computes_value_times_weight(bits, value_bits):
    ints = list(range(-(1 << (bits - 1)), 1 << (bits - 1)))
    weights = IntWeights(bits=bits, values=[ints])
    cases = [(v, w) for v in range(1 << value_bits) for w in ints]
    dut = IntProduct(weights, UIntFormat(bits=value_bits), IntFormat(bits=bits + value_bits + 1))
    np.testing.assert_array_equal(rtl_products(dut, weights, cases), [v * w for v, w in cases])


@pytest.mark.parametrize("weights", [PotWeights(e_min=0, e_max=0, values=[[1]]),
                                     PotWeights(e_min=2, e_max=8, values=[[4]]),
                                     IntWeights(bits=6, values=[[-3]])])
def test_stored_code_width_is_the_one_the_report_counts(weights):
    from amaranth import Shape

    from spikeshift.hdl.layouts import weight_code_shape
    assert Shape.cast(weight_code_shape(weights)).width == weights.code_bits
    # PoT: 2 * codes + 1 weights in the fewest bits (1 exponent: 3 weights, 2 bits;
    # 7 exponents: 15 weights, 4 bits)
    assert weights.code_bits == {1: 2, 7: 4}.get(getattr(weights, "exponent_codes", 0), 6)


class _Accumulator(wiring.Component):
    """``acc + product`` through `accumulate`, the sign folded into the one adder."""

    def __init__(self, product, acc: IntFormat):
        self._product, self._acc = product, acc
        super().__init__({"acc": In(signed(acc.bits)), "value": In(product.value.shape()),
                          "code": In(product.code.shape()), "total": Out(signed(acc.bits))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.product = p = self._product
        m.d.comb += [p.value.eq(self.value), p.code.eq(self.code),
                     self.total.eq(accumulate(self.acc, p.term, p.negate))]
        return m


@pytest.mark.parametrize("weights, value_bits", [
    (PotWeights(e_min=0, e_max=6, values=[[0]]), 4),
    (PotWeights(e_min=2, e_max=4, values=[[0]]), 1),
    (IntWeights(bits=5, values=[[0]]), 3),
    (IntWeights(bits=4, values=[[0]]), 1),
])
def test_accumulate_adds_the_signed_product_with_the_sign_folded_into_the_adder(weights,
                                                                                value_bits):
    if isinstance(weights, PotWeights):
        codes = [0] + [s * (1 << e) for e in range(weights.e_min, weights.e_max + 1)
                       for s in (1, -1)]
        top = value_bits + weights.e_max + 1
    else:
        codes = list(range(-(1 << (weights.bits - 1)), 1 << (weights.bits - 1)))
        top = value_bits + weights.bits
    acc = IntFormat(bits=top + 3)
    product = synapse_for(weights, UIntFormat(bits=value_bits), acc)
    dut = _Accumulator(product, acc)
    rng = np.random.default_rng(0)
    cases = [(int(a), v, w) for v in range(1 << value_bits) for w in codes
             for a in rng.integers(acc.min - min(0, v * w), acc.max - max(0, v * w) + 1, 3)]
    assert any(v * w < 0 for _, v, w in cases) and any(v * w > 0 for _, v, w in cases)
    got = rtl_products(dut, weights, [(v, w) for _, v, w in cases], [a for a, _, _ in cases])
    np.testing.assert_array_equal(got, [a + v * w for a, v, w in cases])
