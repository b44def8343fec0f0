"""Property-based fuzzing of every way a user hands spikeshift data: each case is a correct
result or one clean message with exit 2; never a traceback, never a file written on failure.

CI runs a bounded number of examples; ``make fuzz`` runs many more (SPIKESHIFT_FUZZ_EXAMPLES).
"""

import copy
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikeshift import predict
from spikeshift.gen.cli.main import main
from spikeshift.gen.ir.network import network_to_dict
from spikeshift.gen.ir.synthetic import random_inputs, random_network

EXAMPLES = int(os.environ.get("SPIKESHIFT_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="SPIKESHIFT_FUZZ_EXAMPLES"
                not in os.environ, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                          HealthCheck.too_slow])

# Values a careless or hostile file puts anywhere.
ODD = st.one_of(
    st.none(), st.booleans(), st.sampled_from([0, -1, 1, 2, 3, 7, 255, 2**31, 2**63, 2**64 - 1,
                                               -2**63, 10**30]),
    st.sampled_from([0.5, -0.5, 1e30, -1e30, float("inf"), float("-inf"), float("nan")]),
    st.sampled_from(["", "x", "dense", "pot", "int", "if", "lif", "subtract", "zero", "none",
                     "spike_count", "membrane", "../x.npz", "/etc/passwd"]),
    st.just([]), st.just({}), st.just([[1, 2], [3]]), st.just({"npz": ".", "key": "w"}),
    st.just({"npz": "/etc/passwd", "key": "w"}), st.just({"npz": "../up.npz", "key": "w"}))


@pytest.fixture(scope="module")
def valid():
    rng = np.random.default_rng(21)
    net = random_network(rng, max_layers=2, max_size=6)
    return net, network_to_dict(net), random_inputs(rng, net, 3)


def _paths(obj, prefix=()):
    """Every (path to a container, key) in a JSON object."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for key, value in items:
        yield prefix, key
        if isinstance(value, (dict, list)) and value:
            yield from _paths(value, (*prefix, key))


def _mutate(obj, data):
    obj = json.loads(json.dumps(obj))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        where, key = data.draw(st.sampled_from(list(_paths(obj))), label="field")
        node = obj
        for step in where:
            node = node[step]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
        if action == "delete":
            del node[key]
        elif action == "add" and isinstance(node, dict):
            node[data.draw(st.sampled_from(["extra", "kind", "bits", "npz"]))] = \
                copy.deepcopy(data.draw(ODD))
        else:
            node[key] = copy.deepcopy(data.draw(ODD, label="value"))
        if not list(_paths(obj)):
            break
    return obj


def _listing(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _run(argv, capsys, folder):
    """main(argv): exit 0, or exit 2 with one message line and nothing written to `folder`."""
    before = _listing(folder)
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    out, err = capsys.readouterr()
    assert code in (0, 2), (code, err)
    if code == 2:
        last = err.strip().splitlines()[-1]
        assert last.startswith((f"spikeshift {argv[0]}: error: ", "spikeshift: error: ")), err
        assert "Traceback" not in err
        assert _listing(folder) == before, "a failed command wrote files"
    return code


@FUZZ
@given(data=st.data())
def test_mutated_descriptions_predict_exactly_or_exit_2(valid, data, tmp_path_factory, capsys):
    net, obj, x = valid
    folder = tmp_path_factory.mktemp("desc")
    np.savez(folder / "w.npz", w=np.ones((2, 2), int))
    text = json.dumps(_mutate(obj, data))
    (folder / "net.json").write_text(text)
    np.save(folder / "x.npy", x)
    code = _run(["predict", str(folder / "net.json"), str(folder / "x.npy"), "-o",
                 str(folder / "out.npz")], capsys, folder)
    if code == 0:
        from spikeshift.gen.ir.network import load_network
        loaded = load_network(folder / "net.json")
        outputs, classes = predict(loaded, x)
        np.testing.assert_array_equal(np.load(folder / "out.npz")["outputs"], outputs)
    shutil.rmtree(folder)


INPUT_ARRAYS = st.one_of(
    st.tuples(st.sampled_from(["int8", "int64", "uint64", "float64", "float32", "bool",
                               "complex64", "U3"]),
              st.lists(st.integers(0, 9), min_size=0, max_size=4),
              st.sampled_from([0, 1, 15, 16, -1, 2**63, 2**64 - 1, "inf", "nan", 0.5])))


@FUZZ
@given(spec=INPUT_ARRAYS, seed=st.integers(0, 100))
def test_odd_input_arrays_predict_exactly_or_exit_2(valid, spec, seed, tmp_path_factory, capsys):
    net, _, x = valid
    folder = tmp_path_factory.mktemp("inputs")
    net.save(folder / "net.json")
    dtype, shape, poke = spec
    rng = np.random.default_rng(seed)
    if rng.random() < 0.5:
        shape = [len(x), net.timesteps, net.input.size]
    arr = rng.integers(0, 2, size=shape)
    try:
        arr = arr.astype(dtype)
        if arr.size and dtype not in ("bool", "U3"):
            with np.errstate(all="ignore"):
                arr.flat[rng.integers(arr.size)] = float(poke) if isinstance(poke, str) else poke
    except (OverflowError, ValueError):
        pass
    np.save(folder / "x.npy", arr)
    code = _run(["predict", str(folder / "net.json"), str(folder / "x.npy"), "-o",
                 str(folder / "out.npz")], capsys, folder)
    if code == 0:
        np.testing.assert_array_equal(np.load(folder / "out.npz")["outputs"],
                                      predict(net, arr)[0])
    shutil.rmtree(folder)


TOKENS = st.sampled_from(["-o", "--lanes", "--inputs", "--trace", "--json", "--flow",
                          "--timesteps", "--bits", "--weights", "--input-bits", "--sample",
                          "--neurons", "--preset", "--report", "--data", "--labels",
                          "NET", "X", "OUT", "DIR", "", ".", "/", "/proc/x", "NET/x", "0", "-1",
                          "1", "3", "99", "99,3", "2,2", "1e30", "nan", "pot", "int", "x,y",
                          "100", "snntorch"])
COMMANDS = ["predict", "report", "generate", "quantize", "import", "plot"]


@FUZZ
@given(command=st.sampled_from(COMMANDS), tokens=st.lists(TOKENS, max_size=8))
def test_random_command_lines_work_or_exit_2(valid, command, tokens, tmp_path_factory, capsys,
                                            monkeypatch):
    net, _, x = valid
    folder = tmp_path_factory.mktemp("argv")
    monkeypatch.chdir(folder)  # relative outputs ("-o 3") land here, where they are seen
    net.save(folder / "NET")
    np.save(folder / "X", x)
    os.replace(folder / "X.npy", folder / "X")
    names = {"NET": folder / "NET", "X": folder / "X", "OUT": folder / "OUT.npz",
             "DIR": folder / "DIR", "NET/x": folder / "NET" / "x"}
    argv = [command] + [str(names.get(t, t)) for t in tokens]
    _run(argv, capsys, folder)
    monkeypatch.undo()
    shutil.rmtree(folder)


@FUZZ
@given(data=st.data())
def test_mutated_float_descriptions_quantize_or_exit_2(data, tmp_path_factory, capsys):
    from ..gen.test_quantize import float_description
    folder = tmp_path_factory.mktemp("float")
    obj = float_description(np.random.default_rng(0))
    (folder / "float.json").write_text(json.dumps(_mutate(obj, data)))
    weights = data.draw(st.sampled_from(["pot", "int"]), label="weights")
    code = _run(["quantize", str(folder / "float.json"), "-o", str(folder / "q.json"),
                 "--weights", weights, "--bits", "4"], capsys, folder)
    if code == 0:
        from spikeshift.gen.ir.network import load_network
        assert load_network(folder / "q.json").layers
    shutil.rmtree(folder)
