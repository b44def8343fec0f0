import json

import numpy as np
import pytest

from spikeshift import predict, trace
from spikeshift.gen.cli.main import main
from spikeshift.gen.ir.network import network_from_dict
from spikeshift.gen.ir.synthetic import random_inputs, random_network

from .gen.test_description import valid
from .recurrent_cases import is_recurrent, recurrent_case


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(11)
    net = random_network(rng)
    x = random_inputs(rng, net, 4)
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", x)
    return net, x, tmp_path


def test_predict_writes_outputs_classes_and_trace(files):
    net, x, tmp = files
    assert main(["predict", str(tmp / "net.json"), str(tmp / "x.npy"), "-o",
                 str(tmp / "out.npz"), "--trace"]) == 0
    out = np.load(tmp / "out.npz")
    outputs, classes = predict(net, x)
    np.testing.assert_array_equal(out["outputs"], outputs)
    np.testing.assert_array_equal(out["classes"], classes)
    result = trace(net, x)
    for i in range(len(net.layers)):
        np.testing.assert_array_equal(out[f"layer{i}_spikes"], result.spikes[i])
        np.testing.assert_array_equal(out[f"layer{i}_membranes"], result.membranes[i])


def test_report_prints_per_layer_table_and_json(files, capsys):
    net, x, tmp = files
    assert main(["report", str(tmp / "net.json"), "--json", "--inputs", str(tmp / "x.npy")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [e["neurons"] for e in report["layers"]] == [layer.size for layer in net.layers]
    pot = [e for e in report["layers"] if e["weight_format"] == "pot"]
    assert all(e["multipliers"] == 0 for e in pot)


def test_bad_description_exits_2_with_the_field_path_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "net.json").write_text(json.dumps({"format": "spikeshift-network"}))
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 1), int))
    assert main(["predict", str(tmp_path / "net.json"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "out.npz")]) == 2
    assert capsys.readouterr().err == "spikeshift predict: error: version is required\n"
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.cocotb
def test_generate_and_verify_commands(files, capsys):
    net, x, tmp = files
    assert main(["generate", str(tmp / "net.json"), "-o", str(tmp / "gen")]) == 0
    assert (tmp / "gen" / "spikeshift_top.v").read_text().count("module spikeshift_top(") == 1
    assert len(list((tmp / "gen" / "mem").glob("*.hex"))) == len(net.layers)
    capsys.readouterr()
    assert main(["verify", str(tmp / "net.json"), str(tmp / "x.npy"), "-o",
                 str(tmp / "v.npz")]) == 0
    out = np.load(tmp / "v.npz")
    np.testing.assert_array_equal(out["outputs"], predict(net, x)[0])
    assert out["step_cycles"].shape == (len(x), net.timesteps, len(net.layers))
    np.testing.assert_array_equal(out["last_flags"], out["expected_last_flags"])
    assert bool(out["ok"])
    # a few samples: Verilator's build would not pay, whether or not it is installed
    printed = capsys.readouterr().err
    assert str(out["simulator"]) == "icarus" and "simulator: icarus (" in printed
    assert int(out["simulated_cycles"]) >= out["step_cycles"].sum(axis=(0, 1)).max()
    assert f"{float(out['cycles_per_second']):,.0f} cycles/s (icarus)" in printed


@pytest.mark.cocotb
def test_generate_report_and_verify_a_recurrent_network(tmp_path, capsys):
    net, x, _ = recurrent_case(1)
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", x)
    recurrent = [i for i, layer in enumerate(net.layers) if is_recurrent(layer)]
    assert main(["generate", str(tmp_path / "net.json"), "-o", str(tmp_path / "gen")]) == 0
    hex_files = {path.name for path in (tmp_path / "gen" / "mem").glob("*.hex")}
    assert {f"layer{i}_recurrent.hex" for i in recurrent} <= hex_files
    capsys.readouterr()
    assert main(["report", str(tmp_path / "net.json"), "--json", "--inputs",
                 str(tmp_path / "x.npy")]) == 0
    rows = json.loads(capsys.readouterr().out)["layers"]
    for i in recurrent:
        assert rows[i]["cycle_formula"].endswith("* (n + r + 1) + 11")
        assert rows[i]["recurrent_memory"]["bits"] > 0
    assert sum(rows[i]["mean_fed_back_spikes_per_timestep"] for i in recurrent) > 0
    assert main(["report", str(tmp_path / "net.json"), "--inputs",   # the same balanced lanes
                 str(tmp_path / "x.npy")]) == 0
    text = capsys.readouterr().out
    for i in recurrent:
        assert (f"layer {i}: recurrent weights {net.layers[i].recurrent.format}"
                f"{net.layers[i].recurrent.code_bits}, {rows[i]['recurrent_synapses']} "
                f"synapses, {rows[i]['recurrent_memory']['bits']} bits; fed-back spike list "
                f"{rows[i]['fed_back_memory_bits']} bits") in text
    assert main(["verify", str(tmp_path / "net.json"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "v.npz"), "--seed", "3"]) == 0
    out = np.load(tmp_path / "v.npz")
    np.testing.assert_array_equal(out["outputs"], predict(net, x)[0])
    np.testing.assert_array_equal(out["step_cycles"], out["expected_step_cycles"])


def test_verify_exits_1_when_a_testbench_check_fails(files, monkeypatch, capsys):
    from spikeshift.sim import rtl_run

    def failing(*args, **kwargs):
        raise rtl_run.TestbenchFailed("1 of 1 cocotb tests failed; see sim_1.log\nrun: no progress")
    monkeypatch.setattr("spikeshift.gen.flow.verify.verify", failing)
    net, x, tmp = files
    assert main(["verify", str(tmp / "net.json"), str(tmp / "x.npy"), "-o",
                 str(tmp / "v.npz")]) == 1
    assert capsys.readouterr().err.startswith("FAILED: 1 of 1 cocotb tests failed; see sim_1.log")
    assert not (tmp / "v.npz").exists()


def _report_with_bitstream_record(files, capsys, **record) -> list[str]:
    """The lines of `spikeshift report --flow` over a bitstream record of the given fields."""
    net, x, tmp = files
    flow = tmp / "flow"
    flow.mkdir(exist_ok=True)
    from spikeshift.gen.ir.design import plan
    (flow / "bitstream.json").write_text(json.dumps({
        "made_from": {"design": plan(net).fingerprint}, "board": "ulx3s", **record,
        "clock_mhz": 25.0, "meets_clock": True,
        "utilisation": {"TRELLIS_COMB": {"used": 10, "available": 20}}, "seconds": 1}))
    assert main(["report", str(tmp / "net.json"), "--flow", str(flow)]) == 0
    return capsys.readouterr().out.splitlines()


def test_report_adds_the_resources_and_fmax_a_flow_wrote(files, capsys):
    lines = _report_with_bitstream_record(files, capsys, fmax_mhz=59.4)
    assert lines[-1] == "ulx3s bitstream: Fmax 59.4 MHz (board clock 25.0 MHz); TRELLIS_COMB 10/20"
    assert main(["report", str(files[2] / "net.json"), "--flow", str(files[2])]) == 2


def test_report_gives_the_median_fmax_of_the_seeds_and_the_critical_path(files, capsys):
    lines = _report_with_bitstream_record(
        files, capsys, fmax_mhz=101.5, fmax_mhz_by_seed={"1": 99.0, "2": 101.5, "3": 104.2},
        critical_path={"from": "core_0.s3_v", "to": "core_0.neuron_0.total_r",
                       "first_net": "core_0.s3_v[3]", "delay_ns": 9.85,
                       "sources": ["spikeshift/hdl/neuron.py:120"]})
    assert lines[-2:] == [
        ("ulx3s bitstream: Fmax 101.5 MHz, median of seeds 1: 99.0, 2: 101.5, 3: 104.2 (board "
         "clock 25.0 MHz); TRELLIS_COMB 10/20"),
        ("critical path (9.85 ns): core_0.s3_v -> core_0.neuron_0.total_r; through "
         "spikeshift/hdl/neuron.py:120")]


def test_report_shows_per_neuron_parameters_as_ranges(tmp_path, capsys):
    obj = valid()
    obj["layers"][0]["neuron"] |= {"model": "lif", "threshold": [3, 17],
                                   "leak": {"shift": [1, 4]}}
    obj["layers"][1]["neuron"]["leak"] = {"subtract": 2}
    network_from_dict(obj).save(tmp_path / "net.json")
    assert main(["report", str(tmp_path / "net.json")]) == 0
    text = capsys.readouterr().out
    assert ("layer 0 neuron: lif, θ 3..17 per neuron, leak shift 1..4 per neuron, reset "
            "subtract, S 1, v_init 8, v 12 bit") in text
    assert "layer 1 neuron: integrator, leak subtract 2, v_init 0, v 16 bit" in text
    assert main(["report", str(tmp_path / "net.json"), "--json"]) == 0
    neuron = json.loads(capsys.readouterr().out)["layers"][0]["neuron"]
    assert neuron["threshold"] == {"per_neuron": True, "min": 3, "max": 17}
    assert neuron["leak_shift"] == {"per_neuron": True, "min": 1, "max": 4}
    assert neuron["v_init"] == 8


def test_predict_trace_holds_the_synaptic_currents_of_cuba_lif_layers(tmp_path):
    obj = valid()
    obj["layers"][0]["neuron"] |= {"model": "cuba_lif", "syn_shift": 1, "i_bits": 8}
    net = network_from_dict(obj)
    net.save(tmp_path / "net.json")
    x = np.random.default_rng(0).integers(0, 16, (3, 4, 3))
    np.save(tmp_path / "x.npy", x)
    assert main(["predict", str(tmp_path / "net.json"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "out.npz"), "--trace"]) == 0
    out = np.load(tmp_path / "out.npz")
    assert "layer0_syn_currents" in out and "layer1_syn_currents" not in out
    np.testing.assert_array_equal(out["layer0_syn_currents"], trace(net, x).syn_currents[0])
    assert out["layer0_syn_currents"].any()
