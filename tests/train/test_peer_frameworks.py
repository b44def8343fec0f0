"""Norse, SpikingJelly and Sinabs networks simulated by the frameworks themselves, exported
with their own NIR exporters and imported with their presets: every spiking layer's spike
trains identical, or a refusal naming the node and the parameter."""

import warnings
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import norse.torch as nt  # noqa: E402
import sinabs  # noqa: E402
import sinabs.activation as sa  # noqa: E402
import sinabs.layers as sl  # noqa: E402
from norse.torch.functional.lif_box import LIFBoxParameters  # noqa: E402
from norse.torch.functional.reset import reset_subtract  # noqa: E402
from spikingjelly.activation_based import functional, layer, neuron  # noqa: E402
from spikingjelly.activation_based.nir_exchange import export_to_nir as sj_export  # noqa: E402

import spikeshift  # noqa: E402
from spikeshift.gen.frontends.nir import PRESETS, ImportError_, import_nir  # noqa: E402

from .integers import binary, integer_parameters  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")


def assert_imports_exactly(graph, preset, x, expected, timesteps, **options):
    """Import `graph`, run the golden model on `x` (batch, T, ...) and compare every spiking
    layer with `expected` (per layer, (batch, T, ...) from the framework)."""
    imported = import_nir(graph, conventions=preset, timesteps=timesteps, **options)
    trace = spikeshift.trace(imported.network, x.reshape(len(x), timesteps, -1))
    got = [s for layer, s in zip(imported.network.layers, trace.spikes)
           if layer.neuron is not None and layer.neuron.fires]
    assert len(got) == len(expected)
    assert sum(int(e.sum()) for e in expected) > 0
    for index, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_array_equal(g, e.reshape(len(x), timesteps, -1),
                                      err_msg=f"spiking layer {index}")
    return imported


# ---- Norse: cells stepped by hand, state passed explicitly ----

NORSE_CELLS = (nt.IAFCell, nt.LIFBoxCell, nt.LIFCell)


def norse_spikes(model, x):
    model.return_hidden = True
    state, records = None, {i: [] for i, m in enumerate(model) if isinstance(m, NORSE_CELLS)}
    with torch.no_grad():
        for t in range(x.shape[1]):
            hidden, state = model(torch.tensor(x[:, t], dtype=torch.float32), state)
            for i in records:
                records[i].append(hidden[i].numpy().copy())
    model.return_hidden = False
    return [np.stack(r, 1).astype(np.int64) for r in records.values()]


def iaf(theta):
    return nt.IAFCell(nt.IAFParameters(v_th=torch.tensor(float(theta))))


def lif_box(step_factor, theta, dt=1e-3, reset=None):
    """A LIFBoxCell whose per-step factor dt * tau_mem_inv is `step_factor`."""
    options = {} if reset is None else {"reset_method": reset}
    return nt.LIFBoxCell(LIFBoxParameters(tau_mem_inv=torch.tensor(step_factor / dt),
                                          v_th=torch.tensor(float(theta)), **options), dt=dt)


def norse_export(model, sample):
    return nt.to_nir(model, sample, dt=1e-3)


@pytest.mark.parametrize("seed", range(6))
def test_norse_iaf_network_imports_exactly(seed):
    """IAFCell adds its input without dt: the import must not apply dt * r = 1e-3."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 12, 3)
    model = integer_parameters(nt.SequentialState(torch.nn.Linear(sizes[0], sizes[1]),
                                        iaf(rng.integers(1, 5)),
                                        torch.nn.Linear(sizes[1], sizes[2]),
                                        iaf(rng.integers(1, 5))), rng)
    x = binary(rng, 8, 10, sizes[0])
    imported = assert_imports_exactly(norse_export(model, torch.zeros(1, sizes[0])),
                                      PRESETS["norse"], x, norse_spikes(model, x), 10)
    np.testing.assert_array_equal(imported.network.layers[0].weights.values,
                                  model[0].weight.detach().numpy().astype(np.int64))


@pytest.mark.parametrize("reset", [None, reset_subtract])
def test_norse_lif_box_with_a_full_step_decay_is_stateless_and_exact(reset):
    """dt * tau_mem_inv = 1 is β = 0 (Norse exports τ = dt / tau_mem_inv: the step factor is
    dt²/τ); the subtractive reset is not in the export, so --reset says it."""
    rng = np.random.default_rng(3)
    model = nt.SequentialState(torch.nn.Linear(8, 6), lif_box(1.0, 2, reset=reset),
                               torch.nn.Linear(6, 4), lif_box(1.0, 1, reset=reset))
    integer_parameters(model, rng)
    preset = PRESETS["norse"] if reset is None else replace(PRESETS["norse"], reset="subtract")
    x = binary(rng, 8, 6, 8)
    imported = assert_imports_exactly(norse_export(model, torch.zeros(1, 8)), preset, x,
                                      norse_spikes(model, x), 6)
    assert imported.network.layers[0].neuron.leak.shift == 0


def test_norse_lif_box_with_a_half_decay_imports_exactly_and_another_is_refused():
    rng = np.random.default_rng(5)
    model = nt.SequentialState(torch.nn.Linear(8, 6), lif_box(0.5, 2), torch.nn.Linear(6, 4),
                               iaf(1))
    integer_parameters(model, rng)
    x = binary(rng, 8, 6, 8)
    imported = assert_imports_exactly(norse_export(model, torch.zeros(1, 8)), PRESETS["norse"],
                                      x, norse_spikes(model, x), 6)
    assert imported.network.layers[0].neuron.leak.shift == 1
    model = nt.SequentialState(torch.nn.Linear(4, 3), lif_box(0.3, 2))
    with pytest.raises(ImportError_, match=r"^node '1' parameter tau: beta = 0.7 leaks by a "
                                           r"fraction"):
        import_nir(norse_export(model, torch.zeros(1, 4)), conventions=PRESETS["norse"],
                   timesteps=4)


def test_norse_conv_network_imports_exactly():
    rng = np.random.default_rng(4)
    model = integer_parameters(nt.SequentialState(torch.nn.Conv2d(1, 3, 3, padding=1), iaf(2),
                                        torch.nn.Conv2d(3, 2, 3, stride=2), iaf(1)), rng)
    x = binary(rng, 4, 5, 1, 7, 7)
    graph = norse_export(model, torch.zeros(1, 1, 7, 7))
    assert_imports_exactly(graph, PRESETS["norse"], x, norse_spikes(model, x), 5)


def test_norse_modules_it_cannot_export_are_refused_as_empty_nodes():
    model = nt.SequentialState(torch.nn.Conv2d(1, 2, 3), iaf(1), torch.nn.AvgPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(8, 2), iaf(1))
    integer_parameters(model, np.random.default_rng(0))
    with pytest.raises(ImportError_, match=r"^node '2' is empty: the exporter could not map"):
        import_nir(norse_export(model, torch.zeros(1, 1, 6, 6)), conventions=PRESETS["norse"],
                   timesteps=3)


def test_norse_current_based_lif_with_its_default_decays_is_refused_naming_the_node():
    """Norse's default LIFCell decays its membrane by dt * tau_mem_inv = 0.1 per step."""
    model = nt.SequentialState(torch.nn.Linear(4, 3), nt.LIFCell())
    with pytest.raises(ImportError_, match=r"^node '1' parameter tau: beta = 0.9 leaks by a "
                                           r"fraction"):
        import_nir(norse_export(model, torch.zeros(1, 4)), conventions=PRESETS["norse"],
                   timesteps=3)


def test_norse_current_based_lif_with_a_halving_current_imports_exactly():
    """LIFCell with dt * tau_syn_inv = 1/2 (alpha = 1 - 2^-1) and dt * tau_mem_inv = 1 (beta =
    0): Norse adds its input to the current, then v follows it; a cuba_lif with syn_shift 1."""
    rng = np.random.default_rng(6)
    dt = 1e-3

    def cell(theta):
        return nt.LIFCell(nt.LIFParameters(tau_syn_inv=torch.tensor(0.5 / dt),
                                           tau_mem_inv=torch.tensor(1.0 / dt),
                                           v_th=torch.tensor(float(theta))), dt=dt)
    model = nt.SequentialState(torch.nn.Linear(8, 6), cell(2), torch.nn.Linear(6, 3), cell(1))
    integer_parameters(model, rng)
    x = binary(rng, 8, 6, 8)
    imported = assert_imports_exactly(norse_export(model, torch.zeros(1, 8)), PRESETS["norse"],
                                      x, norse_spikes(model, x), 6)
    neuron = imported.network.layers[0].neuron
    assert neuron.model == "cuba_lif" and neuron.syn_shift == 1


# ---- SpikingJelly: single-step mode, functional.reset_net between sequences ----

def sj_spikes(model, x):
    functional.reset_net(model)
    records, hooks = {}, []
    for name, m in model.named_modules():
        if isinstance(m, neuron.BaseNode):
            records[name] = []
            hooks.append(m.register_forward_hook(
                lambda mod, i, o, name=name: records[name].append(o.detach().numpy().copy())))
    with torch.no_grad():
        for t in range(x.shape[1]):
            model(torch.tensor(x[:, t], dtype=torch.float32))
    for hook in hooks:
        hook.remove()
    functional.reset_net(model)
    return [np.stack(r, 1).astype(np.int64) for r in records.values()]


def test_spikingjelly_cuba_lif_node_imports_exactly():
    """CUBALIFNode: c = c * c_decay + x, h = v * v_decay + c; both decays 1/2 (1 - 2^-1)."""
    rng = np.random.default_rng(2)

    def cuba(theta):
        return neuron.CUBALIFNode(c_decay=0.5, v_decay=0.5, v_threshold=float(theta),
                                  v_reset=0.0)
    model = integer_parameters(torch.nn.Sequential(layer.Linear(8, 5), cuba(3),
                                                   layer.Linear(5, 3), cuba(2)), rng)
    x = binary(rng, 8, 6, 8)
    imported = assert_imports_exactly(sj_export(model, torch.zeros(1, 8), dt=1e-4),
                                      PRESETS["spikingjelly"], x, sj_spikes(model, x), 6)
    assert imported.network.layers[0].neuron.model == "cuba_lif"


def sj_if(theta, v_reset=0.0):
    return neuron.IFNode(v_threshold=float(theta), v_reset=float(v_reset))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("v_reset", [0.0, -1.0, 1.0])
def test_spikingjelly_if_network_imports_exactly(seed, v_reset):
    """Exported with dt = 1e-4 (IF r = 1/dt); a hard reset to v_reset ≠ 0, where the
    membrane also starts, is an offset membrane with θ - v_reset."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 12, 3)
    model = integer_parameters(torch.nn.Sequential(layer.Linear(sizes[0], sizes[1]),
                                         sj_if(rng.integers(2, 5), v_reset),
                                         layer.Linear(sizes[1], sizes[2]),
                                         sj_if(rng.integers(2, 5), v_reset)), rng)
    x = binary(rng, 8, 10, sizes[0])
    imported = assert_imports_exactly(sj_export(model, torch.zeros(1, sizes[0]), dt=1e-4),
                                      PRESETS["spikingjelly"], x, sj_spikes(model, x), 10)
    assert ("v_reset" in imported.notes[0]) == (v_reset != 0)


@pytest.mark.parametrize("decay_input", [True, False])
def test_spikingjelly_lif_with_tau_two_imports_exactly_at_the_leak_scale(decay_input):
    """LIFNode(tau=2) halves v each step (beta = 1/2 = 1 - 2^-1): exact for T steps at an extra
    scale 2^T; its exported tau * dt is read with dt = 1e-4 (dt = 1 would give beta -4999)."""
    rng = np.random.default_rng(1)
    model = integer_parameters(torch.nn.Sequential(
        layer.Linear(8, 5), neuron.LIFNode(tau=2.0, v_threshold=2.0, decay_input=decay_input),
        layer.Linear(5, 3), sj_if(1)), rng)
    x = binary(rng, 8, 6, 8)
    imported = assert_imports_exactly(sj_export(model, torch.zeros(1, 8), dt=1e-4),
                                      PRESETS["spikingjelly"], x, sj_spikes(model, x), 6)
    assert imported.network.layers[0].neuron.leak.shift == 1
    assert imported.notes[0]["scale"].endswith("·2^6")


def test_spikingjelly_lif_with_another_tau_is_refused_naming_the_node():
    model = integer_parameters(torch.nn.Sequential(
        layer.Linear(8, 5), neuron.LIFNode(tau=3.0, v_threshold=2.0), layer.Linear(5, 3),
        sj_if(1)), np.random.default_rng(1))
    with pytest.raises(ImportError_, match=r"^node '_1' parameter tau: beta = 0.666667 leaks "
                                           r"by a fraction of v each step that is not 1 - 2\^-k"):
        import_nir(sj_export(model, torch.zeros(1, 8), dt=1e-4),
                   conventions=PRESETS["spikingjelly"], timesteps=6)


@pytest.mark.parametrize("seed", range(4))
def test_spikingjelly_conv_network_imports_exactly(seed):
    rng = np.random.default_rng(seed)
    c2_stride = int(rng.integers(1, 3))
    out = (4 - 3) // c2_stride + 1
    model = integer_parameters(torch.nn.Sequential(
        layer.Conv2d(1, 3, 3, padding=1), sj_if(2), layer.AvgPool2d(2),
        layer.Conv2d(3, 4, 3, stride=c2_stride), sj_if(1), layer.Flatten(),
        layer.Linear(4 * out * out, 3), sj_if(1)), rng)
    x = binary(rng, 4, 6, 1, 8, 8)
    assert_imports_exactly(sj_export(model, torch.zeros(1, 1, 8, 8), dt=1e-4),
                           PRESETS["spikingjelly"], x, sj_spikes(model, x), 6)


# ---- Sinabs: layers loop over time themselves; reset_states between sequences ----

def sinabs_spikes(model, x, squeeze=False):
    sinabs.reset_states(model)
    records, hooks = {}, []
    for name, m in model.named_modules():
        if isinstance(m, sl.StatefulLayer):
            hooks.append(m.register_forward_hook(
                lambda mod, i, o, name=name: records.__setitem__(name, o.detach())))
    batch, steps = x.shape[:2]
    data = torch.tensor(x, dtype=torch.float32)
    with torch.no_grad():
        model(data.reshape(batch * steps, *x.shape[2:]) if squeeze else data)
    for hook in hooks:
        hook.remove()
    sinabs.reset_states(model)
    return [v.reshape(batch, steps, -1).numpy().astype(np.int64) for v in records.values()]


def sinabs_dense(rng, sizes, **iaf):
    model = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), sl.IAF(**iaf),
                                torch.nn.Linear(sizes[1], sizes[2]), sl.IAF(**iaf))
    return integer_parameters(model, rng)


def sinabs_graph(model, fan_in, steps):
    return sinabs.to_nir(model, torch.zeros(1, steps, fan_in))


@pytest.mark.parametrize("seed", range(4))
def test_sinabs_multispike_with_a_power_of_two_threshold_imports_as_multi_bit_spikes(seed):
    """Sinabs' default spike function counts floor(v/θ) spikes, unbounded; the import gives the
    spike bits that the largest possible count needs."""
    rng = np.random.default_rng(seed)
    model = sinabs_dense(rng, (10, 8, 4), spike_threshold=torch.tensor(2.0))
    x = binary(rng, 8, 6, 10)
    expected = sinabs_spikes(model, x)
    assert max(int(e.max()) for e in expected) > 1       # really multi-spike
    imported = assert_imports_exactly(sinabs_graph(model, 10, 6), PRESETS["sinabs"], x,
                                      expected, 6)
    assert imported.network.layers[0].neuron.spike_bits > 1


def test_sinabs_multispike_with_another_threshold_is_refused():
    model = sinabs_dense(np.random.default_rng(0), (10, 8, 4),
                         spike_threshold=torch.tensor(3.0))
    with pytest.raises(ImportError_, match=r"parameter v_threshold: 3 \(at the layer's integer "
                                           r"scale\) is not a power of two"):
        import_nir(sinabs_graph(model, 10, 6), conventions=PRESETS["sinabs"], timesteps=6)


@pytest.mark.parametrize("spike_fn, max_spikes, reset", [
    (sa.SingleSpike, 1, "subtract"), (sa.MaxSpike(3), 3, "subtract"),
    (sa.SingleSpike, 1, "zero")])
def test_sinabs_single_and_max_spike_import_exactly_when_declared(spike_fn, max_spikes, reset):
    rng = np.random.default_rng(7)
    reset_fn = sa.MembraneSubtract() if reset == "subtract" else sa.MembraneReset()
    model = sinabs_dense(rng, (10, 8, 4), spike_threshold=torch.tensor(2.0), spike_fn=spike_fn,
                         reset_fn=reset_fn)
    x = binary(rng, 8, 6, 10)
    preset = replace(PRESETS["sinabs"], max_spikes=max_spikes, reset=reset)
    imported = assert_imports_exactly(sinabs_graph(model, 10, 6), preset, x,
                                      sinabs_spikes(model, x), 6)
    assert imported.network.layers[0].neuron.spike_max == max_spikes


def test_sinabs_max_spike_that_is_not_two_to_the_s_minus_one_is_refused():
    model = sinabs_dense(np.random.default_rng(0), (6, 4, 2), spike_fn=sa.MaxSpike(2),
                         spike_threshold=torch.tensor(2.0))
    with pytest.raises(ImportError_, match=r"at most 2 spikes per step is not 2\^S - 1"):
        import_nir(sinabs_graph(model, 6, 4), conventions=replace(PRESETS["sinabs"],
                                                                   max_spikes=2), timesteps=4)


def test_sinabs_conv_network_with_sum_pooling_imports_exactly():
    rng = np.random.default_rng(2)
    batch, steps = 3, 5

    def iaf():
        return sl.IAFSqueeze(batch_size=batch, spike_threshold=torch.tensor(2.0),
                             spike_fn=sa.SingleSpike)
    model = integer_parameters(torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), iaf(),
                                         sl.SumPool2d(2), torch.nn.Conv2d(3, 2, 3), iaf(),
                                         torch.nn.Flatten(), torch.nn.Linear(8, 3), iaf()), rng)
    x = binary(rng, batch, steps, 1, 8, 8)
    expected = sinabs_spikes(model, x, squeeze=True)
    graph = sinabs.to_nir(model, torch.zeros(batch * steps, 1, 8, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph.infer_types()
    assert_imports_exactly(graph, replace(PRESETS["sinabs"], max_spikes=1), x, expected, steps)


def test_sinabs_lif_halving_its_membrane_imports_exactly():
    """LIF with alpha = exp(-1/tau) = 1/2 (tau = 1/ln 2) and Sinabs' default norm_input: v =
    v/2 + i/2, the gain 1/2 folded into the weights, the leak exact at its extra scale."""
    import math
    rng = np.random.default_rng(3)
    model = torch.nn.Sequential(torch.nn.Linear(10, 6),
                                sl.LIF(tau_mem=1 / math.log(2), spike_threshold=2.0,
                                       spike_fn=sa.SingleSpike),
                                torch.nn.Linear(6, 3),
                                sl.IAF(spike_threshold=torch.tensor(2.0), spike_fn=sa.SingleSpike))
    integer_parameters(model, rng)
    x = binary(rng, 8, 5, 10)
    imported = assert_imports_exactly(sinabs_graph(model, 10, 5),
                                      replace(PRESETS["sinabs"], max_spikes=1), x,
                                      sinabs_spikes(model, x), 5)
    assert imported.network.layers[0].neuron.leak.shift == 1
