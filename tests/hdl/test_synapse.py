# amaranth: UnusedElaboratable=no
import numpy as np
import pytest
from amaranth.sim import Simulator

from spikeshift.gen.ir.formats import IntFormat, UIntFormat
from spikeshift.gen.ir.weights import IntWeights, PotWeights
from spikeshift.hdl.layouts import weight_code
from spikeshift.hdl.synapse import IntProduct, PotShifter


def rtl_products(dut, weights, cases):
    out = []

    async def bench(ctx):
        for value, w in cases:
            ctx.set(dut.value, value)
            ctx.set(dut.code, weight_code(weights, w))
            await ctx.delay(1e-9)
            out.append(ctx.get(dut.addend))

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
