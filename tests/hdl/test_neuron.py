# amaranth: UnusedElaboratable=no
import itertools

import numpy as np
import pytest
from amaranth.sim import Simulator

from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.neuron import UPDATE_STAGES, Neuron, ShiftLeak, SubtractLeak
from spikeshift.hdl.neuron import NeuronUpdate, neuron_parameters, parameter_ports
from spikeshift.sim.golden import ref_fire, ref_leak, ref_reset, ref_synapse


def rtl_updates(dut, operations: list[dict], outputs=("v_next", "spike")):
    """The `outputs` of each operation (port -> value): one after another through the
    combinational form, one per cycle through the staged form, each read `dut.latency` cycles
    after its inputs were presented."""
    results = []
    latency = dut.latency

    async def bench(ctx):
        for cycle in range(len(operations) + latency):
            if cycle < len(operations):
                for name, value in operations[cycle].items():
                    ctx.set(getattr(dut, name), int(value))
            if not latency:
                await ctx.delay(1e-9)
            if cycle >= latency:
                results.append([ctx.get(getattr(dut, name)) for name in outputs])
            if latency:
                await ctx.tick()

    sim = Simulator(dut)
    if latency:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(results)


def rtl_neuron(dut, pairs, parameters: dict | None = None):
    """(v_next, spike) per (v, current) pair, the parameter ports (if any) held at
    `parameters`."""
    return rtl_updates(dut, [{"v": v, "current": current, **(parameters or {})}
                             for v, current in pairs])


STAGED = pytest.mark.parametrize("staged", [False, True], ids=["combinational", "staged"])


def ref_neuron(pairs, neuron):
    """(v_next, spike) per pair, and the pre-reset total leak(v) + current before saturation."""
    v, current = np.array(pairs).T
    total = ref_leak(v, neuron) + current
    vl = neuron.v.clip(total)
    s = ref_fire(vl, neuron)
    return np.stack([ref_reset(vl, s, neuron), s], axis=1), total


# Small formats so that every (v, current) pair is simulated; the current's range is wider than
# the membrane's, so sums saturate at both ends, and every multi-bit threshold is small enough
# that floor(v / threshold) exceeds the spike cap.
V, CURRENT = IntFormat(bits=6), IntFormat(bits=7)
NEURONS = [
    Neuron(model="if", v=V, threshold=7, reset="subtract"),
    Neuron(model="if", v=V, threshold=4, reset="zero", spike_bits=2),
    Neuron(model="lif", v=V, threshold=2, reset="none", spike_bits=3, leak=ShiftLeak(shift=1)),
    Neuron(model="lif", v=V, threshold=2, reset="subtract", spike_bits=2,
           leak=ShiftLeak(shift=3)),
    Neuron(model="lif", v=V, threshold=9, leak=SubtractLeak(amount=5)),
    Neuron(model="integrator", v=V, leak=SubtractLeak(amount=3)),
    Neuron(model="integrator", v=V),
]


@STAGED
@pytest.mark.parametrize("neuron", NEURONS, ids=lambda n: f"{n.model}-{n.reset}-{n.leak}")
def test_neuron_update_matches_golden_model_on_every_membrane_and_current(neuron, staged):
    pairs = list(itertools.product(range(neuron.v.min, neuron.v.max + 1),
                                   range(CURRENT.min, CURRENT.max + 1)))
    assert len(pairs) == 1 << (neuron.v.bits + CURRENT.bits)
    expected, total = ref_neuron(pairs, neuron)
    saturated = neuron.v.clip(total)
    # the stimulus drives sat(leak(v) + current) past both ends and onto both limits
    assert (total > neuron.v.max).any() and (total < neuron.v.min).any()
    assert (saturated == neuron.v.max).any() and (saturated == neuron.v.min).any()
    spikes = expected[:, 1]
    if neuron.fires:
        assert set(spikes.tolist()) == set(range(neuron.spike_max + 1))
        if neuron.spike_bits > 1:
            assert (saturated // neuron.threshold > neuron.spike_max).any()
    else:
        assert not spikes.any()
    got = rtl_neuron(NeuronUpdate(neuron, CURRENT, staged=staged), pairs)
    np.testing.assert_array_equal(got, expected)


def _neuron_j(neuron: Neuron, j: int) -> Neuron:
    """Neuron j of a layer with per-neuron values, as a neuron whose values are single."""
    leak = neuron.leak
    if isinstance(leak, ShiftLeak):
        leak = ShiftLeak(shift=int(leak.values(j + 1)[j]))
    elif isinstance(leak, SubtractLeak):
        leak = SubtractLeak(amount=int(leak.values(j + 1)[j]))
    theta = None if neuron.threshold is None else int(neuron.threshold_array(j + 1)[j])
    synapse = {}
    if neuron.has_synapse:
        k = neuron.syn_shift
        synapse = {"syn_shift": int(k[j]) if isinstance(k, np.ndarray) else k, "i": neuron.i}
    return Neuron(model=neuron.model, v=neuron.v, threshold=theta, leak=leak,
                  reset=neuron.reset, spike_bits=neuron.spike_bits, **synapse)


PER_NEURON = [
    Neuron(model="if", v=V, threshold=[7, 1, 31, 12], reset="subtract"),
    Neuron(model="if", v=V, threshold=[4, 1, 16, 2], reset="zero", spike_bits=2),
    Neuron(model="lif", v=V, threshold=[2, 8, 1, 4], reset="subtract", spike_bits=3,
           leak=ShiftLeak(shift=[1, 0, 5, 3])),
    Neuron(model="lif", v=V, threshold=9, reset="none", leak=ShiftLeak(shift=[1, 0, 5, 3])),
    Neuron(model="lif", v=V, threshold=[9, 3, 20, 5], leak=SubtractLeak(amount=[5, 0, 40, 1])),
    Neuron(model="integrator", v=V, leak=SubtractLeak(amount=[3, 0, 64, 7])),
]


@STAGED
@pytest.mark.parametrize("neuron", PER_NEURON, ids=lambda n: f"{n.model}-{n.reset}-{n.leak}")
def test_per_neuron_parameter_ports_give_each_neuron_its_own_update(neuron, staged):
    dut = NeuronUpdate(neuron, CURRENT, staged=staged)
    parameters = neuron_parameters(neuron, 4)
    assert set(parameters) and set(parameters) == set(parameter_ports(neuron))
    pairs = list(itertools.product(range(neuron.v.min, neuron.v.max + 1),
                                   range(CURRENT.min, CURRENT.max + 1)))
    outputs = []
    for j in range(4):
        expected, _ = ref_neuron(pairs, _neuron_j(neuron, j))
        got = rtl_neuron(dut, pairs, {name: values[j] for name, values in parameters.items()})
        np.testing.assert_array_equal(got, expected)
        outputs.append(expected)
    # the neurons really differ
    assert all(not np.array_equal(outputs[0], other) for other in outputs[1:])


CUBA = [
    Neuron(model="cuba_lif", v=V, threshold=7, reset="subtract", syn_shift=1,
           i=IntFormat(bits=5)),
    Neuron(model="cuba_lif", v=V, threshold=[2, 8, 1, 4], reset="zero", spike_bits=2,
           syn_shift=[0, 2, 62, 3], i=IntFormat(bits=4), leak=ShiftLeak(shift=2)),
    Neuron(model="cuba_lif", v=V, threshold=9, reset="none", syn_shift=[3, 1, 0, 2],
           i=IntFormat(bits=7), leak=SubtractLeak(amount=[5, 0, 2, 1])),
]


def rtl_cuba(dut, triples, parameters: dict):
    return rtl_updates(dut, [{"v": v, "syn": syn, "current": current, **parameters}
                             for v, syn, current in triples], ("v_next", "spike", "syn_next"))


@STAGED
@pytest.mark.parametrize("neuron", CUBA, ids=lambda n: f"{n.reset}-{n.leak}-s{n.spike_bits}")
def test_cuba_lif_update_decays_saturates_and_feeds_its_synaptic_current(neuron, staged):
    rng = np.random.default_rng(0)
    dut = NeuronUpdate(neuron, CURRENT, staged=staged)
    parameters = neuron_parameters(neuron, 4)
    i = neuron.i
    triples = np.stack([rng.integers(neuron.v.min, neuron.v.max + 1, 1500),
                        rng.integers(i.min, i.max + 1, 1500),
                        rng.integers(CURRENT.min, CURRENT.max + 1, 1500)], axis=1)
    for j in range(4 if parameters else 1):
        one = _neuron_j(neuron, j)
        syn_next = ref_synapse(triples[:, 1], triples[:, 2], one)
        assert (syn_next == i.max).any() and (syn_next == i.min).any()    # I saturates
        expected, _ = ref_neuron(np.stack([triples[:, 0], syn_next], axis=1), one)
        got = rtl_cuba(dut, triples, {name: values[j] for name, values in parameters.items()})
        np.testing.assert_array_equal(got[:, 2], syn_next)
        np.testing.assert_array_equal(got[:, :2], expected)


@pytest.mark.parametrize("neuron", PER_NEURON + CUBA,
                         ids=lambda n: f"{n.model}-{n.reset}-{n.leak}")
def test_staged_update_keeps_each_operations_own_values_when_they_change_every_cycle(neuron):
    # operation c is neuron c % 4 with random inputs: every stage must hold its own operation's
    # parameters, membrane and current while the next operations enter behind it
    rng = np.random.default_rng(1)
    dut = NeuronUpdate(neuron, CURRENT, staged=True)
    assert dut.latency == UPDATE_STAGES == 3
    parameters = neuron_parameters(neuron, 4)
    count = 4000
    j = np.arange(count) % 4
    columns = {"v": rng.integers(neuron.v.min, neuron.v.max + 1, count),
               "current": rng.integers(CURRENT.min, CURRENT.max + 1, count)}
    outputs = ("v_next", "spike")
    if neuron.has_synapse:
        columns["syn"] = rng.integers(neuron.i.min, neuron.i.max + 1, count)
        outputs += ("syn_next",)
    operations = [{**{name: values[c] for name, values in columns.items()},
                   **{name: values[j[c]] for name, values in parameters.items()}}
                  for c in range(count)]
    got = rtl_updates(dut, operations, outputs)
    expected = np.zeros_like(got)
    for lane in range(4):
        one, rows = _neuron_j(neuron, lane), j == lane
        current = columns["current"][rows]
        if neuron.has_synapse:
            current = ref_synapse(columns["syn"][rows], current, one)
            expected[rows, 2] = current
        expected[rows, :2], _ = ref_neuron(np.stack([columns["v"][rows], current], axis=1), one)
    fired = expected[:, 1] != 0
    assert not neuron.fires or 0 < fired.sum() < count           # fires, and not always
    np.testing.assert_array_equal(got, expected)
