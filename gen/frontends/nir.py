"""NIR graphs (snnTorch, Norse, SpikingJelly, Sinabs exports) to the network description.

The importer walks the graph from its Input to its Output: weight nodes (``Affine``,
``Linear``, ``Conv2d``) wait for the neuron node after them (`nir_neurons`) and become one
dense or conv2d layer (`nir_layers`); ``SumPool2d`` becomes a sumpool2d layer, ``AvgPool2d``
a sumpool2d whose 1/(kh·kw) is folded into the next weights (exact: the next layer is scaled
so that nothing is rounded), ``Flatten`` a flatten layer. Each framework's discretisation and
reset rules are `Conventions` (`PRESETS` holds each framework's). The result is exact, or
refused naming the node, the parameter and why; with ``lossy=True`` the importer quantizes
instead and says what it changed.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..ir.checks import check_choice
from ..ir.kinds.flatten import FlattenLayer
from ..ir.kinds.sumpool2d import SumPool2dLayer
from ..ir.maps import pair, shape_text
from ..ir.network import InputSpec, Network, OutputSpec
from .nir_conventions import (
    FIRE_RULES,
    PRESETS,
    RESET_RULES,
    UNDELAYED_RULES,
    Conventions,
    ImportError_,
)
from .nir_layers import WeightNode, weighted_layer
from .nir_neurons import NEURON_HANDLERS, NirNeuron, neuron_node

__all__ = ["Conventions", "PRESETS", "RESET_RULES", "FIRE_RULES", "UNDELAYED_RULES",
           "ImportError_", "import_nir", "NirImport", "SUPPORTED_NODES"]

SUPPORTED_NODES = ("Affine", "Linear", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten",
                   "Identity", *sorted(NEURON_HANDLERS))


@dataclass
class NirImport:
    """The imported network and, per layer, what the import did (scales, offsets, errors)."""

    network: Network
    notes: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"network": self.network.name, "layers": self.notes}

    def text(self) -> str:
        return "\n".join("  " + ", ".join(f"{k}: {v}" for k, v in note.items())
                         for note in self.notes)


def _self_loops(nodes: dict, succ: dict, pred: dict) -> dict:
    """Recurrent weights: ``{neuron: weight node}`` for each ``Affine``/``Linear`` node whose
    only input and only output is the same neuron node (snnTorch's RLeaky, flattened by
    nirtorch into ``'1.lif' -> '1.w_rec' -> '1.lif'``); their edges leave `succ` and `pred`."""
    loops = {}
    for name, node in nodes.items():
        around = succ.get(name, [])
        if (type(node).__name__ in ("Affine", "Linear") and len(around) == 1
                and pred.get(name) == around
                and type(nodes[around[0]]).__name__ in NEURON_HANDLERS):
            loops[around[0]] = name
    for neuron, weights in loops.items():
        succ[neuron].remove(weights)
        pred[neuron].remove(weights)
        del succ[weights], pred[weights]
    return loops


def _chain(graph) -> tuple[list[tuple[str, object]], dict]:
    """The nodes from Input to Output and the recurrent weights of neurons (`_self_loops`),
    refusing branches, merges and other recurrent edges by name."""
    nodes, edges = graph.nodes, graph.edges
    succ: dict[str, list] = {}
    pred: dict[str, list] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)
    loops = _self_loops(nodes, succ, pred)
    for name, node in nodes.items():
        if type(node).__name__ == "NIRGraph":
            raise ImportError_(f"node {name!r} is a nested subgraph; only flat graphs can be "
                               f"imported (nirtorch flattens snnTorch's RLeaky into "
                               f"'<name>.lif' and its recurrent '<name>.w_rec')")
    inputs = [n for n, node in nodes.items() if type(node).__name__ == "Input"]
    if len(inputs) != 1:
        raise ImportError_(f"the graph must have one Input node, not {len(inputs)}")
    chain, seen, current = [], set(), inputs[0]
    while True:
        seen.add(current)
        node = nodes[current]
        chain.append((current, node))
        following = succ.get(current, [])
        if type(node).__name__ == "Output":
            break
        for after in following:
            loop = [p for p in pred.get(after, []) if _path(succ, after, p) is not None]
            if loop:
                raise ImportError_(f"the edge {loop[0]!r} -> {after!r} closes a loop through "
                                   f"{_path(succ, after, loop[0])}; only a neuron's own "
                                   f"recurrent weights (one Affine or Linear node from the "
                                   f"neuron back to it) can be imported")
        if len(following) != 1:
            raise ImportError_(f"node {current!r} has {len(following)} outgoing edges "
                               f"({following}); only a chain of nodes can be imported")
        if len(pred.get(following[0], [])) != 1:
            raise ImportError_(f"node {following[0]!r} merges {len(pred[following[0]])} inputs "
                               f"({pred[following[0]]}); only a chain of nodes can be imported")
        current = following[0]
    return chain, loops


def _path(succ: dict, start: str, goal: str) -> list | None:
    """The nodes of a path of edges from `start` to `goal`, or None."""
    stack, seen = [[start]], set()
    while stack:
        path = stack.pop()
        if path[-1] == goal:
            return path
        if path[-1] not in seen:
            seen.add(path[-1])
            stack.extend(path + [after] for after in succ.get(path[-1], []))
    return None



def _read_graph(path: Path):
    """The NIR graph in `path`, or a ValueError saying the file is not one."""
    import nir
    if not path.is_file():
        raise ValueError(f"MODEL {str(path)!r} is not a file")
    try:
        return nir.read(str(path))
    except (OSError, KeyError, ValueError, TypeError, AttributeError, IndexError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"MODEL {str(path)!r} is not a NIR graph (nir.write's HDF5 file): "
                         f"{first}") from None


def _input_shape(name: str, node) -> tuple:
    """``(size,)`` or ``(C, H, W)`` of the Input node. One leading dimension goes: the batch
    dimension that snnTorch's and Norse's exports keep, or the time steps that Sinabs' keeps."""
    shape = tuple(int(n) for n in np.asarray(node.input_type["input"]).ravel())
    if len(shape) in (2, 4):
        shape = shape[1:]
    if len(shape) not in (1, 3) or min(shape, default=0) < 1:
        raise ImportError_(f"node {name!r} input_type {list(shape)}: the input must be flat "
                           f"[size] or a map [C, H, W] (optionally after a batch or time "
                           f"dimension)")
    return shape


def _takes_map(name: str, kind: str, shape: tuple) -> None:
    if len(shape) != 3:
        raise ImportError_(f"node {name!r} ({kind}) takes a [C, H, W] map, but its input is "
                           f"{shape_text(shape)}")


def _pair(name: str, param: str, value, lo: int) -> tuple[int, int]:
    """An int or a pair of ints of a node (NIR stores either) as a pair."""
    value = np.asarray(value).ravel().tolist() if np.ndim(value) else int(value)
    return pair(f"node {name!r} parameter {param}", value, lo, 64)


def _padding(name: str, node, kernel: tuple, stride: tuple) -> tuple:
    padding = node.padding
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding == "same" and stride == (1, 1) and all(k % 2 for k in kernel):
            return (kernel[0] // 2, kernel[1] // 2)
        raise ImportError_(f"node {name!r} parameter padding: {padding!r} is supported as "
                           f"'valid', or 'same' with stride 1 and odd kernels")
    return _pair(name, "padding", padding, 0)


def _conv(name: str, node, shape: tuple, in_max: int, divisor: int) -> WeightNode:
    _takes_map(name, "Conv2d", shape)
    w = np.asarray(node.weight, np.float64)
    if w.ndim != 4 or w.shape[1] != shape[0]:
        raise ImportError_(f"node {name!r} parameter weight: shape {list(w.shape)} does not "
                           f"take the {shape[0]} channels of its input {shape_text(shape)}")
    if int(node.groups) != 1:
        raise ImportError_(f"node {name!r} parameter groups: {node.groups}; only groups = 1 "
                           f"convolutions are supported")
    dilation = np.asarray(node.dilation).ravel()
    if np.any(dilation != 1):
        raise ImportError_(f"node {name!r} parameter dilation: {dilation.tolist()}; only "
                           f"dilation 1 is supported")
    stride = _pair(name, "stride", node.stride, 1)
    padding = _padding(name, node, w.shape[2:], stride)
    out_h = (shape[1] + 2 * padding[0] - w.shape[2]) // stride[0] + 1
    out_w = (shape[2] + 2 * padding[1] - w.shape[3]) // stride[1] + 1
    if out_h < 1 or out_w < 1:
        raise ImportError_(f"node {name!r} parameter weight: kernel {list(w.shape[2:])} is "
                           f"larger than its padded input {shape_text(shape)}")
    bias = (np.zeros(w.shape[0]) if node.bias is None
            else np.broadcast_to(np.asarray(node.bias, np.float64).ravel(), (w.shape[0],)))
    return WeightNode(name, "conv2d", w, np.array(bias), in_max, divisor, stride, padding,
                      (w.shape[0], out_h, out_w))


def _affine(name: str, node, kind: str, shape: tuple, in_max: int, divisor: int) -> WeightNode:
    if len(shape) != 1:
        raise ImportError_(f"node {name!r} ({kind}) takes flat values, but its input is the map "
                           f"{shape_text(shape)}; a Flatten node must come before it")
    w = np.asarray(node.weight, np.float64)
    if w.ndim != 2 or w.shape[1] != shape[0]:
        raise ImportError_(f"node {name!r} parameter weight: shape {list(w.shape)} does not "
                           f"take {shape[0]} inputs")
    b = np.asarray(node.bias, np.float64).ravel() if kind == "Affine" else np.zeros(w.shape[0])
    return WeightNode(name, "dense", w, np.broadcast_to(b, (w.shape[0],)).copy(), in_max,
                      divisor, out_shape=(w.shape[0],))


def _pool(name: str, node, kind: str, shape: tuple) -> SumPool2dLayer:
    _takes_map(name, kind, shape)
    padding = np.asarray(node.padding).ravel()
    if np.any(padding != 0):
        raise ImportError_(f"node {name!r} parameter padding: {padding.tolist()}; pooling "
                           f"windows cannot be padded")
    kernel = _pair(name, "kernel_size", node.kernel_size, 1)
    stride = _pair(name, "stride", node.stride, 1)
    if kernel[0] > shape[1] or kernel[1] > shape[2]:
        raise ImportError_(f"node {name!r} parameter kernel_size: {list(kernel)} is larger "
                           f"than its input {shape_text(shape)}")
    return SumPool2dLayer(kernel=kernel, stride=stride)


def _declared(node, member: str, key: str) -> list | None:
    """A node's declared input or output type as a list of ints, or None if it has none."""
    types = getattr(node, member, None)
    value = None if not isinstance(types, dict) else types.get(key)
    if value is None or np.asarray(value).size == 0 or np.any(np.asarray(value) == None):  # noqa: E711
        return None
    return [int(n) for n in np.asarray(value).ravel()]


def _flattens_all(name: str, node, shape: tuple) -> bool:
    """Whether `node` flattens the whole map `shape`. Its dims count from the map's first
    dimension, or from a batch dimension before it (exporters that keep PyTorch's): the
    node's own types say which when it has them (a flat `output_type`, or an `input_type`
    with or without the batch dimension); without them either reading is taken."""
    if len(shape) == 1:
        return True
    start, end = int(node.start_dim), int(node.end_dim)
    size = int(np.prod(shape))
    out = _declared(node, "output_type", "output")
    if out is not None:
        if (out[1:] if len(out) == 2 and out[0] == 1 else out) == [size]:
            return True
    else:
        declared = _declared(node, "input_type", "input")
        batches = (0, 1) if declared is None else (len(declared) - len(shape),)
        for batch in batches:
            dims = len(shape) + batch
            first = start + dims if start < 0 else start
            last = end + dims if end < 0 else end
            if first == batch and last == dims - 1:
                return True
    raise ImportError_(f"node {name!r} (Flatten start_dim={start}, end_dim={end}) flattens "
                       f"only part of its input {shape_text(shape)}; a dense layer takes the "
                       f"whole map in [C, H, W] order")


def import_nir(graph, *, conventions: Conventions, timesteps: int, input_bits: int = 1,
               weights: str = "int", lossy: bool = False, weight_bits: int = 8,
               output: str | None = None, name: str = "nir") -> NirImport:
    """Translate a NIR graph (or a path to a ``.nir`` file) into a Network."""
    if isinstance(graph, (str, Path)):
        graph = _read_graph(Path(graph))
    check_choice("weights", weights, ("int", "pot"))
    chain, loops = _chain(graph)
    in_shape = _input_shape(*chain[0])
    shape, in_max, divisor = in_shape, (1 << input_bits) - 1, 1
    notes, layers, pending = [], [], None
    options = dict(conv=conventions, timesteps=timesteps, weights=weights, lossy=lossy,
                   weight_bits=weight_bits, notes=notes)
    for node_name, node in chain[1:]:
        kind = type(node).__name__
        if kind in ("Affine", "Linear", "Conv2d", "SumPool2d", "AvgPool2d") and pending:
            raise ImportError_(f"node {node_name!r} ({kind}) follows weight node "
                               f"{pending.name!r} without a neuron between them")
        if kind in ("Affine", "Linear"):
            pending = _affine(node_name, node, kind, shape, in_max, divisor)
        elif kind == "Conv2d":
            pending = _conv(node_name, node, shape, in_max, divisor)
        elif kind in ("SumPool2d", "AvgPool2d"):
            pool = _pool(node_name, node, kind, shape)
            layers.append(pool)
            shape, in_max = pool.out_shape(shape), pool.pool_max(in_max)
            if kind == "AvgPool2d":
                divisor *= pool.kernel[0] * pool.kernel[1]
        elif kind == "Flatten":
            if _flattens_all(node_name, node, shape) and len(shape) == 3:
                if pending:
                    raise ImportError_(f"node {node_name!r} (Flatten) follows weight node "
                                       f"{pending.name!r} without a neuron between them")
                layers.append(FlattenLayer())
                shape = (int(np.prod(shape)),)
        elif kind == "Identity":
            continue
        elif kind == "Output":
            if pending:      # weights straight to the output: read I each step
                readout = NirNeuron(node_name, "readout", 0.0, np.ones(1), None, None)
                layers.append(weighted_layer(pending, readout, **options))
            break
        elif kind in NEURON_HANDLERS:
            if pending is None:
                raise ImportError_(f"node {node_name!r} ({kind}) has no weight node before it")
            recurrent = None
            if node_name in loops:
                loop = loops[node_name]
                recurrent = _affine(loop, graph.nodes[loop], type(graph.nodes[loop]).__name__,
                                    pending.out_shape, 1, 1)
            layers.append(weighted_layer(pending, neuron_node(node_name, node, conventions),
                                         recurrent=recurrent, **options))
            shape = pending.out_shape
            in_max, divisor, pending = layers[-1].neuron.spike_max, 1, None
        elif node is None:
            raise ImportError_(f"node {node_name!r} is empty: the exporter could not map its "
                               f"module (Norse's to_nir maps only cells, and leaves pooling "
                               f"and Flatten modules empty)")
        else:
            raise ImportError_(f"node {node_name!r}: NIR node type {kind} is not supported "
                               f"(supported: {', '.join(SUPPORTED_NODES)})")
    weighted = [layer for layer in layers if layer.neuron is not None]
    if not weighted:
        raise ImportError_("the graph holds no layer (weights followed by a neuron)")
    if divisor != 1 or layers[-1] is not weighted[-1]:
        raise ImportError_("the graph ends in pooling or flatten nodes; its last node before "
                           "the Output must be a neuron or weights")
    for index, layer in enumerate(layers[:-1]):
        if layer.neuron is not None and not layer.neuron.fires:
            raise ImportError_(f"layer {index} is a non-spiking read-out but is not the last")
    mode = output or ("spike_count" if layers[-1].neuron.fires else "membrane")
    net = Network(name=name, timesteps=timesteps,
                  input=InputSpec(size=int(np.prod(in_shape)), bits=input_bits,
                                  shape=in_shape if len(in_shape) == 3 else None),
                  layers=tuple(layers), output=OutputSpec(mode=mode))
    return NirImport(network=net, notes=notes)
