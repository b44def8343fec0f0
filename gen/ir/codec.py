"""The JSON network description (DESIGN.md §2): the only place where dicts become a Network.

Large arrays may live in an ``.npz`` beside the JSON: anywhere an integer array is expected,
``{"npz": "arrays.npz", "key": "fc1"}`` stands for ``numpy.load("arrays.npz")["fc1"]`` (the
path is relative to the JSON file). Every error names the field path, the value and what is
allowed; loading never half-builds anything.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .formats import IntFormat
from .network import (
    DenseLayer,
    InputSpec,
    IntWeights,
    Network,
    Neuron,
    OutputSpec,
    PotWeights,
    ShiftLeak,
    SubtractLeak,
    check_choice,
)

__all__ = ["FORMAT", "VERSION", "load_network", "save_network", "network_from_dict",
           "network_to_dict"]

FORMAT = "spikeshift-network"
VERSION = 1


def _build(path: str, cls, **kwargs):
    """Construct `cls`, prefixing any validation message with the object's field path."""
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{path}.{error}" if path else str(error)) from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fields(obj, path: str, *, required: tuple = (), optional: tuple = ()) -> dict:
    if not isinstance(obj, dict):
        raise TypeError(f"{path or 'the description'} must be an object, not {obj!r}")
    unknown = [key for key in obj if key not in required and key not in optional]
    if unknown:
        allowed = ", ".join(repr(k) for k in required + optional)
        raise ValueError(f"{_join(path, unknown[0])} is not a known field; allowed: {allowed}")
    missing = [key for key in required if key not in obj]
    if missing:
        raise ValueError(f"{_join(path, missing[0])} is required")
    return obj


class _Arrays:
    """Resolves ``{"npz": ..., "key": ...}`` references relative to the description."""

    def __init__(self, base: Path | None):
        self._base = base
        self._files: dict[Path, dict] = {}

    def __call__(self, value, path: str):
        if isinstance(value, dict) and set(value) == {"npz", "key"}:
            if self._base is None:
                raise ValueError(f"{path} refers to {value['npz']!r}, but the description was "
                                 f"not loaded from a file")
            file = (self._base / value["npz"]).resolve()
            if file not in self._files:
                if not file.exists():
                    raise ValueError(f"{path} refers to {value['npz']!r}, which does not exist")
                with np.load(file) as data:
                    self._files[file] = {k: data[k] for k in data.files}
            if value["key"] not in self._files[file]:
                raise ValueError(f"{path} refers to key {value['key']!r}, which "
                                 f"{value['npz']!r} does not hold")
            return self._files[file][value["key"]]
        return value


def _leak(obj, path: str):
    if obj is None:
        return None
    if not isinstance(obj, dict) or len(obj) != 1 or next(iter(obj)) not in ("shift", "subtract"):
        raise ValueError(f"{path} must be null, {{\"shift\": k}} or {{\"subtract\": c}}, "
                         f"not {obj!r}")
    if "shift" in obj:
        return _build(path, ShiftLeak, shift=obj["shift"])
    return _build(path, SubtractLeak, amount=obj["subtract"])


def _neuron(obj, path: str, arrays: _Arrays) -> Neuron:
    _fields(obj, path, required=("model", "v_bits"),
            optional=("threshold", "leak", "reset", "v_init", "spike_bits"))
    try:
        v = IntFormat(bits=obj["v_bits"])
    except (TypeError, ValueError):
        raise ValueError(f"{path}.v_bits must be an integer in [2, 48], "
                         f"not {obj['v_bits']!r}") from None
    kwargs = {"model": obj["model"], "v": v, "leak": _leak(obj.get("leak"), f"{path}.leak")}
    for key in ("threshold", "reset", "spike_bits"):
        if key in obj:
            kwargs[key] = obj[key]
    if "v_init" in obj:
        kwargs["v_init"] = arrays(obj["v_init"], f"{path}.v_init")
    if obj["model"] in ("if", "lif") and "threshold" not in obj:
        raise ValueError(f"{path}.threshold is required for model {obj['model']!r}")
    return _build(path, Neuron, **kwargs)


def _weights(obj, path: str, arrays: _Arrays):
    if not isinstance(obj, dict):
        raise TypeError(f"{path} must be an object, not {obj!r}")
    fmt = obj.get("format")
    check_choice_at(f"{path}.format", fmt, ("pot", "int"))
    if fmt == "pot":
        _fields(obj, path, required=("format", "e_min", "e_max", "values"))
        return _build(path, PotWeights, e_min=obj["e_min"], e_max=obj["e_max"],
                      values=arrays(obj["values"], f"{path}.values"))
    _fields(obj, path, required=("format", "bits", "values"))
    return _build(path, IntWeights, bits=obj["bits"],
                  values=arrays(obj["values"], f"{path}.values"))


def check_choice_at(path: str, value, choices):
    try:
        check_choice("x", value, choices)
    except ValueError as error:
        raise ValueError(path + str(error)[1:]) from None


def _layer(obj, path: str, arrays: _Arrays):
    _fields(obj, path, required=("kind", "size", "weights", "neuron"), optional=("bias",))
    check_choice_at(f"{path}.kind", obj["kind"], ("dense",))
    weights = _weights(obj["weights"], f"{path}.weights", arrays)
    neuron = _neuron(obj["neuron"], f"{path}.neuron", arrays)
    bias = obj.get("bias")
    bias = None if bias is None else arrays(bias, f"{path}.bias")
    return _build(path, DenseLayer, size=obj["size"], weights=weights, neuron=neuron, bias=bias)


def network_from_dict(obj, *, base: Path | None = None) -> Network:
    """Validate a parsed description and build the Network (`base`: folder for .npz files)."""
    _fields(obj, "", required=("format", "version", "name", "timesteps", "input", "layers",
                               "output"))
    if obj["format"] != FORMAT:
        raise ValueError(f"format must be {FORMAT!r}, not {obj['format']!r}")
    if obj["version"] != VERSION:
        raise ValueError(f"version must be {VERSION}, not {obj['version']!r}")
    arrays = _Arrays(base)
    _fields(obj["input"], "input", required=("size", "bits"))
    inp = _build("input", InputSpec, size=obj["input"]["size"], bits=obj["input"]["bits"])
    if not isinstance(obj["layers"], list):
        raise TypeError(f"layers must be a list, not {obj['layers']!r}")
    layers = [_layer(layer, f"layers[{i}]", arrays) for i, layer in enumerate(obj["layers"])]
    _fields(obj["output"], "output", required=("mode",))
    out = _build("output", OutputSpec, mode=obj["output"]["mode"])
    return _build("", Network, name=obj["name"], timesteps=obj["timesteps"], input=inp,
                  layers=tuple(layers), output=out)


def load_network(path) -> Network:
    """Load and validate a description from a JSON file."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    return network_from_dict(obj, base=path.parent)


def _array_out(arr: np.ndarray, key: str, store: dict | None):
    if store is None:
        return arr.tolist()
    store[key] = np.asarray(arr)
    return {"npz": None, "key": key}


def network_to_dict(net: Network, *, store: dict | None = None) -> dict:
    """The description of `net` as plain JSON data; arrays go to `store` when it is given."""
    layers = []
    for index, layer in enumerate(net.layers):
        w = layer.weights
        weights = {"format": w.format}
        if isinstance(w, PotWeights):
            weights |= {"e_min": w.e_min, "e_max": w.e_max}
        else:
            weights |= {"bits": w.bits}
        weights["values"] = _array_out(w.values, f"layers.{index}.weights", store)
        n = layer.neuron
        neuron = {"model": n.model}
        if n.fires:
            neuron |= {"threshold": n.threshold}
        if n.leak is not None:
            leak = ({"shift": n.leak.shift} if isinstance(n.leak, ShiftLeak)
                    else {"subtract": n.leak.amount})
        else:
            leak = None
        neuron["leak"] = leak
        if n.fires:
            neuron |= {"reset": n.reset, "spike_bits": n.spike_bits}
        neuron["v_init"] = (_array_out(n.v_init, f"layers.{index}.v_init", store)
                            if isinstance(n.v_init, np.ndarray) else n.v_init)
        neuron["v_bits"] = n.v.bits
        bias = None if layer.bias is None else _array_out(layer.bias, f"layers.{index}.bias",
                                                          store)
        layers.append({"kind": layer.kind, "size": layer.size, "weights": weights,
                       "bias": bias, "neuron": neuron})
    return {"format": FORMAT, "version": VERSION, "name": net.name,
            "timesteps": net.timesteps, "input": {"size": net.input.size, "bits": net.input.bits},
            "layers": layers, "output": {"mode": net.output.mode}}


def _fill_npz_name(obj, name: str):
    if isinstance(obj, dict):
        if set(obj) == {"npz", "key"} and obj["npz"] is None:
            obj["npz"] = name
        for value in obj.values():
            _fill_npz_name(value, name)
    elif isinstance(obj, list):
        for value in obj:
            _fill_npz_name(value, name)


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, so nothing is ever half-written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_network(net: Network, path, *, arrays: str = "inline") -> None:
    """Write `net` as JSON; with ``arrays="npz"`` its arrays go to ``<stem>.npz`` beside it."""
    path = Path(path)
    check_choice_at("arrays", arrays, ("inline", "npz"))
    store = {} if arrays == "npz" else None
    obj = network_to_dict(net, store=store)
    if store is not None:
        npz = path.with_suffix(".npz")
        _fill_npz_name(obj, npz.name)
        _atomic_write(npz, lambda tmp: np.savez_compressed(open(tmp, "wb"), **store))
    _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=1) + "\n"))
