"""Acceptance against a peer: snnTorch simulates, spikeshift imports its NIR export."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
export_nir = pytest.importorskip("snntorch.export_nir")

import spikeshift  # noqa: E402
from spikeshift.gen.cli.main import main  # noqa: E402
from spikeshift.gen.frontends.nir import PRESETS, Conventions, ImportError_, import_nir  # noqa: E402

from .integers import integer_parameters  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def integer_snntorch_net(rng, sizes, thresholds, reset="subtract", beta=1.0):
    """Linear + Leaky layers with integer weights; every layer's spikes are recorded."""
    layers = []
    for (fan_in, size), theta in zip(zip(sizes[:-1], sizes[1:]), thresholds):
        linear = torch.nn.Linear(fan_in, size)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(rng.integers(-3, 5, (size, fan_in)),
                                             dtype=torch.float32))
            linear.bias.copy_(torch.tensor(rng.integers(-1, 2, size), dtype=torch.float32))
        leaky = snn.Leaky(beta=torch.full((size,), beta), threshold=torch.full((size,), theta),
                          reset_mechanism=reset, init_hidden=True)
        layers += [linear, leaky]
    layers[-1].output = True
    return torch.nn.Sequential(*layers)


def snntorch_spikes(net, x):
    """(batch, T, size) spikes of every Leaky layer, simulated by snnTorch itself."""
    from snntorch import utils
    utils.reset(net)
    leaky = [m for m in net if isinstance(m, snn.SpikingNeuron)]
    records = [[] for _ in leaky]
    with torch.no_grad():
        for t in range(x.shape[1]):
            h = torch.tensor(x[:, t], dtype=torch.float32)
            k = 0
            for module in net:
                h = module(h)
                if isinstance(module, snn.SpikingNeuron):
                    if isinstance(h, tuple):
                        h = h[0]
                    records[k].append(h.numpy().copy())
                    k += 1
    return [np.stack(r, axis=1).astype(np.int64) for r in records]


def export(net, fan_in):
    return export_nir.export_to_nir(net, torch.zeros(fan_in))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_imported_snntorch_network_spikes_exactly_like_snntorch(seed, reset):
    rng = np.random.default_rng(seed)
    sizes = (int(rng.integers(3, 20)), int(rng.integers(2, 16)), int(rng.integers(2, 10)))
    thresholds = [float(rng.integers(1, 6)), float(rng.integers(1, 6))]
    net = integer_snntorch_net(rng, sizes, thresholds, reset=reset)
    x = (rng.random((16, 12, sizes[0])) < 0.4).astype(np.int64)
    conventions = PRESETS["snntorch"]
    if reset == "zero":
        conventions = Conventions(**{**conventions.__dict__, "reset": "zero"})
    imported = import_nir(export(net, sizes[0]), conventions=conventions, timesteps=12)
    result = spikeshift.trace(imported.network, x)
    expected = snntorch_spikes(net, x)
    assert sum(int(s.sum()) for s in expected) > 0
    for got, want in zip(result.spikes, expected):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(result.outputs, expected[-1].sum(axis=1))


@pytest.mark.cocotb
def test_snntorch_network_through_nir_golden_and_rtl_gives_identical_spike_trains(tmp_path):
    rng = np.random.default_rng(42)
    net = integer_snntorch_net(rng, (12, 10, 4), [3.0, 2.0])
    x = (rng.random((6, 10, 12)) < 0.5).astype(np.int64)
    path = tmp_path / "net.nir"
    import nir
    nir.write(str(path), export(net, 12))
    assert main(["import", str(path), "-o", str(tmp_path / "net.json"), "--preset", "snntorch",
                 "--timesteps", "10"]) == 0
    imported = spikeshift.Network.load(tmp_path / "net.json")
    expected = snntorch_spikes(net, x)
    np.testing.assert_array_equal(spikeshift.trace(imported, x).spikes[0], expected[0])
    result = spikeshift.verify(imported, x, build_dir=tmp_path / "rtl", progress=False)
    assert result.ok, result.first_difference
    np.testing.assert_array_equal(result.outputs, expected[-1].sum(axis=1))


def test_leaky_with_fractional_beta_is_refused_naming_node_and_parameter():
    net = integer_snntorch_net(np.random.default_rng(0), (4, 3, 2), [2.0, 2.0], beta=0.9)
    with pytest.raises(ImportError_, match=r"^node '1' parameter tau: beta = 0.9 leaks by a "
                                           r"fraction of v each step"):
        import_nir(export(net, 4), conventions=PRESETS["snntorch"], timesteps=4)


def test_lossy_import_maps_beta_to_the_nearest_shift_and_says_so():
    net = integer_snntorch_net(np.random.default_rng(0), (4, 3, 2), [2.0, 2.0], beta=0.9)
    conventions = Conventions(**{**PRESETS["snntorch"].__dict__, "reset_delay": False})
    result = import_nir(export(net, 4), conventions=conventions, timesteps=4, lossy=True)
    assert result.network.layers[0].neuron.leak.shift == 3
    assert result.notes[0]["leak"] == "beta 0.9 -> shift 3 (beta 0.875)"


def test_fractional_weights_are_refused_naming_the_weight_node():
    net = integer_snntorch_net(np.random.default_rng(0), (4, 3, 2), [2.0, 2.0])
    with torch.no_grad():
        net[0].weight[0, 0] = 0.3
    with pytest.raises(ImportError_, match=r"^node '0' parameter weight: values are not "
                                           r"integers at any power-of-two scale"):
        import_nir(export(net, 4), conventions=PRESETS["snntorch"], timesteps=4)


def test_power_of_two_fractions_import_exactly_at_a_scale():
    rng = np.random.default_rng(3)
    net = integer_snntorch_net(rng, (6, 5, 3), [1.5, 2.0])
    with torch.no_grad():
        net[0].weight.mul_(0.25)
    x = (rng.random((8, 6, 6)) < 0.5).astype(np.int64)
    imported = import_nir(export(net, 6), conventions=PRESETS["snntorch"], timesteps=6)
    assert imported.notes[0]["scale"] == "2^2"
    for got, want in zip(spikeshift.trace(imported.network, x).spikes, snntorch_spikes(net, x)):
        np.testing.assert_array_equal(got, want)


def test_unsupported_nodes_are_refused_naming_the_node():
    import nir
    graph = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([4])),
        nir.Affine(weight=np.ones((3, 4)), bias=np.zeros(3)),
        nir.Delay(delay=np.ones(3)),
        nir.Output(output_type=np.array([3])))
    with pytest.raises(ImportError_, match=r"^node 'delay': NIR node type Delay is not "
                                           r"supported"):
        import_nir(graph, conventions=PRESETS["norse"], timesteps=4)


def _leaky_net(rng, sizes, **leaky):
    """Linear + Leaky layers (integer weights) with the given Leaky options."""
    layers = []
    for fan_in, size in zip(sizes[:-1], sizes[1:]):
        options = {"threshold": torch.full((size,), 2.0), **leaky}
        options["beta"] = torch.full((size,), float(options.get("beta", 1.0)))
        layers += [torch.nn.Linear(fan_in, size), snn.Leaky(init_hidden=True, **options)]
    layers[-1].output = True
    return integer_parameters(torch.nn.Sequential(*layers), rng, -3, 5)


def _assert_spikes_like_snntorch(net, conventions, rng, fan_in, timesteps=10):
    x = (rng.random((16, timesteps, fan_in)) < 0.5).astype(np.int64)
    imported = import_nir(export(net, fan_in), conventions=conventions, timesteps=timesteps)
    expected = snntorch_spikes(net, x)
    assert sum(int(s.sum()) for s in expected) > 0
    for got, want in zip(spikeshift.trace(imported.network, x).spikes, expected):
        np.testing.assert_array_equal(got, want)
    return imported


@pytest.mark.parametrize("seed", range(4))
def test_reset_none_imports_exactly(seed):
    from dataclasses import replace
    rng = np.random.default_rng(seed)
    net = _leaky_net(rng, (10, 8, 4), reset_mechanism="none")
    imported = _assert_spikes_like_snntorch(net, replace(PRESETS["snntorch"], reset="none"),
                                            rng, 10)
    assert imported.network.layers[0].neuron.reset == "none"


@pytest.mark.parametrize("seed", range(4))
def test_undelayed_reset_to_zero_is_snntorchs_immediate_reset(seed):
    from dataclasses import replace
    rng = np.random.default_rng(seed)
    net = _leaky_net(rng, (10, 8, 4), reset_mechanism="zero", reset_delay=False)
    _assert_spikes_like_snntorch(net, replace(PRESETS["snntorch"], reset="zero",
                                              reset_delay=False), rng, 10)


def test_undelayed_reset_by_subtraction_is_refused_naming_the_neuron(tmp_path, capsys):
    rng = np.random.default_rng(0)
    net = _leaky_net(rng, (6, 5, 3), reset_mechanism="subtract", reset_delay=False)
    import nir
    path = tmp_path / "net.nir"
    nir.write(str(path), export(net, 6))
    assert main(["import", str(path), "-o", str(tmp_path / "net.json"), "--preset",
                 "snntorch", "--timesteps", "4", "--no-reset-delay"]) != 0
    assert ("node '1': snnTorch's reset_delay=False with reset by subtraction also subtracts"
            in capsys.readouterr().err)
    assert not (tmp_path / "net.json").exists()
    from dataclasses import replace
    imported = import_nir(export(net, 6), timesteps=3, lossy=True,
                          conventions=replace(PRESETS["snntorch"], reset_delay=False))
    assert imported.notes[0]["reset_delay"].startswith("snnTorch's undelayed")


@pytest.mark.parametrize("beta", [0.0, -0.5])
def test_beta_zero_and_below_are_snntorchs_stateless_leak(beta):
    """β = 0 arrives as float32 noise and β < 0 is clamped to 0 by snnTorch itself."""
    from dataclasses import replace
    rng = np.random.default_rng(1)
    net = _leaky_net(rng, (10, 8, 4), reset_mechanism="zero", beta=beta)
    imported = _assert_spikes_like_snntorch(net, replace(PRESETS["snntorch"], reset="zero"),
                                            rng, 10)
    assert imported.network.layers[0].neuron.leak.shift == 0


def test_beta_zero_with_delayed_subtraction_is_refused():
    rng = np.random.default_rng(1)
    net = _leaky_net(rng, (10, 8, 4), beta=0.0, reset_mechanism="subtract")
    with pytest.raises(ImportError_, match=r"^node '1' parameter tau: a delayed reset by "
                                           r"subtraction escapes the leak"):
        import_nir(export(net, 10), conventions=PRESETS["snntorch"], timesteps=4)


def rleaky_net(rng, sizes, all_to_all=True, reset="subtract"):
    """Linear -> RLeaky (its own recurrent weights) -> Linear -> Leaky, integer weights."""
    n_in, n, n_out = sizes
    options = dict(beta=torch.ones(n), threshold=torch.full((n,), float(rng.integers(1, 5))),
                   reset_mechanism=reset, init_hidden=True)
    if all_to_all:
        rleaky = snn.RLeaky(linear_features=n, **options)
    else:
        rleaky = snn.RLeaky(all_to_all=False, V=torch.ones(n), **options)
    out = snn.Leaky(beta=torch.ones(n_out), threshold=torch.full((n_out,), 2.0),
                    init_hidden=True, output=True)
    net = torch.nn.Sequential(torch.nn.Linear(n_in, n), rleaky, torch.nn.Linear(n, n_out), out)
    return integer_parameters(net, rng, -3, 5)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("all_to_all", [True, False])
def test_rleaky_imports_with_its_recurrent_weights_and_spikes_exactly_like_snntorch(seed,
                                                                                  all_to_all):
    rng = np.random.default_rng(seed)
    sizes = (int(rng.integers(3, 12)), int(rng.integers(2, 10)), int(rng.integers(2, 6)))
    net = rleaky_net(rng, sizes, all_to_all)
    imported = _assert_spikes_like_snntorch(net, PRESETS["snntorch"], rng, sizes[0])
    layer = imported.network.layers[0]
    recurrent = net[1].recurrent
    expected = (recurrent.weight if all_to_all else torch.diag(recurrent.V)).detach().numpy()
    np.testing.assert_array_equal(layer.recurrent.values, expected.astype(np.int64))
    assert imported.notes[0]["recurrent"] == "1.w_rec"


@pytest.mark.cocotb
@pytest.mark.parametrize("all_to_all", [True, False])
def test_rleaky_through_nir_and_the_rtl_spikes_exactly_like_snntorch(all_to_all, tmp_path):
    rng = np.random.default_rng(20 + all_to_all)
    net = rleaky_net(rng, (8, 6, 3), all_to_all)
    x = (rng.random((4, 10, 8)) < 0.5).astype(np.int64)
    imported = import_nir(export(net, 8), conventions=PRESETS["snntorch"], timesteps=10).network
    golden = spikeshift.trace(imported, x)
    for got, want in zip(golden.spikes, snntorch_spikes(net, x)):
        np.testing.assert_array_equal(got, want)
    assert np.count_nonzero(golden.fed_back[0][:, 1:])        # spikes really are fed back
    result = spikeshift.verify(imported, x, build_dir=tmp_path, progress=False)
    assert result.ok, result.first_difference
    np.testing.assert_array_equal(result.outputs, golden.outputs)


def test_rleaky_delayed_reset_to_zero_is_refused_naming_the_neuron():
    rng = np.random.default_rng(0)
    net = rleaky_net(rng, (4, 3, 2), reset="zero")
    from dataclasses import replace
    with pytest.raises(ImportError_, match=r"^node '1.lif': a recurrent neuron's \(snnTorch's "
                                           r"RLeaky\) delayed reset to zero clears the whole next "
                                           r"step"):
        import_nir(export(net, 4), conventions=replace(PRESETS["snntorch"], reset="zero"),
                   timesteps=4)


def synaptic_net(rng, sizes, alpha, reset="subtract"):
    """Linear + Synaptic (current-based, beta 1) layers with integer weights."""
    layers = []
    for fan_in, size in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(fan_in, size),
                   snn.Synaptic(alpha=torch.full((size,), alpha), beta=torch.ones(size),
                                threshold=torch.full((size,), float(rng.integers(1, 5))),
                                reset_mechanism=reset, init_hidden=True)]
    layers[-1].output = True
    return integer_parameters(torch.nn.Sequential(*layers), rng)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.75])
@pytest.mark.parametrize("seed", range(3))
def test_synaptic_imports_exactly_as_a_cuba_lif(seed, alpha):
    """snnTorch's Synaptic: syn = alpha syn + I, mem = beta mem + syn; alpha = 1 - 2^-k is a
    cuba_lif with syn_shift k (exact for T steps at an extra scale), alpha = 0 a plain IF."""
    rng = np.random.default_rng(seed)
    net = synaptic_net(rng, (10, 6, 3), alpha)
    imported = _assert_spikes_like_snntorch(net, PRESETS["snntorch"], rng, 10, timesteps=6)
    neuron = imported.network.layers[0].neuron
    assert neuron.model == ("if" if alpha == 0 else "cuba_lif")


def test_synaptic_delayed_reset_to_zero_and_other_alphas_are_refused():
    from dataclasses import replace
    rng = np.random.default_rng(0)
    with pytest.raises(ImportError_, match=r"^node '1': a current-based neuron's \(snnTorch's "
                                           r"Synaptic\) delayed reset to zero clears"):
        import_nir(export(synaptic_net(rng, (4, 3, 2), 0.5, reset="zero"), 4),
                   conventions=replace(PRESETS["snntorch"], reset="zero"), timesteps=4)
    with pytest.raises(ImportError_, match=r"^node '1' parameter tau_syn: alpha = 0.9 is not 0 "
                                           r"or 1 - 2\^-k"):
        import_nir(export(synaptic_net(rng, (4, 3, 2), 0.9), 4),
                   conventions=PRESETS["snntorch"], timesteps=4)


@pytest.mark.parametrize("seed", range(4))
def test_per_neuron_thresholds_import_exactly(seed):
    """Tensor thresholds (learn_threshold=True trains one per neuron) stay one per neuron."""
    rng = np.random.default_rng(seed)
    net = _leaky_net(rng, (10, 8, 4))
    for leaky, size in ((net[1], 8), (net[3], 4)):
        leaky.threshold = torch.nn.Parameter(torch.tensor(rng.integers(1, 6, size),
                                                          dtype=torch.float32))
    imported = _assert_spikes_like_snntorch(net, PRESETS["snntorch"], rng, 10)
    threshold = imported.network.layers[0].neuron.threshold
    assert isinstance(threshold, np.ndarray) and len(np.unique(threshold)) > 1


@pytest.mark.parametrize("seed", range(4))
def test_betas_one_minus_two_to_the_minus_k_import_exactly_per_neuron(seed):
    """beta = 1 - 2^-k (learn_beta trains one per neuron) keeps binary fractions of v, which
    snnTorch's float membrane holds exactly: at the extra scale 2^(k_max·T) the shift leak
    v - (v >> k) is exact for the T steps."""
    from dataclasses import replace
    rng = np.random.default_rng(seed)
    net = _leaky_net(rng, (10, 6, 3), reset_mechanism="zero")
    net[1].beta = torch.nn.Parameter(torch.tensor(1 - 2.0 ** -rng.integers(1, 4, 6),
                                                  dtype=torch.float32))
    net[3].beta = torch.nn.Parameter(torch.full((3,), 0.5))
    imported = _assert_spikes_like_snntorch(net, replace(PRESETS["snntorch"], reset="zero"),
                                            rng, 10, timesteps=5)
    np.testing.assert_array_equal(imported.network.layers[0].neuron.leak.values(6),
                                  -np.log2(1 - net[1].beta.detach().numpy()))
    assert imported.notes[0]["cost"].endswith("to the weights' range and to the membrane")


def test_an_exact_leak_too_wide_for_the_weights_is_refused_naming_the_node():
    from dataclasses import replace
    net = _leaky_net(np.random.default_rng(0), (6, 4, 2), reset_mechanism="zero", beta=0.875)
    with pytest.raises(ImportError_, match=r"^node '0' parameter weight: the exact form needs "
                                           r"\d+-bit integers \(at most 24\) at the scale "
                                           r"2\^0·2\^30 \(beta = 1 - 2\^-k \(3\) exact for "
                                           r"T = 10 steps"):
        import_nir(export(net, 6), conventions=replace(PRESETS["snntorch"], reset="zero"),
                   timesteps=10)


def test_per_neuron_betas_that_are_not_dyadic_are_refused_or_mapped_per_neuron():
    rng = np.random.default_rng(0)
    net = _leaky_net(rng, (6, 4, 2))
    net[1].beta = torch.nn.Parameter(torch.tensor([0.5, 0.7, 0.9, 0.5]))
    from dataclasses import replace
    conventions = replace(PRESETS["snntorch"], reset="zero")
    with pytest.raises(ImportError_, match=r"^node '1' parameter tau: beta = 0.5..0.9 per "
                                           r"neuron leaks by a fraction"):
        import_nir(export(net, 6), conventions=conventions, timesteps=4)
    imported = import_nir(export(net, 6), conventions=conventions, timesteps=4, lossy=True)
    np.testing.assert_array_equal(imported.network.layers[0].neuron.leak.shift, [1, 2, 3, 1])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("all_to_all", [True, False])
def test_rsynaptic_imports_as_a_recurrent_cuba_lif(seed, all_to_all):
    """RSynaptic: syn = alpha syn + I + recurrent(spk), mem = beta mem + syn: its recurrent
    weights feed the synaptic current as the feed-forward ones do."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    options = dict(alpha=torch.full((n,), 0.5), beta=torch.ones(n),
                   threshold=torch.full((n,), float(rng.integers(2, 5))), init_hidden=True)
    rsyn = snn.RSynaptic(linear_features=n, **options) if all_to_all else \
        snn.RSynaptic(all_to_all=False, V=torch.ones(n), **options)
    out = snn.Leaky(beta=torch.ones(3), threshold=torch.full((3,), 2.0), init_hidden=True,
                    output=True)
    net = integer_parameters(torch.nn.Sequential(torch.nn.Linear(8, n), rsyn,
                                                 torch.nn.Linear(n, 3), out), rng, -2, 4)
    imported = _assert_spikes_like_snntorch(net, PRESETS["snntorch"], rng, 8, timesteps=6)
    layer = imported.network.layers[0]
    assert layer.neuron.model == "cuba_lif" and layer.recurrent is not None


@pytest.mark.cocotb
def test_rsynaptic_network_runs_on_the_rtl_as_in_snntorch(tmp_path):
    """A recurrent cuba_lif layer through the generated Verilog: equal to golden, which
    equals snnTorch."""
    rng = np.random.default_rng(9)
    rsyn = snn.RSynaptic(alpha=torch.full((5,), 0.5), beta=torch.ones(5),
                         threshold=torch.full((5,), 3.0), linear_features=5, init_hidden=True)
    out = snn.Leaky(beta=torch.ones(3), threshold=torch.full((3,), 2.0), init_hidden=True,
                    output=True)
    net = integer_parameters(torch.nn.Sequential(torch.nn.Linear(8, 5), rsyn,
                                                 torch.nn.Linear(5, 3), out), rng, -2, 4)
    imported = _assert_spikes_like_snntorch(net, PRESETS["snntorch"], rng, 8, timesteps=5)
    x = (rng.random((3, 5, 8)) < 0.5).astype(np.int64)
    result = spikeshift.verify(imported.network, x, build_dir=tmp_path / "rtl", progress=False)
    assert result.ok, result.first_difference
