"""The frozen, typed, self-validating network (DESIGN.md §2) and its JSON description.

Every class checks itself in ``__post_init__``; its messages start with the field name relative
to the object (``threshold must be ...``), and the codec prefixes the path of the object
(``layers[1].neuron.``). Integer arrays are stored as read-only ``int64`` NumPy arrays.

The JSON description is the only place where dicts become a Network; each layer's object is
read and written by its kind (`spikeshift.gen.ir.kinds`). Large arrays may live in an ``.npz``
beside the JSON: anywhere an integer array is expected, ``{"npz": "arrays.npz", "key": "fc1"}``
stands for ``numpy.load("arrays.npz")["fc1"]`` (the path is relative to the JSON file).
Loading never half-builds anything and saving never half-writes a file.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from .checks import check_choice, check_int
from .fields import Arrays, build, choice_at, fields
from .files import atomic_write
from .formats import UIntFormat
from .kinds import KINDS
from .layer import Layer
from .maps import shape_text

__all__ = ["InputSpec", "OutputSpec", "Network", "OUTPUT_MODES", "ENCODINGS", "MAX_INPUT_BITS",
           "MAX_TIMESTEPS", "FORMAT", "VERSION", "network_from_dict", "network_to_dict",
           "load_network", "save_network", "first_change", "repeat_timesteps"]

FORMAT = "spikeshift-network"
VERSION = 1

OUTPUT_MODES = ("spike_count", "membrane")
#: input.encoding: the values may change every timestep (the default), or they are the same
#: at every timestep (direct input such as pixels: sent once per sample, DESIGN.md §3.1).
ENCODINGS = ("per_timestep", "direct")
MAX_INPUT_BITS = 16
MAX_TIMESTEPS = 1 << 16
MAX_INPUT_SIZE = 1 << 20


@dataclass(frozen=True, kw_only=True)
class InputSpec:
    """`size` inputs, each an unsigned `bits`-bit value per timestep (1 = binary spikes).

    `shape` is ``(C, H, W)`` when the inputs form a map (`size` is then its product, flat index
    ``c*H*W + y*W + x``); without one it is ``(size,)``. `encoding` ``"direct"``: the values
    are the same at every timestep (the arithmetic is unchanged; the host sends them once per
    sample and the first core holds them); ``"per_timestep"``: they may change every timestep.
    """

    size: int
    bits: int
    shape: tuple | None = None
    encoding: Literal["per_timestep", "direct"] = "per_timestep"

    def __post_init__(self):
        check_int("size", self.size, 1, MAX_INPUT_SIZE)
        check_int("bits", self.bits, 1, MAX_INPUT_BITS)
        check_choice("encoding", self.encoding, ENCODINGS)
        if self.shape is None or self.shape == (self.size,):    # flat (also when replaced)
            object.__setattr__(self, "shape", (self.size,))
            return
        shape = self.shape.tolist() if isinstance(self.shape, np.ndarray) else self.shape
        if not isinstance(shape, (list, tuple)) or len(shape) != 3:
            raise ValueError(f"shape must be [C, H, W] (three integers), not {shape!r}")
        shape = tuple(check_int(f"shape[{i}]", n, 1, MAX_INPUT_SIZE) for i, n in enumerate(shape))
        if int(np.prod(shape)) != self.size:
            raise ValueError(f"shape {shape_text(shape)} holds {int(np.prod(shape))} values, "
                             f"but size is {self.size}; size must be C * H * W")
        object.__setattr__(self, "shape", shape)

    @property
    def format(self) -> UIntFormat:
        return UIntFormat(bits=self.bits)

    @property
    def is_map(self) -> bool:
        return len(self.shape) == 3

    @property
    def direct(self) -> bool:
        return self.encoding == "direct"


@dataclass(frozen=True, kw_only=True)
class OutputSpec:
    mode: Literal["spike_count", "membrane"]

    def __post_init__(self):
        check_choice("mode", self.mode, OUTPUT_MODES)


@dataclass(frozen=True, kw_only=True, eq=False)
class Network:
    """A validated, quantized network: everything the hardware and the golden model need.

    Each layer checks that it takes what the one before it gives (`Layer.check_input`); only
    the last layer may be a non-spiking read-out.
    """

    name: str
    timesteps: int
    input: InputSpec
    layers: tuple
    output: OutputSpec
    extra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, not {self.name!r}")
        check_int("timesteps", self.timesteps, 1, MAX_TIMESTEPS)
        if not isinstance(self.input, InputSpec):
            raise TypeError(f"input must be an InputSpec, not {self.input!r}")
        if not isinstance(self.output, OutputSpec):
            raise TypeError(f"output must be an OutputSpec, not {self.output!r}")
        layers = tuple(self.layers)
        if not layers:
            raise ValueError("layers must hold at least one layer, not []")
        object.__setattr__(self, "layers", layers)
        shape = self.input.shape
        shapes = []
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{index}] must be a layer, not {layer!r}")
            source = _source(self.input, layers, index)
            _check_takes(layer, index, shape, source)
            try:
                layer.check_input(shape, source)
            except ValueError as error:
                raise ValueError(f"layers[{index}].{error}") from None
            last = index == len(layers) - 1
            if layer.neuron is not None and not layer.neuron.fires and not last:
                raise ValueError(f"layers[{index}].neuron.model 'integrator' is only allowed in "
                                 f"the last layer, not in layer {index} of {len(layers)}")
            if layer.neuron is None and last:
                raise ValueError(f"layers[{index}] ({layer.kind}) has no neuron and cannot be "
                                 f"the last layer: output.mode {self.output.mode!r} reads the "
                                 f"last layer's neurons")
            shapes.append(shape)
            shape = layer.out_shape(shape)
        shapes.append(shape)
        object.__setattr__(self, "_input_shapes", tuple(shapes))

    @property
    def n_out(self) -> int:
        return self.layer_size(len(self.layers) - 1)

    def input_shape(self, index: int) -> tuple:
        """Shape of the values layer `index` receives."""
        return self._input_shapes[index]

    def input_size(self, index: int) -> int:
        """How many values layer `index` receives."""
        return int(np.prod(self._input_shapes[index]))

    def output_shape(self, index: int) -> tuple:
        """Shape of the values layer `index` passes on (``(C, H, W)`` for a map)."""
        return self._input_shapes[index + 1]

    def layer_size(self, index: int) -> int:
        """How many values layer `index` passes on: its neurons, or its outputs without one."""
        return int(np.prod(self._input_shapes[index + 1]))

    def input_bits(self, index: int) -> int:
        """Bits of the values layer `index` receives: input.bits or the previous layer's."""
        bits = self.input.bits
        for layer in self.layers[:index]:
            bits = layer.out_bits(bits)
        return bits

    def input_max(self, index: int) -> int:
        return (1 << self.input_bits(index)) - 1

    def max_lanes(self, index: int) -> int:
        """The most lanes layer `index`'s core can use (`Layer.max_lanes`; the last layer,
        which writes the results, `Layer.max_result_lanes`)."""
        layer = self.layers[index]
        return layer.max_result_lanes if index == len(self.layers) - 1 else layer.max_lanes

    def layer_plan(self, index: int, lanes: int):
        """Layer `index`'s core with `lanes` lanes (`Layer.plan`); the first core of a direct
        network keeps its input for all T timesteps (`LayerPlan.holding_input`)."""
        lp = self.layers[index].plan(index=index, lanes=lanes, in_bits=self.input_bits(index),
                                     in_shape=self.input_shape(index))
        return lp.holding_input() if index == 0 and self.input.direct else lp

    def timestep_inputs(self, x) -> np.ndarray:
        """`x` as inputs of every timestep. With ``input.encoding`` ``"direct"`` a (batch,
        input.size) array holds each sample once and is repeated T times (a read-only view),
        and a (batch, T, input.size) array must hold the same values at every timestep;
        anything else is returned as it is (the golden model checks its shape and values)."""
        if not self.input.direct:
            return x
        arr = np.asarray(x)
        if arr.ndim == 2 and arr.shape[1] == self.input.size:
            return repeat_timesteps(arr, self.timesteps)
        if arr.ndim == 3 and arr.shape[1:] == (self.timesteps, self.input.size):
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                return arr                      # the golden model names the value
            if (at := first_change(arr)) is not None:
                raise ValueError(f"inputs[{at[0]}] changes at timestep {at[1]}, but "
                                 f"input.encoding is 'direct' (the same values every "
                                 f"timestep); give the same values at every timestep or one "
                                 f"timestep per sample, shape (batch, {self.input.size})")
            return arr
        raise ValueError(f"inputs must have shape (batch, {self.timesteps}, {self.input.size}) "
                         f"or, for input.encoding 'direct', (batch, {self.input.size}), "
                         f"not {arr.shape}")

    def with_encoding(self, encoding: str) -> "Network":
        """This network with ``input.encoding`` `encoding` (nothing else changes)."""
        return dataclasses.replace(self, input=dataclasses.replace(self.input,
                                                                   encoding=encoding))

    @classmethod
    def load(cls, path) -> "Network":
        """Load and validate a description from a JSON file."""
        return load_network(path)

    def save(self, path, *, arrays: Literal["inline", "npz"] = "inline") -> None:
        """Write the description; with ``arrays="npz"`` its arrays go to ``<stem>.npz``."""
        save_network(self, path, arrays=arrays)


def first_change(x: np.ndarray, rows: int = 64) -> tuple[int, int] | None:
    """(sample, timestep) of the first value of `x` (batch, T, n) that differs from its
    sample's first timestep, or None when every sample is the same at every timestep.
    Compared a few samples at a time, so that the comparison stays in cache and stops at the
    first block that differs (and a view that is not contiguous is copied a few samples at a
    time, never whole): each sample's values, flat, against themselves shifted by one
    timestep, two contiguous operands, which compare several times faster than a broadcast
    against the first timestep; only a block that differs is searched for where."""
    step = x.shape[2]
    for b in range(0, len(x), rows):
        block = x[b:b + rows]
        flat = block.reshape(len(block), -1)
        if np.array_equal(flat[:, step:], flat[:, :-step]):
            continue
        sample, t = np.argwhere((block[:, 1:] != block[:, :1]).any(axis=2))[0]
        return b + int(sample), int(t) + 1
    return None


def repeat_timesteps(x: np.ndarray, timesteps: int) -> np.ndarray:
    """(batch, n) values as (batch, `timesteps`, n), every timestep the same (a read-only
    view)."""
    x = np.asarray(x)
    return np.broadcast_to(x[:, None, :], (x.shape[0], timesteps, x.shape[1]))


def _source(inp: InputSpec, layers: tuple, index: int) -> str:
    """Where layer `index`'s values come from, as its messages name it."""
    if index == 0:
        return "input.shape" if inp.is_map else "input.size"
    before = layers[index - 1]
    if "size" in getattr(before, "__dataclass_fields__", {}):
        return f"layers[{index - 1}].size"
    return f"layers[{index - 1}] ({before.kind}) output"


def _check_takes(layer: Layer, index: int, shape: tuple, source: str) -> None:
    """Flat values for a kind that takes them, a map for one that takes a map."""
    if layer.takes == "map" and len(shape) != 3:
        raise ValueError(f"layers[{index}] ({layer.kind}) takes a [C, H, W] map, but {source} "
                         f"gives {shape[0]} flat values; give input.shape, or keep map layers "
                         f"before any flatten")
    if layer.takes == "flat" and len(shape) != 1:
        raise ValueError(f"layers[{index}] ({layer.kind}) takes flat values, but {source} gives "
                         f"a map {shape_text(shape)}; put a flatten layer before it")


def layer_from_dict(obj, path: str, arrays: Arrays) -> Layer:
    """A layer of any registered kind from its description object."""
    fields(obj, path, required=("kind",), optional=tuple(obj) if isinstance(obj, dict) else ())
    kind = choice_at(f"{path}.kind", obj["kind"], KINDS.names())
    return KINDS[kind].from_dict(obj, path, arrays)


def _input_from_dict(obj) -> InputSpec:
    """`size` may be left out when `shape` gives it."""
    fields(obj, "input", required=("bits",), optional=("size", "shape", "encoding"))
    if "size" not in obj and "shape" not in obj:
        raise ValueError("input.size is required (or input.shape, whose product it is)")
    shape = obj.get("shape")
    size = obj.get("size")
    if size is None:
        if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool)
                                                  and n >= 1 for n in shape):
            raise ValueError(f"input.shape must be [C, H, W] (three positive integers), "
                             f"not {shape!r}")
        size = int(np.prod(shape))
    return build("input", InputSpec, size=size, bits=obj["bits"], shape=shape,
                 encoding=obj.get("encoding", "per_timestep"))


def network_from_dict(obj, *, base: Path | None = None) -> Network:
    """Validate a parsed description and build the Network (`base`: folder for .npz files)."""
    fields(obj, "", required=("format", "version", "name", "timesteps", "input", "layers",
                              "output"))
    if obj["format"] != FORMAT:
        raise ValueError(f"format must be {FORMAT!r}, not {obj['format']!r}")
    if obj["version"] != VERSION:
        raise ValueError(f"version must be {VERSION}, not {obj['version']!r}")
    arrays = Arrays(base)
    inp = _input_from_dict(obj["input"])
    if not isinstance(obj["layers"], list):
        raise TypeError(f"layers must be a list, not {obj['layers']!r}")
    layers = [layer_from_dict(layer, f"layers[{i}]", arrays)
              for i, layer in enumerate(obj["layers"])]
    fields(obj["output"], "output", required=("mode",))
    out = build("output", OutputSpec, mode=obj["output"]["mode"])
    return build("", Network, name=obj["name"], timesteps=obj["timesteps"], input=inp,
                 layers=tuple(layers), output=out)


def network_to_dict(net: Network, *, store: dict | None = None) -> dict:
    """The description of `net` as plain JSON data; arrays go to `store` when it is given."""
    arrays = Arrays(store=store)
    return {"format": FORMAT, "version": VERSION, "name": net.name,
            "timesteps": net.timesteps, "input": _input_to_dict(net.input),
            "layers": [layer.to_dict(arrays, f"layers.{index}")
                       for index, layer in enumerate(net.layers)],
            "output": {"mode": net.output.mode}}


def _input_to_dict(inp: InputSpec) -> dict:
    obj = {"size": inp.size, "bits": inp.bits}
    if inp.is_map:
        obj["shape"] = list(inp.shape)
    if inp.direct:       # the default is left out, so descriptions without it stay as they were
        obj["encoding"] = inp.encoding
    return obj


def read_json(path):
    """Parsed JSON of `path`, or a ValueError naming the file and the syntax error."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a file")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a JSON text file (not UTF-8)") from None
    except RecursionError:
        raise ValueError(f"{path} nests its JSON too deeply") from None


def load_network(path) -> Network:
    """Load and validate a description from a JSON file."""
    path = Path(path)
    return network_from_dict(read_json(path), base=path.parent)


def _fill_npz_name(obj, name: str):
    if isinstance(obj, dict):
        if set(obj) == {"npz", "key"} and obj["npz"] is None:
            obj["npz"] = name
        for value in obj.values():
            _fill_npz_name(value, name)
    elif isinstance(obj, list):
        for value in obj:
            _fill_npz_name(value, name)


def save_network(net: Network, path, *, arrays: str = "inline") -> None:
    """Write `net` as JSON; with ``arrays="npz"`` its arrays go to ``<stem>.npz`` beside it."""
    path = Path(path)
    choice_at("arrays", arrays, ("inline", "npz"))
    store = {} if arrays == "npz" else None
    obj = network_to_dict(net, store=store)
    if store is not None:
        npz = path.with_suffix(".npz")
        _fill_npz_name(obj, npz.name)
        atomic_write(npz, lambda tmp: np.savez_compressed(open(tmp, "wb"), **store))
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=1) + "\n"))
