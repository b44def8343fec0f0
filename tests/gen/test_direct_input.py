"""input.encoding "direct" (DESIGN.md §3.1): the description field, the inputs it takes, the
plan of the first core and the cycle model's schedule, against hand-computed values."""

import json

import numpy as np
import pytest

from spikeshift import Network, predict
from spikeshift.gen.cli.main import main
from spikeshift.gen.explore.measure import inputs_for
from spikeshift.gen.flow.report import build_report
from spikeshift.gen.frontends.quantize import float_network_from_dict
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.kinds.dense import STEP_OVERHEAD
from spikeshift.gen.ir.link import INPUT_STAGE_LATENCY, axi_input_words, encode_inputs, input_events
from spikeshift.gen.ir.network import network_from_dict, network_to_dict
from spikeshift.gen.ir.synthetic import direct_network, random_network
from spikeshift.sim.cycles import input_beats, layer_inputs, schedule
from spikeshift.sim.golden import check_inputs, trace

from .test_description import edited, valid
from .test_quantize import float_description


def direct():
    obj = valid()
    obj["input"]["encoding"] = "direct"
    return obj


def test_encoding_round_trips_and_its_default_is_left_out():
    net = network_from_dict(direct())
    assert net.input.encoding == "direct" and net.input.direct
    assert network_to_dict(net)["input"] == {"size": 3, "bits": 4, "encoding": "direct"}
    assert network_from_dict(network_to_dict(net)).input.encoding == "direct"
    for obj in (valid(), edited(("input", "encoding"), "per_timestep")):
        net = network_from_dict(obj)
        assert net.input.encoding == "per_timestep" and not net.input.direct
        assert network_to_dict(net)["input"] == {"size": 3, "bits": 4}


@pytest.mark.parametrize("value", ["constant", None, 1, ["direct"]])
def test_a_bad_encoding_is_named_with_the_allowed_values(value):
    with pytest.raises(ValueError, match=r"^input\.encoding must be one of 'per_timestep', "
                                         r"'direct', not " + repr(value).replace("[", r"\[")
                       .replace("]", r"\]") + "$"):
        network_from_dict(edited(("input", "encoding"), value))


def test_direct_inputs_may_be_one_timestep_and_give_the_golden_models_result():
    net = network_from_dict(direct())
    once = np.array([[15, 3, 0], [0, 7, 9]])
    every = np.repeat(once[:, None], net.timesteps, axis=1)
    per_timestep = network_from_dict(valid())
    want = predict(per_timestep, every)[0]
    np.testing.assert_array_equal(predict(net, once)[0], want)
    np.testing.assert_array_equal(predict(net, every)[0], want)
    np.testing.assert_array_equal(check_inputs(net, once), every)
    for got, ref in zip(trace(net, once).membranes, trace(per_timestep, every).membranes):
        np.testing.assert_array_equal(got, ref)
    assert abs(want).sum() > 0                          # the network computes something


def test_direct_inputs_that_change_over_time_are_refused_naming_sample_and_timestep():
    net = network_from_dict(direct())
    x = np.ones((3, net.timesteps, 3), np.int64)
    x[1, 2, 0] = 4
    x[2, 1, 1] = 5
    with pytest.raises(ValueError, match=r"^inputs\[1\] changes at timestep 2, but "
                                         r"input\.encoding is 'direct' \(the same values every "
                                         r"timestep\); give the same values at every timestep "
                                         r"or one timestep per sample, shape \(batch, 3\)$"):
        predict(net, x)


def test_one_timestep_of_inputs_is_refused_without_direct_encoding():
    with pytest.raises(ValueError, match=r"^inputs must have shape \(batch, 4, 3\), "
                                         r"not \(2, 3\)$"):
        predict(network_from_dict(valid()), np.ones((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"^inputs must have shape \(batch, 4, 3\) or, for "
                                         r"input\.encoding 'direct', \(batch, 3\), "
                                         r"not \(2, 4\)$"):
        predict(network_from_dict(direct()), np.ones((2, 4), np.int64))


def test_exploration_repeats_constant_inputs_with_the_same_function():
    x = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(inputs_for(x, 4), np.repeat(x[:, None], 4, axis=1))
    np.testing.assert_array_equal(inputs_for(np.repeat(x[:, None], 2, axis=1), 5),
                                  np.repeat(x[:, None], 5, axis=1))


def test_a_dense_first_core_holds_its_current_and_other_first_cores_do_not():
    design = plan(network_from_dict(direct()), [1, 2])
    first, second = design.layers
    assert first.held_current and not second.held_current
    assert first.memory("currents").depth == 2                  # chunks
    assert first.memory("currents").width == 1 * first.accumulator.bits
    assert first.cycle_formula == (f"2 * (n + 1) + {STEP_OVERHEAD} (t = 0), "
                                   f"2 + {STEP_OVERHEAD} (t > 0)")
    assert not plan(network_from_dict(valid()), [1, 2]).layers[0].held_current
    rng = np.random.default_rng(3)
    recurrent = direct_network(random_network(rng, max_layers=1, recurrent=1.0))
    assert recurrent.layers[0].recurrent is not None
    assert not plan(recurrent).layers[0].held_current
    conv = random_network(rng, kinds=("conv2d",))
    lp = plan(direct_network(conv)).layers[0]
    assert lp.kind == "conv2d" and lp.memories == plan(conv).layers[0].memories


def test_a_held_current_costs_only_the_fire_operations_after_the_first_timestep():
    lp = plan(network_from_dict(direct()), [1, 2]).layers[0]
    x = np.array([[[5, 0, 1]] * 4, [[0, 0, 0]] * 4])            # 2 and 0 non-zero inputs
    held = 2 + STEP_OVERHEAD                                    # the two fire operations
    np.testing.assert_array_equal(lp.step_cycles(x), [[2 * 3 + STEP_OVERHEAD] + [held] * 3,
                                                      [2 * 1 + STEP_OVERHEAD] + [held] * 3])
    np.testing.assert_array_equal(lp.synaptic_events(x), [[2 * 2, 0, 0, 0], [0, 0, 0, 0]])
    assert lp.step_cycles(np.ones(3)) == 2 * 4 + STEP_OVERHEAD  # one timestep: the worst case


def test_the_report_counts_the_current_memory_and_one_pass_of_synaptic_events():
    net = network_from_dict(direct())
    design = plan(net, [1, 2])
    row = build_report(design)["layers"][0]
    assert {"name": "currents", "depth": 2, "width": design.layers[0].accumulator.bits,
            "bits": 2 * design.layers[0].accumulator.bits} in row["memories"]
    assert row["worst_case_sops_per_inference"] == 3 * 2        # every input once, 2 neurons
    per_timestep = build_report(plan(network_from_dict(valid()), [1, 2]))["layers"][0]
    assert per_timestep["worst_case_sops_per_inference"] == 4 * 3 * 2


def test_a_direct_sample_is_sent_once():
    x = np.array([[[5, 0, 1]] * 4, [[0, 0, 0]] * 4])
    assert [e[:2] for e in input_events(x, direct=True)] == [(0, 0), (0, 0), (1, 0)]
    assert len(encode_inputs(x, direct=True)) == 3 * 7
    assert len(axi_input_words(x, direct=True)) == 3
    assert len(axi_input_words(x)) == 4 * 2 + 4
    np.testing.assert_array_equal(input_beats(x, direct=True), [[2, 0, 0, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(input_beats(x), [[2, 2, 2, 2], [1, 1, 1, 1]])


def test_schedule_holds_the_slot_of_a_direct_sample_until_its_last_timestep():
    # One dense layer of 2 neurons, 1 lane (2 chunks), T = 3, 2 non-zero inputs per sample:
    # 2 * 3 + 11 = 17 cycles at t = 0, 2 + 11 = 13 after; core 0 starts 3 cycles after the
    # last beat (the input stage's three stages). Hand-computed from README "Cycle model".
    assert STEP_OVERHEAD == 11 and INPUT_STAGE_LATENCY == 3
    obj = direct()
    obj["timesteps"] = 3
    obj["layers"] = obj["layers"][:1]
    obj["output"]["mode"] = "spike_count"
    net = network_from_dict(obj)
    design = plan(net, 1)
    x = np.repeat(np.array([[5, 0, 1]] * 3)[:, None], 3, axis=1)
    timeline = schedule(design, layer_inputs(x, trace(net, x)), input_beats(x, direct=True))
    # sample 0: beats at 0, 1; core 4-20, 21-33, 34-46; results 47-48.
    # sample 1: beats at 2, 3 (the other slot); core 47-63, 64-76, 77-89; results 90-91.
    # sample 2: its slot is sample 0's, free after cycle 46: beats at 47, 48; core 90-106, ...
    np.testing.assert_array_equal(timeline.first_input, [0, 2, 47])
    np.testing.assert_array_equal(timeline.starts[..., 0], [[4, 21, 34], [47, 64, 77],
                                                            [90, 107, 120]])
    np.testing.assert_array_equal(timeline.ends[..., 0], [[20, 33, 46], [63, 76, 89],
                                                          [106, 119, 132]])
    np.testing.assert_array_equal(timeline.last_output, [48, 91, 134])


def _tiny_nir(path):
    nir = pytest.importorskip("nir")
    graph = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([4])),
        nir.Affine(weight=np.array([[1.0, -2, 0, 3], [2, 1, 1, -1], [0, 0, 4, 1]]),
                   bias=np.zeros(3)),
        nir.IF(r=np.ones(3), v_threshold=np.full(3, 2.0), v_reset=np.zeros(3)),
        nir.Output(output_type=np.array([3])))
    nir.write(str(path), graph)


@pytest.mark.parametrize("option, encoding", [([], "per_timestep"),
                                              (["--encoding", "direct"], "direct")])
def test_nir_import_sets_the_encoding_it_is_told(tmp_path, option, encoding):
    _tiny_nir(tmp_path / "tiny.nir")
    assert main(["import", str(tmp_path / "tiny.nir"), "-o", str(tmp_path / "net.json"),
                 "--preset", "norse", "--timesteps", "4", *option]) == 0
    assert Network.load(tmp_path / "net.json").input.encoding == encoding


def test_nir_import_refuses_an_unknown_encoding_and_writes_nothing(tmp_path, capsys):
    _tiny_nir(tmp_path / "tiny.nir")
    with pytest.raises(SystemExit):
        main(["import", str(tmp_path / "tiny.nir"), "-o", str(tmp_path / "net.json"),
              "--preset", "norse", "--timesteps", "4", "--encoding", "rate"])
    assert "--encoding: invalid choice: 'rate'" in capsys.readouterr().err
    assert not (tmp_path / "net.json").exists()


def test_quantize_keeps_the_float_descriptions_encoding_or_the_option(tmp_path):
    rng = np.random.default_rng(4)
    description = float_description(rng)
    description["input"]["encoding"] = "direct"
    (tmp_path / "float.json").write_text(json.dumps(description))
    assert main(["quantize", str(tmp_path / "float.json"), "-o", str(tmp_path / "a.json")]) == 0
    assert Network.load(tmp_path / "a.json").input.encoding == "direct"
    assert main(["quantize", str(tmp_path / "float.json"), "-o", str(tmp_path / "b.json"),
                 "--encoding", "per_timestep"]) == 0
    assert Network.load(tmp_path / "b.json").input.encoding == "per_timestep"
    assert float_network_from_dict(float_description(rng)).input.encoding == "per_timestep"


def test_a_float_description_with_a_bad_encoding_is_refused_and_nothing_is_written(tmp_path,
                                                                                  capsys):
    description = float_description(np.random.default_rng(4))
    description["input"]["encoding"] = "pixels"
    (tmp_path / "float.json").write_text(json.dumps(description))
    assert main(["quantize", str(tmp_path / "float.json"), "-o", str(tmp_path / "n.json")]) == 2
    assert capsys.readouterr().err == ("spikeshift quantize: error: input.encoding must be one "
                                       "of 'per_timestep', 'direct', not 'pixels'\n")
    assert not (tmp_path / "n.json").exists()


def test_qcfs_conversion_gives_a_direct_network():
    from spikeshift.gen.frontends.convert import qcfs_mlp_to_network
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(5, 4)), rng.normal(size=(3, 5))]
    net, _ = qcfs_mlp_to_network(weights, [np.zeros(5), np.zeros(3)], [1.0], input_bits=4,
                                 timesteps=4)
    assert net.input.encoding == "direct"
    net, _ = qcfs_mlp_to_network(weights, [np.zeros(5), np.zeros(3)], [1.0], input_bits=4,
                                 timesteps=4, encoding="per_timestep")
    assert net.input.encoding == "per_timestep"


def test_the_report_counts_each_direct_sample_once_in_the_host_traffic():
    x = np.array([[[5, 0, 1]] * 4, [[0, 0, 0]] * 4])
    for obj, worst, measured in ((direct(), 3, (2 + 1) / 2), (valid(), 4 * 3, 4 * (2 + 1) / 2)):
        net = network_from_dict(obj)
        design = plan(net)
        assert build_report(design)["totals"]["input_beats_per_inference"] == worst
        report = build_report(design, inputs=layer_inputs(x, trace(net, x)))
        assert report["totals"]["input_beats_per_inference"] == measured
        assert report["input_encoding"] == net.input.encoding


def test_a_non_finite_direct_input_is_named_as_a_value_not_as_a_change():
    x = np.ones((2, 4, 3))
    x[1, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"^inputs\[1, 2, 1\] must be in \[0, 15\] for "
                                         r"input\.bits=4, not nan$"):
        predict(network_from_dict(direct()), x)


def test_predict_refuses_changing_direct_inputs_with_exit_2_and_writes_nothing(tmp_path,
                                                                               capsys):
    net = network_from_dict(direct())
    net.save(tmp_path / "net.json")
    x = np.ones((2, net.timesteps, 3), np.int64)
    x[0, 3, 2] = 0
    np.save(tmp_path / "x.npy", x)
    assert main(["predict", str(tmp_path / "net.json"), str(tmp_path / "x.npy"),
                 "-o", str(tmp_path / "out.npz")]) == 2
    assert capsys.readouterr().err.startswith("spikeshift predict: error: inputs[0] changes at "
                                              "timestep 3, but input.encoding is 'direct'")
    assert not (tmp_path / "out.npz").exists()
    np.save(tmp_path / "x.npy", x[:, 0])                       # one timestep per sample
    assert main(["predict", str(tmp_path / "net.json"), str(tmp_path / "x.npy"),
                 "-o", str(tmp_path / "out.npz")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "out.npz")["outputs"],
                                  predict(net, x[:, 0])[0])
