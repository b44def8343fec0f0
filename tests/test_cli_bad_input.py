"""Each bad input a user has tried: exit 2, one message naming the argument or field and the
value, nothing written, no code run."""

import json
import pickle

import numpy as np
import pytest

from spikeshift.gen.cli.main import main
from spikeshift.gen.ir.synthetic import random_inputs, random_network

from .gen.test_quantize import float_description


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(4)
    net = random_network(rng, max_layers=2, max_size=8)
    net.save("net.json")
    np.save("x.npy", random_inputs(rng, net, 3))
    (tmp_path / "float.json").write_text(json.dumps(float_description(rng)))
    return tmp_path


def _listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _fails(capsys, folder, argv, message):
    before = _listing(folder)
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert message in err.strip().splitlines()[-1], err
    assert _listing(folder) == before


CASES = [
    (["predict", "net.json", "x.npy", "-o", ""], "-o must name a file, not ''"),
    (["predict", "net.json", "x.npy", "-o", "net.json"], ("-o 'net.json' is one of the command's "
                                                         "inputs")),
    (["predict", "net.json", "x.npy", "-o", "net.json/out.npz"], "is a file, not a folder"),
    (["predict", "net.json", "x.npy", "-o", "/proc/out.npz"], ("the folder '/proc' is not "
                                                              "writable")),
    (["predict", "net.json", "nope.npy", "-o", "o.npz"], "INPUTS 'nope.npy' is not a file"),
    (["predict", "net.json", ".", "-o", "o.npz"], "INPUTS '.' is not a file"),
    (["predict", "nope.json", "x.npy", "-o", "o.npz"], "NET.json 'nope.json' is not a file"),
    (["generate", "net.json", "-o", ""], "-o must name a folder, not ''"),
    (["generate", "net.json", "-o", "net.json"], "-o 'net.json' is a file; it must be a folder"),
    (["verify", "net.json", "x.npy", "-o", "/proc/v.npz"], "the folder '/proc' is not writable"),
    (["verify", "net.json", "x.npy", "--seed", "-1"],
     "argument --seed: must be an integer in [0, "),
    (["quantize", "float.json", "-o", "q.json", "--bits", "40"],
     "argument --bits: must be an integer in [2, 24], not '40'"),
    (["quantize", "float.json", "-o", "q.json", "--bits", "8"],
     "--bits must be in [2, 6] for --weights pot, not 8"),
    (["quantize", "float.json", "-o", "q.json", "--timesteps", "-1"],
     "argument --timesteps: must be an integer in [1, 65536], not '-1'"),
    (["quantize", "float.json", "-o", "q.json", "--report", "/proc/r.json"],
     "--report '/proc/r.json': the folder '/proc' is not writable"),
    (["quantize", "model.pt", "-o", "q.json", "--timesteps", "4", "--input-bits", "0"],
     "argument --input-bits: must be an integer in [1, 16], not '0'"),
    (["import", "net.json", "-o", "n.json", "--preset", "snntorch", "--timesteps", "4"],
     "MODEL 'net.json' is not a NIR graph"),
    (["import", "x.nir", "-o", "n.json", "--preset", "snntorch", "--timesteps", "4",
      "--lossy", "--weight-bits", "1"],
     "argument --weight-bits: must be an integer in [2, 24], not '1'"),
    (["import", "x.nir", "-o", "n.json", "--preset", "sinabs", "--timesteps", "4",
      "--max-spikes", "0"], "argument --max-spikes: must be a positive integer or 'any', not '0'"),
    (["import", "x.nir", "-o", "n.json", "--preset", "sinabs", "--timesteps", "4",
      "--reset", "soft"], "argument --reset: invalid choice: 'soft'"),
    (["plot", "net.json", "x.npy", "-o", "plots", "--neurons", "100"],
     "--neurons 100: 100 is in no layer (the widest has neurons 0 to "),
    (["report", "net.json", "--inputs", "empty.npy"], "INPUTS 'empty.npy' holds no samples"),
]


@pytest.mark.parametrize("argv, message", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_command_lines_exit_2_naming_the_argument(work, capsys, argv, message):
    np.save("empty.npy", np.zeros((0, 4, 3), int))
    _fails(capsys, work, argv, message)


@pytest.mark.parametrize("dtype, poke, message", [
    ("complex128", None, "inputs must hold integers, not complex128 values"),
    ("float64", float("inf"), "not inf"),
    ("uint64", 2**64 - 1, "not 18446744073709551615"),
    ("float64", 0.5, "must hold integers, not float64 values with fractions"),
])
def test_odd_input_arrays_are_named_with_their_true_values(work, capsys, dtype, poke, message):
    x = np.load("x.npy").astype(dtype)
    if poke is not None:
        x.flat[0] = poke
    np.save("odd.npy", x)
    _fails(capsys, work, ["predict", "net.json", "odd.npy", "-o", "o.npz"], message)


def test_a_checkpoint_that_needs_code_is_refused_and_never_unpickled(work, capsys):
    torch = pytest.importorskip("torch")
    marker = work / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    torch.save({"model": Payload()}, "evil.pt")
    _fails(capsys, work, ["quantize", "evil.pt", "-o", "q.json", "--timesteps", "4"],
           "which spikeshift does not load: unpickling it could run any code")
    assert not marker.exists()
    with open("garbage.pt", "wb") as f:
        pickle.dump([1, 2], f)
        f.write(b"\x00" * 7)
    _fails(capsys, work, ["quantize", "garbage.pt", "-o", "q.json", "--timesteps", "4"],
           "SOURCE 'garbage.pt' is not a PyTorch checkpoint")


def test_a_qcfs_checkpoint_still_converts(work, capsys):
    torch = pytest.importorskip("torch")
    from spikeshift.gen.frontends.torch_qcfs import QCFS
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 5), QCFS(4),
                                torch.nn.Linear(5, 3))
    torch.save(model, "model.pt")
    assert main(["quantize", "model.pt", "-o", "q.json", "--timesteps", "4"]) == 0
    saved = json.loads((work / "q.json").read_text())
    assert [layer["size"] for layer in saved["layers"]] == [5, 3]


def test_quantize_report_into_a_new_folder_writes_both(work, capsys):
    assert main(["quantize", "float.json", "-o", "q.json", "--report", "new/r.json"]) == 0
    assert json.loads((work / "new" / "r.json").read_text())["layers"]
    assert (work / "q.json").exists()


def test_npz_references_stay_inside_the_description_folder(work, capsys):
    obj = json.loads((work / "net.json").read_text())
    (work / "sub").mkdir()
    np.savez("w.npz", w=np.asarray(obj["layers"][0]["weights"]["values"]))
    for ref, message in [("/etc/passwd", "not '/etc/passwd'"), ("../w.npz", "not '../w.npz'"),
                         (".", "not '.'")]:
        obj["layers"][0]["weights"]["values"] = {"npz": ref, "key": "w"}
        (work / "sub" / "n.json").write_text(json.dumps(obj))
        _fails(capsys, work, ["report", "sub/n.json"],
               "layers[0].weights.values.npz must name an .npz file inside the description's "
               f"folder, {message}")


def test_a_missing_extra_names_the_extra(work, capsys, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    _fails(capsys, work, ["plot", "net.json", "x.npy", "-o", "plots"],
           "pip install 'spikeshift[plot]'")


def test_outputs_never_overwrite_an_input_even_inside_a_folder_or_an_npz(work, capsys):
    from spikeshift.gen.ir.network import load_network
    load_network("net.json").save(work / "split.json", arrays="npz")
    _fails(capsys, work, ["predict", "split.json", "x.npy", "-o", "split.npz"],
           "-o 'split.npz' is one of the command's inputs")
    (work / "gen").mkdir()
    (work / "gen" / "report.json").write_text((work / "net.json").read_text())
    _fails(capsys, work, ["generate", "gen/report.json", "-o", "gen"],
           "-o 'gen' would overwrite the input")
    _fails(capsys, work, ["quantize", "float.json", "-o", "q.json", "--report", "q.json"],
           "--report and -o name the same file 'q.json'")
    assert main(["generate", "gen/report.json", "-o", "other"]) == 0  # a folder of its own


def test_build_names_bad_sample_inputs_before_any_step(work, capsys):
    np.savez("arch.npz", x=np.zeros(3))
    (work / "garbage.npy").write_bytes(b"\x93NUMPY garbage")
    for name, message in [("arch.npz", "--inputs 'arch.npz' is an .npz archive"),
                          ("garbage.npy", "--inputs 'garbage.npy' is not a .npy array"),
                          ("x2.npy", "inputs must have shape")]:
        np.save("x2.npy", np.zeros((2, 3, 3), int))
        _fails(capsys, work, ["build", "net.json", "--board", "ulx3s", "--step", "sim", "-o",
                              "flow", "--inputs", name], message)
