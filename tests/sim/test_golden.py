import numpy as np
import pytest

from spikeshift import predict, trace
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.dense import DenseLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron, ShiftLeak, SubtractLeak
from spikeshift.gen.ir.synthetic import random_inputs, random_network
from spikeshift.gen.ir.weights import IntWeights, PotWeights
from spikeshift.sim import golden
from spikeshift.sim.golden import ref_leak

from .reference import loop_reference, numpy_reference


def one_layer(neuron, weights, *, bias=None, bits=4, mode="membrane", timesteps=1, fan_in=1):
    values = np.array(weights).reshape(-1, fan_in)
    layer = DenseLayer(size=values.shape[0], weights=IntWeights(bits=12, values=values),
                       neuron=neuron, bias=bias)
    return Network(name="hand", timesteps=timesteps, input=InputSpec(size=fan_in, bits=bits),
                   layers=(layer,), output=OutputSpec(mode=mode))


def assert_equals_loop_reference(net, x):
    outputs, classes = predict(net, x)
    ref_outputs, ref_classes = loop_reference(net, x)
    np.testing.assert_array_equal(outputs, ref_outputs)
    np.testing.assert_array_equal(classes, ref_classes)


@pytest.mark.parametrize("seed", range(300))
def test_golden_model_equals_loop_reference_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    net = random_network(rng)
    assert_equals_loop_reference(net, random_inputs(rng, net, 4))


def test_random_networks_cover_every_option():
    seen = set()
    for seed in range(300):
        net = random_network(np.random.default_rng(seed))
        for layer in net.layers:
            n = layer.neuron
            seen |= {n.model, n.reset if n.fires else "-", type(n.leak).__name__,
                     layer.weights.format, f"S{n.spike_bits}", net.output.mode,
                     "bias" if layer.bias is not None else "nobias",
                     "vinit-array" if isinstance(n.v_init, np.ndarray) else "vinit-scalar"}
            seen |= {f"{name}-array" for name in n.per_neuron if name != "v_init"}
            if n.leak is not None and n.leak.per_neuron:
                seen.add(f"{type(n.leak).__name__}-array")
            if "threshold" in n.per_neuron and n.spike_bits > 1:
                seen.add("multi-bit-threshold-array")
    assert {"if", "lif", "cuba_lif", "integrator", "subtract", "zero", "none", "ShiftLeak",
            "SubtractLeak", "NoneType", "pot", "int", "S1", "S2", "S3", "spike_count",
            "membrane", "bias", "nobias", "vinit-array", "vinit-scalar", "threshold-array",
            "leak-array", "ShiftLeak-array", "SubtractLeak-array",
            "multi-bit-threshold-array"} <= seen


def test_random_networks_fire_and_saturate():
    fired = saturated = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        net = random_network(rng)
        result = trace(net, random_inputs(rng, net, 4))
        fired += sum(int(s.any()) for s in result.spikes)
        for layer, v in zip(net.layers, result.membranes):
            saturated += int((v == layer.neuron.v.max).any() | (v == layer.neuron.v.min).any())
    assert fired > 100 and saturated > 10


def test_shift_leak_rounds_toward_minus_infinity():
    neuron = Neuron(model="lif", v=IntFormat(bits=8), threshold=100, leak=ShiftLeak(shift=1))
    np.testing.assert_array_equal(ref_leak(np.array([7, -3, -1, 1, 0]), neuron),
                                  [4, -1, 0, 1, 0])


def test_subtract_leak_never_crosses_zero():
    neuron = Neuron(model="lif", v=IntFormat(bits=8), threshold=100,
                    leak=SubtractLeak(amount=5))
    np.testing.assert_array_equal(ref_leak(np.array([7, 3, -3, -9, 0]), neuron),
                                  [2, 0, 0, -4, 0])


def test_first_timestep_leaks_v_init():
    neuron = Neuron(model="lif", v=IntFormat(bits=8), threshold=100, leak=ShiftLeak(shift=1),
                    v_init=-5)
    net = one_layer(neuron, [1])
    # -5 - (-5 >> 1) = -5 + 3 = -2, plus input 3 -> 1
    assert predict(net, [[[3]]])[0].tolist() == [[1]]


@pytest.mark.parametrize("x, expected", [(15, 127), (0, -128)])
def test_membrane_saturates_at_both_ends(x, expected):
    neuron = Neuron(model="integrator", v=IntFormat(bits=8), v_init=-120)
    net = one_layer(neuron, [-20 if expected < 0 else 100], timesteps=3)
    inputs = np.full((1, 3, 1), x if expected > 0 else 1)
    assert predict(net, inputs)[0].tolist() == [[expected]]


def test_multi_bit_spikes_are_floor_of_v_over_threshold_capped():
    neuron = Neuron(model="if", v=IntFormat(bits=10), threshold=8, spike_bits=2,
                    reset="subtract")
    net = one_layer(neuron, [[1], [2], [3]], bits=4)
    result = trace(net, [[[13]]])
    # v = 13, 26, 39 -> floor(v / 8) = 1, 3, 4 -> capped to 3
    assert result.spikes[0].tolist() == [[[1, 3, 3]]]
    assert result.membranes[0].tolist() == [[[5, 2, 15]]]


@pytest.mark.parametrize("reset, v_after", [("subtract", 3), ("zero", 0), ("none", 13)])
def test_each_reset_mode(reset, v_after):
    neuron = Neuron(model="if", v=IntFormat(bits=8), threshold=10, reset=reset)
    result = trace(one_layer(neuron, [13]), [[[1]]])
    assert result.spikes[0].tolist() == [[[1]]]
    assert result.membranes[0].tolist() == [[[v_after]]]


def test_firing_is_at_threshold_inclusive():
    neuron = Neuron(model="if", v=IntFormat(bits=8), threshold=10)
    assert trace(one_layer(neuron, [[10], [9]]), [[[1]]]).spikes[0].tolist() == [[[1, 0]]]


def test_per_neuron_v_init_and_bias_every_timestep():
    neuron = Neuron(model="integrator", v=IntFormat(bits=12), v_init=[5, -7])
    net = one_layer(neuron, [[1], [2]], bias=[3, -1], timesteps=4)
    # v_j = v_init_j + T * (w_j * x + b_j)
    assert predict(net, np.ones((1, 4, 1), int) * 2)[0].tolist() == [[5 + 4 * 5, -7 + 4 * 3]]


def test_spike_count_output_sums_spike_values():
    neuron = Neuron(model="if", v=IntFormat(bits=8), threshold=4, spike_bits=2)
    net = one_layer(neuron, [[1]], mode="spike_count", timesteps=3)
    # v: 6 -> s 1, v 2; 8 -> s 2, v 0; 6 -> s 1 -> count 4
    assert predict(net, [[[6], [6], [6]]])[0].tolist() == [[4]]


def test_argmax_ties_pick_the_lowest_index():
    neuron = Neuron(model="integrator", v=IntFormat(bits=8))
    outputs, classes = predict(one_layer(neuron, [[2], [3], [3]]), [[[1]]])
    assert outputs.tolist() == [[2, 3, 3]] and classes.tolist() == [1]


def test_layers_see_the_previous_layers_spikes_of_the_same_timestep():
    hidden = DenseLayer(size=1, weights=PotWeights(e_min=0, e_max=0, values=[[1]]),
                        neuron=Neuron(model="if", v=IntFormat(bits=8), threshold=1))
    out = DenseLayer(size=1, weights=PotWeights(e_min=2, e_max=2, values=[[4]]),
                     neuron=Neuron(model="integrator", v=IntFormat(bits=8)))
    net = Network(name="chain", timesteps=2, input=InputSpec(size=1, bits=1),
                  layers=(hidden, out), output=OutputSpec(mode="membrane"))
    result = trace(net, [[[1], [0]]])
    assert result.membranes[1].tolist() == [[[4], [4]]]


@pytest.mark.parametrize("seed", range(60))
def test_direct_input_computed_once_equals_loop_reference(seed):
    """The same values every timestep take the path that computes the first current once;
    the result is what the loops give (random kinds, map inputs included)."""
    rng = np.random.default_rng(seed)
    kinds = ("dense",) if seed % 2 else ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")
    net = random_network(rng, kinds=kinds)
    assert_equals_loop_reference(
        net, np.repeat(random_inputs(rng, net, 3)[:, :1], net.timesteps, axis=1))


def assert_traces_equal(got, want):
    np.testing.assert_array_equal(got.outputs, want.outputs)
    np.testing.assert_array_equal(got.classes, want.classes)
    for name in ("spikes", "membranes", "syn_currents", "fed_back"):
        for a, b in zip(getattr(got, name), getattr(want, name), strict=True):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", range(20))
def test_direct_input_path_equals_the_per_timestep_path(seed, monkeypatch):
    """The direct path (first current once, kept through the layers without a neuron) gives
    every traced value of the path that computes each timestep."""
    rng = np.random.default_rng(seed)
    kinds = ("dense",) if seed % 2 else ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")
    net = random_network(rng, kinds=kinds, recurrent=0.3)
    x = np.repeat(random_inputs(rng, net, 5)[:, :1], net.timesteps, axis=1)
    assert golden._checked(net, x)[1] == (net.timesteps >= 1)
    direct = trace(net, x)
    monkeypatch.setattr(golden, "first_change", lambda arr, rows=64: (0, 1))  # "it changes"
    assert_traces_equal(direct, trace(net, x))


def test_one_differing_value_anywhere_takes_the_per_timestep_path():
    """Direct input detected from the data: a single value of the last timestep of the last
    sample that differs is seen, and the result is the loops'."""
    rng = np.random.default_rng(3)
    net = random_network(rng, kinds=("dense",), max_timesteps=6)
    while net.timesteps < 2:
        net = random_network(rng, kinds=("dense",), max_timesteps=6)
    x = np.repeat(random_inputs(rng, net, 300)[:, :1], net.timesteps, axis=1)
    x[-1, -1, -1] = net.input.format.max - x[-1, -1, -1]
    assert x[-1, -1, -1] != x[-1, 0, -1]
    assert not golden._checked(net, x)[1]
    assert_equals_loop_reference(net, x)
    view = np.asfortranarray(x)                 # not contiguous: compared a block at a time
    assert not golden._checked(net, view)[1]
    x[-1, -1, -1] = x[-1, 0, -1]
    assert golden._checked(net, np.asfortranarray(x))[1]
    np.testing.assert_array_equal(predict(net, np.asfortranarray(x))[0], predict(net, x)[0])


@pytest.mark.parametrize("seed", range(12))
def test_blocks_of_samples_give_the_whole_batchs_trace(seed, monkeypatch):
    """A batch run as blocks of a few samples (as large batches are) gives every value that
    one block gives."""
    rng = np.random.default_rng(seed)
    kinds = ("dense",) if seed % 2 else ("conv2d", "sumpool2d", "maxpool2d", "flatten", "dense")
    net = random_network(rng, kinds=kinds, recurrent=0.3)
    x = random_inputs(rng, net, 23)
    if seed % 3 == 0:
        x = np.repeat(x[:, :1], net.timesteps, axis=1)
    whole = trace(net, x)
    monkeypatch.setattr(golden, "BLOCK_VALUES", 1)
    assert golden.block_samples(net) == 1
    assert_traces_equal(trace(net, x), whole)
    np.testing.assert_array_equal(predict(net, x)[0], whole.outputs)
    monkeypatch.setattr(golden, "BLOCK_VALUES", 5 * golden.sample_values(net) + 1)
    assert golden.block_samples(net) == 5
    assert_traces_equal(trace(net, x), whole)


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, np.float32])
def test_range_checks_see_every_timestep_whether_or_not_the_input_is_direct(dtype):
    neuron = Neuron(model="integrator", v=IntFormat(bits=8))
    net = one_layer(neuron, [1, 1], bits=2, timesteps=3, fan_in=2)
    direct = np.array([[[1, 4], [1, 4], [1, 4]]], dtype=dtype)
    with pytest.raises(ValueError, match=r"^inputs\[0, 0, 1\] must be in \[0, 3\] .* not 4"):
        predict(net, direct)
    varying = np.array([[[1, 2], [1, 2], [1, 4]]], dtype=dtype)
    with pytest.raises(ValueError, match=r"^inputs\[0, 2, 1\] must be in \[0, 3\] .* not 4"):
        predict(net, varying)
    if dtype in (np.int64, np.int8):
        negative = np.array([[[1, 2], [1, -1], [1, 2]]], dtype=dtype)
        with pytest.raises(ValueError, match=r"^inputs\[0, 1, 1\] .* not -1$"):
            predict(net, negative)
    np.testing.assert_array_equal(predict(net, np.array([[[1, 2]] * 3], dtype=dtype))[0],
                                  [[9]])


def test_golden_model_rejects_inputs_out_of_range_and_misshapen():
    neuron = Neuron(model="integrator", v=IntFormat(bits=8))
    net = one_layer(neuron, [[1]], bits=2, timesteps=2)
    with pytest.raises(ValueError, match=r"^inputs must have shape \(batch, 2, 1\), "
                                         r"not \(2, 1\)$"):
        predict(net, np.zeros((2, 1), int))
    with pytest.raises(ValueError, match=r"^inputs\[0, 1, 0\] must be in \[0, 3\] for "
                                         r"input.bits=2, not 4$"):
        predict(net, [[[1], [4]]])


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5, 6])   # 4: a network whose outputs never vary
def test_golden_model_equals_both_references_on_a_dataset_sized_batch(seed):
    """Every sample of a batch the size of a data set (the golden model's float path for
    large batches included) against the int64 reference, and a subset against the loops."""
    rng = np.random.default_rng(seed)
    net = random_network(rng, max_size=64)
    x = random_inputs(rng, net, 2000)
    result = trace(net, x)
    outputs, classes, spikes, membranes = numpy_reference(net, x)
    assert len(np.unique(outputs)) > 1 and sum(int(s.sum()) for s in spikes) > 0
    np.testing.assert_array_equal(result.outputs, outputs)
    np.testing.assert_array_equal(result.classes, classes)
    for got, want in zip(result.spikes, spikes, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(result.membranes, membranes, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(predict(net, x)[0], outputs)
    ref_outputs, ref_classes = loop_reference(net, x[::100])
    np.testing.assert_array_equal(outputs[::100], ref_outputs)
    np.testing.assert_array_equal(classes[::100], ref_classes)


@pytest.mark.parametrize("seed", range(150))
def test_recurrent_networks_equal_loop_reference(seed):
    """DESIGN.md §3.1 recurrence: each layer's own spikes of t - 1 through its recurrent
    weights, r(-1) given or 0; every neuron option, binary and multi-bit spikes."""
    rng = np.random.default_rng(seed)
    net = random_network(rng, recurrent=1.0, max_timesteps=8)
    assert any(getattr(layer, "recurrent", None) is not None for layer in net.layers) or \
        not any(layer.neuron.fires for layer in net.layers)
    assert_equals_loop_reference(net, random_inputs(rng, net, 3))


def test_recurrence_feeds_the_previous_timesteps_spikes_back():
    """By hand: one IF neuron (θ = 4) with input weight 3 and recurrent weight 2; r(-1) = 1."""
    layer = DenseLayer(size=1, weights=IntWeights(bits=4, values=[[3]]),
                       neuron=Neuron(model="if", v=IntFormat(bits=8), threshold=4),
                       recurrent=IntWeights(bits=4, values=[[2]]), recurrent_init=[1])
    net = Network(name="hand", timesteps=4, input=InputSpec(size=1, bits=1), layers=(layer,),
                  output=OutputSpec(mode="spike_count"))
    result = trace(net, [[[1], [0], [1], [0]]])
    # t0: 3 + 2*1 = 5 -> fire, v 1; t1: 1 + 0 + 2 = 3; t2: 3 + 3 + 0 = 6 -> fire, v 2;
    # t3: 2 + 0 + 2 = 4 -> fire, v 0
    np.testing.assert_array_equal(result.spikes[0][0, :, 0], [1, 0, 1, 1])
    np.testing.assert_array_equal(result.membranes[0][0, :, 0], [1, 3, 2, 0])


def test_each_neuron_fires_and_leaks_with_its_own_threshold_and_leak():
    # one input of 1 per timestep, weight 4: thresholds 4, 8, 12 fire every 1, 2, 3 steps;
    # the shift leaks k = 3 (nothing below 8) and k = 1 (half) slow the last two down
    neuron = Neuron(model="lif", v=IntFormat(bits=8), threshold=[4, 8, 12],
                    leak=ShiftLeak(shift=[62, 62, 62]))
    net = one_layer(neuron, [4, 4, 4], mode="spike_count", timesteps=6)
    x = np.ones((1, 6, 1), np.int64)
    np.testing.assert_array_equal(predict(net, x)[0], [[6, 3, 2]])
    leaky = Neuron(model="lif", v=IntFormat(bits=8), threshold=[4, 8, 8],
                   leak=ShiftLeak(shift=[62, 3, 1]))
    net = one_layer(leaky, [4, 4, 4], mode="spike_count", timesteps=6)
    assert_equals_loop_reference(net, x)
    np.testing.assert_array_equal(predict(net, x)[0], [[6, 3, 1]])
    subtract = Neuron(model="lif", v=IntFormat(bits=8), threshold=[4, 8, 8],
                      leak=SubtractLeak(amount=[0, 1, 4]))
    net = one_layer(subtract, [4, 4, 4], mode="spike_count", timesteps=6)
    assert_equals_loop_reference(net, x)
    np.testing.assert_array_equal(predict(net, x)[0], [[6, 2, 0]])


def test_multi_bit_spikes_divide_by_each_neurons_power_of_two_threshold():
    neuron = Neuron(model="if", v=IntFormat(bits=8), threshold=[1, 4, 16], spike_bits=2,
                    reset="subtract")
    net = one_layer(neuron, [10, 10, 10], mode="spike_count", timesteps=1)
    result = trace(net, np.ones((1, 1, 1), np.int64))
    np.testing.assert_array_equal(result.spikes[0][0, 0], [3, 2, 0])
    np.testing.assert_array_equal(result.membranes[0][0, 0], [7, 2, 10])


def test_cuba_lif_current_decays_by_its_shift_then_feeds_the_membrane():
    # weight 8, input 1 every step, k_syn = 1: I = 8, 12, 14, 15; v sums them (no leak)
    neuron = Neuron(model="cuba_lif", v=IntFormat(bits=10), threshold=500, reset="none",
                    syn_shift=1, i=IntFormat(bits=8))
    net = one_layer(neuron, [8], timesteps=4)
    x = np.ones((1, 4, 1), np.int64)
    result = trace(net, x)
    np.testing.assert_array_equal(result.membranes[0][0, :, 0], [8, 20, 34, 49])
    np.testing.assert_array_equal(result.syn_currents[0][0, :, 0], [8, 12, 14, 15])
    assert_equals_loop_reference(net, x)


def test_cuba_lif_current_saturates_to_i_bits_and_shifts_toward_minus_infinity():
    tight = Neuron(model="cuba_lif", v=IntFormat(bits=10), threshold=500, reset="none",
                   syn_shift=1, i=IntFormat(bits=4))
    x = np.ones((1, 4, 1), np.int64)
    np.testing.assert_array_equal(trace(one_layer(tight, [8], timesteps=4), x)
                                  .membranes[0][0, :, 0], [7, 14, 21, 28])
    # I = -5, then -5 - (-5 >> 1) = -5 + 3 = -2 with no input
    negative = Neuron(model="cuba_lif", v=IntFormat(bits=10), threshold=500, reset="none",
                      syn_shift=1, i=IntFormat(bits=8))
    x = np.array([[[1], [0]]])
    np.testing.assert_array_equal(trace(one_layer(negative, [-5], timesteps=2), x)
                                  .membranes[0][0, :, 0], [-5, -7])


def test_cuba_lif_reset_acts_on_v_and_keeps_the_current():
    neuron = Neuron(model="cuba_lif", v=IntFormat(bits=10), threshold=10, reset="zero",
                    syn_shift=[2, 62], i=IntFormat(bits=8), leak=ShiftLeak(shift=1))
    net = one_layer(neuron, [12, 12], mode="spike_count", timesteps=3)
    x = np.array([[[1], [0], [0]]])
    result = trace(net, x)
    # neuron 0: I = 12, 9, 7 (12 - 3, 9 - 2); v = 12 -> fires -> 0, 9, 5 + 7 = 12 -> fires
    np.testing.assert_array_equal(result.spikes[0][0, :, 0], [1, 0, 1])
    # neuron 1 (k_syn = 62: no decay): I = 12 every step; v = 12 -> 0, 12 -> 0, 12 -> 0
    np.testing.assert_array_equal(result.spikes[0][0, :, 1], [1, 1, 1])
    assert_equals_loop_reference(net, x)


@pytest.mark.parametrize("extra, state", [(0, np.int32), (128, np.int64)])
def test_neuron_updates_run_in_int32_only_while_no_value_can_leave_it(extra, state):
    """v of 31 bits plus currents of 2**30 - 128 at most (128 binary inputs of weight
    2**23 - 1) stay inside int32; an input of weight 128 more makes them reach 2**31, so int64
    is taken. Both saturate at either end as the loops do."""
    values = np.array([[2**23 - 1] * 128 + [extra], [-(2**23 - 1)] * 128 + [-extra]])
    layer = DenseLayer(size=2, weights=IntWeights(bits=24, values=values),
                       neuron=Neuron(model="integrator", v=IntFormat(bits=31)))
    net = Network(name="wide", timesteps=3, input=InputSpec(size=129, bits=1),
                  layers=(layer,), output=OutputSpec(mode="membrane"))
    assert golden._currents(net)[0][2] is state
    x = np.ones((2, 3, 129), np.int64)
    x[1, 1:] = 0
    outputs = predict(net, x)[0]
    assert outputs.dtype == np.int64
    assert outputs[0].tolist() == [2**30 - 1, -2**30]          # saturated at both ends
    np.testing.assert_array_equal(outputs, loop_reference(net, x)[0])
    assert trace(net, x).membranes[0].dtype == np.int64
