"""`spikeshift explore` from the command line: a front that reproduces by hand, resuming
through the command, and bad input refused with exit 2 and nothing written."""

import json
import sys

import numpy as np
import pytest

from spikeshift.boards.fit import estimate_resources
from spikeshift.gen.cli.main import main
from spikeshift.gen.flow.report import build_report
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.network import Network
from spikeshift.sim.cycles import layer_inputs
from spikeshift.sim.golden import trace

from .tiny import write_tiny


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tiny(tmp_path)
    return tmp_path


BASE = ["explore", "float.json", "--data", "x.npy", "--labels", "y.npy", "--scheduler",
        "serial", "--seed", "1", "--batch", "4"]


def test_explore_writes_a_pareto_front_that_reproduces_by_hand(work, capsys):
    argv = BASE + ["-o", "out", "--timesteps", "2,4", "--weights", "pot3,int4",
                   "--lanes", "1,4", "--trials", "8"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "# Pareto front: float on ulx3s" in out
    summary = json.loads((work / "out/pareto.json").read_text())
    assert summary["trials"] == 8 and summary["space_size"] == 2 * 2 * 2 * 2
    assert summary["pareto"]
    for name in summary["files"]:
        assert (work / "out" / name).is_file(), name
    labels = np.load("y.npy")
    for entry in summary["pareto"]:
        net = Network.load(work / "out" / entry["description"])
        x = np.load(work / f"out/candidates/inputs-T{net.timesteps}.npy")
        golden = trace(net, x)
        measures = entry["measures"]
        assert net.timesteps == entry["knobs"]["timesteps"]
        assert (golden.classes == labels).mean() == entry["objectives"]["accuracy"]
        design = plan(net, measures["lanes"])
        report = build_report(design, inputs=layer_inputs(x, golden))
        assert [e["model_cycles_per_inference"] for e in report["layers"]] == \
            measures["layer_cycles"]
        assert report["totals"]["energy_pj_per_inference"] == entry["objectives"]["energy"]
        assert estimate_resources(design)["luts"] == entry["objectives"]["luts"]
        assert f"LANES={','.join(map(str, measures['lanes']))}" in entry["commands"]["bitstream"]


def test_running_the_command_again_extends_the_same_study(work, capsys):
    assert main(BASE + ["-o", "out", "--trials", "4"]) == 0
    first = json.loads((work / "out/pareto.json").read_text())
    assert main(BASE + ["-o", "out", "--trials", "8"]) == 0
    second = json.loads((work / "out/pareto.json").read_text())
    assert (first["trials"], second["trials"]) == (4, 8)
    listed = {f for f in second["files"]}
    on_disk = {str(p.relative_to(work / "out")) for p in (work / "out").rglob("*")
               if p.is_file() and p.name != "study.db"}
    assert on_disk == listed  # candidates that left the front are gone


def test_an_integer_description_varies_only_timesteps_and_lanes(work, capsys):
    assert main(["quantize", "float.json", "-o", "net.json"]) == 0
    argv = ["explore", "net.json", "--data", "x.npy", "--labels", "y.npy", "--scheduler",
            "serial", "-o", "out", "--trials", "4", "--timesteps", "4,8"]
    assert main(argv) == 0
    summary = json.loads((work / "out/pareto.json").read_text())
    assert summary["space"]["weights"] is None
    assert {tuple(e["knobs"]) for e in summary["pareto"]} == {("timesteps", "lanes")}


def _listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("extra, message", [
    (["--weights", "pot9x"], ("argument --weights: must be a comma-separated list of weight "
                             "formats pot2 to pot6 (sign + exponent code bits) or int2 to "
                             "int24, not 'pot9x'")),
    (["--weights", "pot4,pot7"], "not 'pot4,pot7'"),
    (["--timesteps", ""], ("argument --timesteps: must be a comma-separated list of integers "
                          "in [1, 65536], not ''")),
    (["--timesteps", "4,,8"], "argument --timesteps: must be a comma-separated list"),
    (["--lanes", "0,4"], ("argument --lanes: must be a comma-separated list of integers in "
                         "[1, 256], not '0,4'")),
    (["--lanes", "257"], ("argument --lanes: must be a comma-separated list of integers in "
                         "[1, 256], not '257'")),
    (["--objectives", "accuracy,speed"], ("argument --objectives: must be a comma-separated "
                                         "list of accuracy, latency, throughput, luts, ffs, "
                                         "brams, dsps, energy, not 'accuracy,speed'")),
    (["--objectives", "accuracy,ffs"], "--objectives ffs needs --resources yosys or nextpnr"),
    (["--resources", "nextpnr", "--board", "zcu104"], ("--resources nextpnr needs an "
                                                      "open-flow board")),
    (["--labels", "short.npy"], ("--labels must be integers of shape (40,) like --data, not "
                                "int64 of shape (39,)")),
    (["--labels", "big.npy"], ("--labels must be classes in [0, 3] (the network's outputs), "
                              "not 7")),
    (["--data", "wide.npy"], ("--data 'wide.npy': inputs must have shape (batch, 8, 12), not "
                             "(40, 8, 13)")),
    (["--data", "varying.npy", "--timesteps", "4"], ("--timesteps 4: the --data inputs vary "
                                                    "over their 8 timesteps")),
    (["--min-accuracy", "1.5"], ("argument --min-accuracy: must be a number in [0, 1], not "
                                "'1.5'")),
    (["--study", "float.json"], "is one of the command's inputs"),
    (["--study", "not-a-study.db"], "--study 'not-a-study.db' is not an exploration study"),
])
def test_bad_input_exits_2_naming_the_option_and_writes_nothing(work, capsys, extra, message):
    np.save("short.npy", np.load("y.npy")[:-1])
    np.save("big.npy", np.full(40, 7))
    np.save("wide.npy", np.zeros((40, 8, 13), np.int64))
    varying = np.random.default_rng(0).integers(0, 4, (40, 8, 12))
    np.save("varying.npy", varying)
    (work / "not-a-study.db").write_text("notes\n")
    before = _listing(work)
    try:
        code = main(BASE + ["-o", "out"] + extra)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert message in err, err
    assert _listing(work) == before


def test_a_study_of_another_source_or_other_knobs_is_refused(work, capsys):
    assert main(BASE + ["-o", "out", "--trials", "2"]) == 0
    study = work / "out/study.db"
    before = study.read_bytes()
    description = json.loads((work / "float.json").read_text())
    description["layers"][0]["neuron"]["threshold"] = 2.0
    (work / "other.json").write_text(json.dumps(description))
    capsys.readouterr()
    assert main(BASE[:1] + ["other.json"] + BASE[2:] + ["-o", "out", "--trials", "2"]) == 2
    assert "--study 'out/study.db' explores another source (float 'float'" in \
        capsys.readouterr().err
    assert main(BASE + ["-o", "out", "--trials", "2", "--timesteps", "2"]) == 2
    assert ("--timesteps gives [2], but --study 'out/study.db' explores [8]; give the study's "
            "knobs or a new --study file") in capsys.readouterr().err
    assert main(BASE + ["-o", "out", "--trials", "2", "--seed", "5"]) == 2
    assert "--seed gives 5, but --study" in capsys.readouterr().err
    assert study.read_bytes() == before


def test_an_integer_description_refuses_the_quantization_knobs(work, capsys):
    assert main(["quantize", "float.json", "-o", "net.json"]) == 0
    capsys.readouterr()
    argv = ["explore", "net.json", "--data", "x.npy", "--labels", "y.npy", "-o", "out"]
    assert main(argv + ["--weights", "pot4"]) == 2
    assert ("--weights pot4: SOURCE 'net.json' is an integer description, whose weights and "
            "spikes are fixed; only --timesteps and --lanes vary") in capsys.readouterr().err
    assert main(argv + ["--spike-bits", "2"]) == 2
    assert "--spike-bits 2: SOURCE 'net.json' is an integer description" in \
        capsys.readouterr().err
    assert not (work / "out").exists()


def test_a_missing_explore_extra_is_named(work, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    assert main(BASE + ["-o", "out"]) == 2
    assert "pip install 'spikeshift[explore]'" in capsys.readouterr().err
    assert not (work / "out").exists()


def test_a_qcfs_checkpoint_is_converted_again_for_every_candidate(work, capsys):
    torch = pytest.importorskip("torch")
    from spikeshift.gen.frontends.torch_qcfs import QCFS
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(12, 8), QCFS(4), torch.nn.Linear(8, 4))
    torch.save(model, "model.pt")
    argv = ["explore", "model.pt", "--data", "x.npy", "--labels", "y.npy", "--scheduler",
            "serial", "-o", "out", "--trials", "6", "--input-bits", "2"]
    assert main(argv + ["--timesteps", "2,4", "--weights", "pot3,pot5"]) == 0
    summary = json.loads((work / "out/pareto.json").read_text())
    assert summary["source"]["kind"] == "checkpoint" and summary["complete"] == 6
    for entry in summary["pareto"]:
        net = Network.load(work / "out" / entry["description"])
        assert net.timesteps == entry["knobs"]["timesteps"]
        assert net.layers[0].weights.format == "pot"
    capsys.readouterr()
    assert main(argv + ["--timesteps", "2", "--weights", "int4"]) == 2
    assert "--weights int4: a QCFS checkpoint converts with PoT weights only" in \
        capsys.readouterr().err
    assert main(argv) == 2
    assert "--timesteps is required for a PyTorch checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("unflatten", [True, False])
def test_a_convolutional_checkpoint_explores_with_its_input_map(work, capsys, unflatten):
    """The map comes from a first nn.Unflatten, or from --input-shape; every layer of the
    converted network (conv2d, flatten, dense) gets its own lanes knob."""
    torch = pytest.importorskip("torch")
    from spikeshift.gen.frontends.torch_qcfs import QCFS
    torch.manual_seed(0)
    body = [torch.nn.Conv2d(1, 4, (2, 2)), QCFS(4), torch.nn.Flatten(),
            torch.nn.Linear(24, 4)]
    model = torch.nn.Sequential(*([torch.nn.Unflatten(1, (1, 3, 4))] if unflatten else []),
                                *body)
    torch.save(model, "cnn.pt")
    argv = ["explore", "cnn.pt", "--data", "x.npy", "--labels", "y.npy", "--scheduler",
            "serial", "-o", "out", "--trials", "3", "--input-bits", "2", "--timesteps", "2",
            "--lanes", "1,2"] + ([] if unflatten else ["--input-shape", "1,3,4"])
    assert main(argv) == 0, capsys.readouterr().err
    summary = json.loads((work / "out/pareto.json").read_text())
    for entry in summary["pareto"]:
        net = Network.load(work / "out" / entry["description"])
        assert [layer.kind for layer in net.layers] == ["conv2d", "flatten", "dense"]
        assert net.input.shape == (1, 3, 4)
        assert len(entry["measures"]["lanes"]) == 3
