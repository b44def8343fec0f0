# amaranth: UnusedElaboratable=no
import itertools

import numpy as np
import pytest
from amaranth.sim import Simulator

from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.neuron import Neuron, ShiftLeak, SubtractLeak
from spikeshift.hdl.neuron import NeuronUpdate
from spikeshift.sim.golden import ref_fire, ref_leak, ref_reset


def rtl_neuron(dut, pairs):
    results = []

    async def bench(ctx):
        for v, current in pairs:
            ctx.set(dut.v, int(v))
            ctx.set(dut.current, int(current))
            await ctx.delay(1e-9)
            results.append((ctx.get(dut.v_next), ctx.get(dut.spike)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return np.array(results)


def ref_neuron(pairs, neuron):
    v, current = np.array(pairs).T
    vl = neuron.v.clip(ref_leak(v, neuron) + current)
    s = ref_fire(vl, neuron)
    return np.stack([ref_reset(vl, s, neuron), s], axis=1)


NEURONS = [
    Neuron(model="if", v=IntFormat(bits=6), threshold=7, reset="subtract"),
    Neuron(model="if", v=IntFormat(bits=6), threshold=8, reset="zero", spike_bits=2),
    Neuron(model="lif", v=IntFormat(bits=6), threshold=4, reset="none", spike_bits=3,
           leak=ShiftLeak(shift=1)),
    Neuron(model="lif", v=IntFormat(bits=6), threshold=16, reset="subtract", spike_bits=2,
           leak=ShiftLeak(shift=3)),
    Neuron(model="lif", v=IntFormat(bits=6), threshold=9, leak=SubtractLeak(amount=5)),
    Neuron(model="integrator", v=IntFormat(bits=6), leak=SubtractLeak(amount=3)),
    Neuron(model="integrator", v=IntFormat(bits=6)),
]


@pytest.mark.parametrize("neuron", NEURONS, ids=lambda n: f"{n.model}-{n.reset}-{n.leak}")
def test_neuron_update_matches_golden_model_exhaustively(neuron):
    current = IntFormat(bits=7)
    pairs = list(itertools.product(range(neuron.v.min, neuron.v.max + 1),
                                   range(current.min, current.max + 1, 3)))
    expected = ref_neuron(pairs, neuron)
    if neuron.fires:
        assert 0 < (expected[:, 1] > 0).mean() < 1
    assert (expected[:, 0] == neuron.v.max).any() and (expected[:, 0] == neuron.v.min).any() \
        or neuron.fires
    np.testing.assert_array_equal(rtl_neuron(NeuronUpdate(neuron, current), pairs), expected)
