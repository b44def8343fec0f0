# amaranth: UnusedElaboratable=no
"""The neuron update equals DESIGN.md §3 for every membrane and current of its formats.

The reference is written here from the DESIGN text alone, in Amaranth arithmetic of unbounded
width: floor division for the shift leak (``v >> k`` is floor(v / 2^k)), case analysis for the
subtract leak, a clamp, ``floor(v / θ)`` capped for multi-bit spikes, ``v - s * θ`` for the
subtract reset. For the combinational form the membrane and the current are free constants;
one step covers every pair. The staged form (the dense core's) gets new free inputs, parameters
included, in every cycle, and each output is checked against the reference of the inputs of
`latency` cycles before, so a stage that takes a value of another operation is caught.
"""

from dataclasses import replace

import pytest
from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume

from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.neuron import Neuron, ShiftLeak, SubtractLeak
from spikeshift.hdl.neuron import NeuronUpdate, parameter_ports

from .prove import prove, refute


def _clamp(value, lo, hi):
    return Mux(value < lo, lo, Mux(value > hi, hi, value))


def reference(m, neuron: Neuron, v, current, theta=None, leak_value=None):
    """(v_next, spike) of DESIGN.md §3 for membrane `v` and current `current`; `theta` and
    `leak_value` (k or c) stand for one neuron's own values of a per-neuron layer."""
    leak = neuron.leak
    if leak is None:
        leaked = v
    elif isinstance(leak, ShiftLeak):
        k = leak.shift if leak_value is None else leak_value
        leaked = v - v // (Const(1, 1) << k)
    else:
        c = leak.amount if leak_value is None else leak_value
        leaked = Mux(v > 0, Mux(v > c, v - c, 0), Mux(v < 0, Mux(v < -c, v + c, 0), 0))
    v_sat = Signal(signed(neuron.v.bits + 1), name="ref_v")
    m.d.comb += v_sat.eq(_clamp(leaked + current, neuron.v.min, neuron.v.max))
    if not neuron.fires:
        return v_sat, 0
    theta = neuron.threshold if theta is None else theta
    spike = Signal(unsigned(neuron.spike_bits + 1), name="ref_spike")
    level = _clamp(v_sat // theta, 0, neuron.spike_max)
    m.d.comb += spike.eq(Mux(v_sat >= theta, level, 0))
    if neuron.reset == "subtract":
        return v_sat - spike * theta, spike
    if neuron.reset == "zero":
        return Mux(spike > 0, 0, v_sat), spike
    return v_sat, spike


def _drive(m, dut, port: str, shape, allowed=None):
    """A free value on the port `port` of `dut` (``allowed(value)`` assumed): a constant for
    the combinational form, a new one every cycle for the staged form; returned as the
    reference sees it, `latency` cycles later."""
    value = (AnySeq if dut.latency else AnyConst)(shape)
    m.d.comb += getattr(dut, port).eq(value)
    if allowed is not None:
        m.d.comb += Assume(allowed(value))
    for stage in range(dut.latency):
        later = Signal(shape, name=f"ref_{port}_{stage + 1}")
        m.d.sync += later.eq(value)
        value = later
    return value


def _check(m, dut, *asserts):
    """`asserts` in every cycle whose outputs come from inputs the harness drove."""
    if not dut.latency:
        m.d.comb += asserts
        return
    cycles = Signal(range(dut.latency + 1), name="cycles")
    with m.If(cycles < dut.latency):
        m.d.sync += cycles.eq(cycles + 1)
    with m.Else():
        m.d.comb += asserts


def _depth(dut) -> int:
    """Proof depth: the combinational step, or the pipeline filled and two operations more."""
    return dut.latency + 2 if dut.latency else 1


def harness(dut: NeuronUpdate, neuron: Neuron, current: IntFormat) -> Module:
    m = Module()
    m.submodules.dut = dut
    v = _drive(m, dut, "v", signed(neuron.v.bits))
    i = _drive(m, dut, "current", signed(current.bits))
    v_next, spike = reference(m, neuron, v, i)
    _check(m, dut, Assert(dut.v_next == v_next), Assert(dut.spike == spike))
    return m


def _fmt(bits):
    return IntFormat(bits=bits)


# (neuron, current format): IF and LIF, shift and subtract leak, every reset, binary and
# multi-bit spikes (up to the 8-bit maximum), membranes from 4 to 48 bits, currents narrower
# and wider than the membrane.
CASES = [
    (Neuron(model="if", v=_fmt(16), threshold=64, reset="subtract"), _fmt(20)),
    (Neuron(model="if", v=_fmt(4), threshold=3, reset="zero"), _fmt(6)),
    (Neuron(model="if", v=_fmt(6), threshold=4, reset="zero", spike_bits=2), _fmt(7)),
    (Neuron(model="if", v=_fmt(12), threshold=5, reset="none"), _fmt(8)),
    (Neuron(model="lif", v=_fmt(8), threshold=2, reset="none", spike_bits=3,
            leak=ShiftLeak(shift=1)), _fmt(9)),
    (Neuron(model="lif", v=_fmt(16), threshold=16, reset="subtract", spike_bits=2,
            leak=ShiftLeak(shift=3)), _fmt(18)),
    (Neuron(model="lif", v=_fmt(10), threshold=1, reset="subtract", leak=ShiftLeak(shift=0)),
     _fmt(10)),
    (Neuron(model="lif", v=_fmt(12), threshold=9, reset="zero", leak=SubtractLeak(amount=5)),
     _fmt(14)),
    (Neuron(model="lif", v=_fmt(32), threshold=1000, reset="subtract",
            leak=SubtractLeak(amount=40000)), _fmt(24)),
    (Neuron(model="integrator", v=_fmt(20), leak=SubtractLeak(amount=3)), _fmt(22)),
    (Neuron(model="integrator", v=_fmt(32)), _fmt(40)),
    (Neuron(model="integrator", v=_fmt(9), leak=ShiftLeak(shift=2)), _fmt(5)),
    (Neuron(model="lif", v=_fmt(24), threshold=16, reset="subtract", spike_bits=2,
            leak=ShiftLeak(shift=3)), _fmt(28)),
    (Neuron(model="lif", v=_fmt(48), threshold=1 << 20, reset="subtract", spike_bits=8,
            leak=ShiftLeak(shift=7)), _fmt(56)),
]


def _id(case):
    n, cur = case
    leak = {None: "noleak", ShiftLeak: "shift", SubtractLeak: "sub"}[type(n.leak) if n.leak
                                                                   else None]
    return f"{n.model}-{leak}-{n.reset}-s{n.spike_bits}-v{n.v.bits}-i{cur.bits}"


STAGED = pytest.mark.parametrize("staged", [False, True], ids=["combinational", "staged"])


@STAGED
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_neuron_update_equals_design_for_every_membrane_and_current(case, staged, tmp_path):
    neuron, current = case
    dut = NeuronUpdate(neuron, current, staged=staged)
    prove(harness(dut, neuron, current), tmp_path, depth=_depth(dut))


class Mutant(NeuronUpdate):
    """A NeuronUpdate that elaborates a changed neuron behind the original's ports."""

    def __init__(self, neuron, current, *, staged=False, **change):
        super().__init__(neuron, current, staged=staged)
        self._changed = replace(neuron, **change)

    def elaborate(self, platform):
        original, self._neuron = self._neuron, self._changed
        try:
            return super().elaborate(platform)
        finally:
            self._neuron = original


LIF = Neuron(model="lif", v=_fmt(8), threshold=4, reset="subtract", spike_bits=2,
             leak=ShiftLeak(shift=2))
SUB = Neuron(model="lif", v=_fmt(8), threshold=6, reset="subtract", leak=SubtractLeak(amount=3))
MUTANTS = {
    # a sum that wraps instead of saturating: clamping to a wider format, then truncating
    "wraps": (LIF, {"v": _fmt(9)}),
    "fires-above-threshold": (SUB, {"threshold": 7}),
    "leak-shift": (LIF, {"leak": ShiftLeak(shift=3)}),
    "leak-subtract": (SUB, {"leak": SubtractLeak(amount=4)}),
    "reset-zero-for-subtract": (LIF, {"reset": "zero"}),
    "reset-none-for-subtract": (SUB, {"reset": "none"}),
    "spike-cap": (LIF, {"spike_bits": 1}),
}


@STAGED
@pytest.mark.parametrize("name", MUTANTS)
def test_neuron_proof_catches_mutant(name, staged, tmp_path):
    neuron, change = MUTANTS[name]
    current = _fmt(9)
    dut = Mutant(neuron, current, staged=staged, **change)
    failures = refute(harness(dut, neuron, current), tmp_path, depth=_depth(dut))
    assert "Assert failed" in failures


class Misaligned(NeuronUpdate):
    """A staged update with one value a cycle off: `name` (a `_stage` register) is skipped, or
    registered twice."""

    def __init__(self, neuron, current, *, name: str, extra: bool):
        super().__init__(neuron, current, staged=True)
        self._wrong, self._extra = name, extra

    def _stage(self, m, value, name):
        if name != self._wrong:
            return super()._stage(m, value, name)
        if not self._extra:
            return value
        return super()._stage(m, super()._stage(m, value, name), f"{name}_again")


# Per-neuron layers (DESIGN.md §3.1): the parameter ports take any value a neuron of the layer
# may have (θ in [1, largest], log2 θ, k and c up to the largest), proved for all at once.
PER_NEURON = [
    (Neuron(model="if", v=_fmt(10), threshold=[3, 300], reset="subtract"), _fmt(12)),
    (Neuron(model="if", v=_fmt(10), threshold=[1, 64], reset="zero", spike_bits=3), _fmt(11)),
    (Neuron(model="lif", v=_fmt(12), threshold=[4, 256], reset="subtract", spike_bits=2,
            leak=ShiftLeak(shift=[0, 9])), _fmt(13)),
    (Neuron(model="lif", v=_fmt(12), threshold=[9, 700], reset="none",
            leak=SubtractLeak(amount=[0, 900])), _fmt(10)),
    (Neuron(model="integrator", v=_fmt(16), leak=ShiftLeak(shift=[1, 20])), _fmt(14)),
    # cuba_lif: the synaptic current is free too (any I of its format, any k_syn)
    (Neuron(model="cuba_lif", v=_fmt(12), threshold=40, reset="subtract", syn_shift=3,
            i=_fmt(10)), _fmt(12)),
    (Neuron(model="cuba_lif", v=_fmt(10), threshold=[2, 128], reset="zero", spike_bits=2,
            syn_shift=[0, 12], i=_fmt(14), leak=SubtractLeak(amount=[1, 70])), _fmt(9)),
]


def _range_of(neuron: Neuron, port: str):
    """The values a lane's parameter port `port` may hold: those of the layer's neurons' range."""
    largest = {"threshold": lambda: neuron.threshold_max,
               "threshold_shift": lambda: int(neuron.threshold_shift.max()),
               "leak_shift": lambda: int(neuron.leak.values(1).max()),
               "leak_amount": lambda: int(neuron.leak.values(1).max()),
               "syn_shift": lambda: int(neuron.syn_shift.max())}[port]()
    least = 1 if port == "threshold" else 0
    return lambda value: (value >= least) & (value <= largest)


def per_neuron_harness(neuron: Neuron, current: IntFormat, dut) -> Module:
    m = Module()
    m.submodules.dut = dut
    v = _drive(m, dut, "v", signed(neuron.v.bits))
    i = _drive(m, dut, "current", signed(current.bits))
    values = {name: _drive(m, dut, name, shape, _range_of(neuron, name))
              for name, shape in parameter_ports(neuron).items()}
    if "threshold" in values:
        theta = values["threshold"]
    elif "threshold_shift" in values:
        theta = Const(1, 1) << values["threshold_shift"]
    else:
        theta = None
    leak_value = values.get("leak_shift", values.get("leak_amount"))
    if neuron.has_synapse:                      # I' = sat_i(I - floor(I / 2^k_syn) + input)
        syn = _drive(m, dut, "syn", signed(neuron.i.bits))
        k_syn = values.get("syn_shift", neuron.syn_shift)
        syn_next = Signal(signed(neuron.i.bits), name="ref_syn")
        m.d.comb += syn_next.eq(_clamp(syn - syn // (Const(1, 1) << k_syn) + i,
                                       neuron.i.min, neuron.i.max))
        asserts = [Assert(dut.syn_next == syn_next)]
        i = syn_next
    else:
        asserts = []
    v_next, spike = reference(m, neuron, v, i, theta=theta, leak_value=leak_value)
    _check(m, dut, *asserts, Assert(dut.v_next == v_next), Assert(dut.spike == spike))
    return m


@STAGED
@pytest.mark.parametrize("case", PER_NEURON, ids=[_id(c) for c in PER_NEURON])
def test_per_neuron_update_equals_design_for_every_parameter_membrane_and_current(case, staged,
                                                                                  tmp_path):
    neuron, current = case
    dut = NeuronUpdate(neuron, current, staged=staged)
    prove(per_neuron_harness(neuron, current, dut), tmp_path, depth=_depth(dut))


@STAGED
def test_per_neuron_proof_catches_a_core_that_ignores_the_threshold_port(staged, tmp_path):
    neuron, current = PER_NEURON[0]
    mutant = Mutant(neuron, current, staged=staged, threshold=300)
    failures = refute(per_neuron_harness(neuron, current, mutant), tmp_path,
                      depth=_depth(mutant))
    assert "Assert failed" in failures


# A staged update that reads a value of the operation before or after: the per-neuron
# threshold in the stage that reads it, the partial results between stages, the synaptic
# current of a cuba_lif neuron.
MISALIGNED = {
    "threshold-not-delayed": (PER_NEURON[0], "threshold_1", False),
    "threshold-late": (PER_NEURON[2], "threshold_shift_3", True),
    "leak-late": (PER_NEURON[2], "leaked", True),
    "sum-twice-registered": (PER_NEURON[3], "total", True),
    "current-not-registered": (PER_NEURON[4], "current", False),
    "syn-next-early": (PER_NEURON[5], "syn_next_3", False),
}


@pytest.mark.parametrize("name", MISALIGNED)
def test_staged_proof_catches_a_value_of_another_operation(name, tmp_path):
    (neuron, current), stage, extra = MISALIGNED[name]
    mutant = Misaligned(neuron, current, name=stage, extra=extra)
    failures = refute(per_neuron_harness(neuron, current, mutant), tmp_path,
                      depth=_depth(mutant))
    assert "Assert failed" in failures
