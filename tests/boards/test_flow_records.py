"""Board flow steps record what they were made from and never reuse another design's results."""

import json

import numpy as np
import pytest

from spikeshift.boards import flow
from spikeshift.boards.flow import run_step
from spikeshift.gen.cli.main import main
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.synthetic import dense_pot_network, random_inputs


@pytest.fixture
def nets():
    rng = np.random.default_rng(5)
    return dense_pot_network(rng, (12, 8, 4)), dense_pot_network(rng, (12, 8, 4))


def _verilog_of(out):
    return (out / "rtl" / "spikeshift_top.v").read_text()


def test_a_step_reruns_exactly_when_network_lanes_or_board_change(nets, tmp_path):
    a, b = nets
    first = run_step("verilog", a, "icebreaker", tmp_path, lanes=2)
    assert not first["up_to_date"]
    assert run_step("verilog", a, "icebreaker", tmp_path, lanes=2)["up_to_date"]
    assert run_step("verilog", a, "icebreaker", tmp_path, lanes=[2, 2])["up_to_date"]
    changed = [run_step("verilog", a, "icebreaker", tmp_path, lanes=4),
               run_step("verilog", a, "icebreaker", tmp_path),
               run_step("verilog", b, "icebreaker", tmp_path),
               run_step("verilog", b, "ulx3s", tmp_path)]
    assert [r["up_to_date"] for r in changed] == [False, False, False, False]
    record = json.loads((tmp_path / "verilog.json").read_text())
    assert record["made_from"]["design"] == plan(b).fingerprint
    assert record["made_from"]["board"] == "ulx3s"
    assert record["made_from"]["lanes"] == list(plan(b).lanes)


def test_a_rebuilt_step_holds_the_new_design_not_the_old(nets, tmp_path):
    a, b = nets
    run_step("verilog", a, "ulx3s", tmp_path)
    old = _verilog_of(tmp_path)
    run_step("verilog", b, "ulx3s", tmp_path)
    assert _verilog_of(tmp_path) != old
    run_step("verilog", a, "ulx3s", tmp_path)
    assert _verilog_of(tmp_path) == old


def test_a_step_rebuilds_the_steps_it_needs(nets, tmp_path, monkeypatch):
    a, b = nets
    calls = []
    monkeypatch.setitem(flow._RUN, "estimate",
                        lambda design, board, out, inputs: calls.append(design) or {"cells": {}})
    run_step("verilog", a, "ulx3s", tmp_path)
    run_step("estimate", b, "ulx3s", tmp_path)
    assert json.loads((tmp_path / "verilog.json").read_text())["made_from"]["design"] == \
        plan(b).fingerprint
    assert run_step("estimate", b, "ulx3s", tmp_path)["up_to_date"] and len(calls) == 1
    assert not run_step("estimate", b, "ulx3s", tmp_path, force=True)["up_to_date"]
    assert len(calls) == 2


def test_sim_records_its_inputs_and_reruns_when_they_change(nets, tmp_path, monkeypatch):
    a, _ = nets
    monkeypatch.setitem(flow._RUN, "sim", lambda design, board, out, inputs: {"samples": 0})
    x = tmp_path / "x.npy"
    np.save(x, random_inputs(np.random.default_rng(0), a, 2))
    assert not run_step("sim", a, "ulx3s", tmp_path / "f", inputs=x)["up_to_date"]
    assert run_step("sim", a, "ulx3s", tmp_path / "f", inputs=x)["up_to_date"]
    np.save(x, random_inputs(np.random.default_rng(1), a, 2))
    assert not run_step("sim", a, "ulx3s", tmp_path / "f", inputs=x)["up_to_date"]


def test_a_failed_step_leaves_no_record_that_looks_current(nets, tmp_path, monkeypatch):
    a, b = nets
    run_step("verilog", a, "ulx3s", tmp_path)
    monkeypatch.setitem(flow._RUN, "verilog", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_step("verilog", b, "ulx3s", tmp_path)
    assert not (tmp_path / "verilog.json").exists()


def test_a_tool_upgrade_makes_a_step_stale(nets, tmp_path, monkeypatch):
    a, _ = nets
    run_step("verilog", a, "ulx3s", tmp_path)
    real = flow._version
    monkeypatch.setattr(flow, "_version",
                        lambda name: "9.9" if name == "amaranth" else real(name))
    assert not run_step("verilog", a, "ulx3s", tmp_path)["up_to_date"]


def test_report_flow_refuses_results_of_another_design(nets, tmp_path, monkeypatch, capsys):
    a, b = nets
    monkeypatch.setitem(flow._RUN, "estimate", lambda design, board, out, inputs:
                        {"command": "synth_ecp5", "cells": {"LUT": 123}})
    a.save(tmp_path / "a.json")
    b.save(tmp_path / "b.json")
    run_step("estimate", a, "ulx3s", tmp_path / "flow")
    assert main(["report", str(tmp_path / "a.json"), "--flow", str(tmp_path / "flow")]) == 0
    assert "LUT 123" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "b.json"), "--flow", str(tmp_path / "flow")]) == 2
    assert "estimate.json was made from another design" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "a.json"), "--lanes", "1", "--flow",
                 str(tmp_path / "flow")]) == 2
    assert "lanes [1, 1]" in capsys.readouterr().err


def test_build_says_when_a_step_is_up_to_date(nets, tmp_path, capsys):
    a, _ = nets
    a.save(tmp_path / "a.json")
    args = ["build", str(tmp_path / "a.json"), "--board", "ulx3s", "--step", "verilog",
            "-o", str(tmp_path / "flow")]
    assert main(args) == 0
    assert "up to date" not in capsys.readouterr().err
    assert main(args) == 0
    assert "verilog is up to date" in capsys.readouterr().err


def test_changed_weights_in_the_same_files_rebuild_through_the_command_line(nets, tmp_path,
                                                                            capsys):
    a, b = nets
    a.save(tmp_path / "net.json", arrays="npz")
    args = ["build", str(tmp_path / "net.json"), "--board", "ulx3s", "--step", "verilog",
            "-o", str(tmp_path / "flow")]
    assert main(args) == 0 and main(args) == 0
    assert "verilog is up to date" in capsys.readouterr().err
    b.save(tmp_path / "net.json", arrays="npz")  # same names, other weights
    assert main(args) == 0
    assert "up to date" not in capsys.readouterr().err
    assert json.loads((tmp_path / "flow" / "verilog.json").read_text())["made_from"][
        "design"] == plan(b).fingerprint


def test_a_changed_generator_source_makes_a_step_stale(nets, tmp_path, monkeypatch):
    a, _ = nets
    run_step("verilog", a, "ulx3s", tmp_path)
    monkeypatch.setattr(flow, "_source_hash", lambda: "another generator")
    assert not run_step("verilog", a, "ulx3s", tmp_path)["up_to_date"]


def test_a_deleted_memory_image_makes_the_verilog_step_stale(nets, tmp_path):
    a, _ = nets
    run_step("verilog", a, "ulx3s", tmp_path)
    next((tmp_path / "rtl" / "mem").glob("*.hex")).unlink()
    assert not run_step("verilog", a, "ulx3s", tmp_path)["up_to_date"]


def test_makefile_steps_are_the_flow_steps():
    import subprocess
    out = subprocess.run(["make", "-pn", "-f", "Makefile", "nothing-at-all"],
                         capture_output=True, text=True, cwd=flow.Path(__file__).parents[2])
    phony = [line for line in out.stdout.splitlines() if line.startswith("FLOW_STEPS :=")]
    assert phony == ["FLOW_STEPS := " + " ".join(flow.STEPS)]
