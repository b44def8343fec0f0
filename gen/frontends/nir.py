"""NIR graphs (snnTorch, Norse, SpikingJelly, Sinabs exports) to the network description.

NIR is continuous-time and carries no time step, and the frameworks that export it differ in
their reset rule, the timing of their reset and whether they fire on ``v > θ`` or ``v >= θ``.
`Conventions` states these explicitly (`PRESETS` holds each framework's), and the importer
maps the graph to DESIGN.md §3 integer arithmetic exactly, or refuses naming the node, the
parameter and why. With ``lossy=True`` it quantizes instead, and says what it changed.

Discretisation (forward Euler with step ``dt``): ``LIF`` ``τ dv/dt = (v_leak - v) + R I``
becomes ``v' = β v + g I`` with ``β = 1 - dt/τ`` and gain ``g = dt R / τ``; ``IF`` and ``I``
(integrator) have β = 1 and ``g = dt R``; ``LI`` is a LIF that never fires. The gain is folded
into the weights. A ``Threshold`` node is a stateless neuron (``v = I`` every timestep).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..ir.checks import check_choice
from ..ir.formats import signed_bits_for
from ..ir.kinds.dense import DenseLayer
from ..ir.network import InputSpec, Network, OutputSpec
from ..ir.neuron import Neuron, ShiftLeak
from ..ir.weights import IntWeights, PotWeights
from .convert import membrane_format_for

__all__ = ["Conventions", "PRESETS", "RESET_RULES", "FIRE_RULES", "ImportError_", "import_nir",
           "NirImport"]


RESET_RULES = ("subtract", "zero", "nir")
FIRE_RULES = (">", ">=")


class ImportError_(ValueError):
    """An import that cannot be exact (or cannot be done at all); names node and parameter."""


@dataclass(frozen=True, kw_only=True)
class Conventions:
    """How the exporting framework simulates what the NIR graph describes.

    Members
    -------
    dt : seconds per timestep used to discretise the graph
    reset : ``"subtract"`` (v -= θ), ``"zero"`` (v = 0) or ``"nir"`` (v = the node's v_reset)
    reset_delay : the reset is applied at the next timestep (snnTorch's default)
    fire : ``">"`` or ``">="``, the comparison with the threshold
    infinite_tau_gain : gain of an IF exported as a LIF with ``τ = R = inf`` (snnTorch
        exports ``R = τ / dt``, i.e. gain 1), or None to refuse such nodes
    """

    dt: float
    reset: str = "nir"
    reset_delay: bool = False
    fire: str = ">"
    infinite_tau_gain: float | None = None

    def __post_init__(self):
        if not (isinstance(self.dt, (int, float)) and self.dt > 0):
            raise ValueError(f"dt must be a positive number of seconds, not {self.dt!r}")
        check_choice("reset", self.reset, RESET_RULES)
        check_choice("fire", self.fire, FIRE_RULES)


#: Each framework's documented defaults.
PRESETS = {
    # Leaky: mem = beta*mem + I - reset*thr, reset from the previous step (reset_delay=True),
    # spk = mem > thr; export_nir writes dt = 1e-4, tau = dt/(1-beta), r = tau/dt, v_reset = 0.
    "snntorch": Conventions(dt=1e-4, reset="subtract", reset_delay=True, fire=">",
                            infinite_tau_gain=1.0),
    # LIFBox-style cells: v += dt/tau * ((v_leak - v) + i), spike v > thr, reset to v_reset.
    "norse": Conventions(dt=1e-3, reset="nir", reset_delay=False, fire=">"),
    # IFNode/LIFNode: heaviside(v - thr) fires at v >= thr; hard reset to v_reset (0).
    "spikingjelly": Conventions(dt=1.0, reset="nir", reset_delay=False, fire=">="),
}


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


@dataclass
class _Neuron:
    name: str
    kind: str              # "if", "lif", "integrator", "threshold"
    beta: float
    gain: np.ndarray
    threshold: np.ndarray | None
    v_reset: np.ndarray | None


_HANDLERS: dict[str, Callable] = {}


def handles(*kinds: str):
    """Register a handler for NIR node classes (by class name)."""
    def register(fn):
        for kind in kinds:
            _HANDLERS[kind] = fn
        return fn
    return register


def _arr(node, name):
    return np.atleast_1d(np.asarray(getattr(node, name), dtype=np.float64))


def _uniform(name: str, param: str, values: np.ndarray) -> float:
    if not np.all(values == values.flat[0]):
        raise ImportError_(f"node {name!r} parameter {param}: values differ between neurons "
                           f"({np.unique(values)[:4].tolist()}...); a layer has one {param}")
    return float(values.flat[0])


def _leak_gain(name: str, node, conv: Conventions):
    """(β, per-neuron gain) of a leaky node (LIF, LI) from τ and R; it must leak towards 0."""
    if np.any(_arr(node, "v_leak") != 0):
        raise ImportError_(f"node {name!r} parameter v_leak: the membrane must leak towards 0, "
                           f"not {np.unique(_arr(node, 'v_leak'))[:4].tolist()}")
    tau, r = _arr(node, "tau"), _arr(node, "r")
    infinite = np.isinf(tau)
    if infinite.any() and not infinite.all():
        raise ImportError_(f"node {name!r} parameter tau: mixes infinite and finite values")
    if infinite.all():
        if np.isinf(r).any():
            if conv.infinite_tau_gain is None:
                raise ImportError_(f"node {name!r} parameter r: tau = r = inf leaves the input "
                                   f"gain r*dt/tau undefined; use a preset that defines it")
            return 1.0, np.full(r.shape, conv.infinite_tau_gain)
        raise ImportError_(f"node {name!r} parameter tau: tau = inf with finite r gives "
                           f"no input (gain r*dt/tau = 0)")
    beta = 1 - conv.dt / _uniform(name, "tau", tau)
    return beta, conv.dt * r / tau


@handles("IF")
def _if(name, node, conv):
    return _Neuron(name, "if", 1.0, conv.dt * _arr(node, "r"), _arr(node, "v_threshold"),
                   _arr(node, "v_reset"))


@handles("LIF")
def _lif(name, node, conv):
    beta, gain = _leak_gain(name, node, conv)
    return _Neuron(name, "if" if beta == 1 else "lif", beta, gain, _arr(node, "v_threshold"),
                   _arr(node, "v_reset"))


@handles("LI")
def _li(name, node, conv):
    beta, gain = _leak_gain(name, node, conv)
    return _Neuron(name, "integrator", beta, gain, None, None)


@handles("I", "Integrator")
def _integrator(name, node, conv):
    return _Neuron(name, "integrator", 1.0, conv.dt * _arr(node, "r"), None, None)


@handles("Threshold")
def _threshold(name, node, conv):
    theta = _arr(node, "threshold")
    return _Neuron(name, "threshold", 0.0, np.ones_like(theta), theta, None)


def _chain(graph) -> list[tuple[str, object]]:
    """The nodes from Input to Output, refusing branches and recurrent edges."""
    nodes, edges = graph.nodes, graph.edges
    succ: dict[str, list] = {}
    pred: dict[str, list] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)
    inputs = [n for n, node in nodes.items() if type(node).__name__ == "Input"]
    if len(inputs) != 1:
        raise ImportError_(f"the graph must have one Input node, not {len(inputs)}")
    chain, seen, current = [], set(), inputs[0]
    while True:
        if current in seen:
            raise ImportError_(f"node {current!r} has a recurrent edge; only feed-forward "
                               f"graphs are supported")
        seen.add(current)
        node = nodes[current]
        if type(node).__name__ == "NIRGraph":
            raise ImportError_(f"node {current!r} is a subgraph (recurrent layers such as "
                               f"RLeaky export as one); only feed-forward graphs are supported")
        chain.append((current, node))
        following = succ.get(current, [])
        if type(node).__name__ == "Output":
            break
        if len(following) != 1 or len(pred.get(following[0], [])) != 1:
            raise ImportError_(f"node {current!r} branches or merges; only sequential graphs "
                               f"are supported")
        current = following[0]
    return chain


def _power_of_two_scale(name: str, param: str, values: list[np.ndarray], *, lossy: bool,
                        max_shift: int = 16) -> int:
    """Smallest k such that every value * 2**k is an integer (exact import)."""
    for k in range(max_shift + 1):
        if all(np.allclose(v * 2.0 ** k, np.round(v * 2.0 ** k), rtol=0, atol=1e-9)
               for v in values):
            return k
    if lossy:
        return -1
    raise ImportError_(f"node {name!r} parameter {param}: values are not integers at any "
                       f"power-of-two scale up to 2^{max_shift} (e.g. "
                       f"{_first_fraction(values)!r}); integer hardware cannot represent them "
                       f"exactly (use --lossy to quantize)")


def _first_fraction(values):
    for v in values:
        frac = v[np.abs(v - np.round(v)) > 1e-9]
        if frac.size:
            return float(frac.flat[0])
    return None


def _snap(values: np.ndarray) -> np.ndarray:
    """Powers of two within float32 rounding of `values` (exports compute gains in float32)."""
    exact = 2.0 ** np.round(np.log2(np.maximum(np.abs(values), 1e-300)))
    close = np.isclose(np.abs(values), exact, rtol=1e-6, atol=0)
    return np.where(close, np.sign(values) * exact, values)


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


def import_nir(graph, *, conventions: Conventions, timesteps: int, input_bits: int = 1,
               weights: str = "int", lossy: bool = False, weight_bits: int = 8,
               output: str | None = None, name: str = "nir") -> NirImport:
    """Translate a NIR graph (or a path to a ``.nir`` file) into a Network."""
    if isinstance(graph, (str, Path)):
        graph = _read_graph(Path(graph))
    check_choice("weights", weights, ("int", "pot"))
    chain = _chain(graph)
    in_node = chain[0][1]
    in_shape = np.asarray(in_node.input_type["input"]).ravel()
    in_size = int(np.prod(in_shape))
    conv = conventions
    notes, layers, pending = [], [], None
    in_max, fan_in = (1 << input_bits) - 1, in_size
    for node_name, node in chain[1:]:
        kind = type(node).__name__
        if kind in ("Affine", "Linear"):
            if pending is not None:
                raise ImportError_(f"node {node_name!r} follows weight node {pending[0]!r} "
                                   f"without a neuron between them")
            w = np.asarray(node.weight, np.float64)
            b = np.asarray(node.bias, np.float64) if kind == "Affine" else np.zeros(w.shape[0])
            if w.ndim != 2 or w.shape[1] != fan_in:
                raise ImportError_(f"node {node_name!r} parameter weight: shape {w.shape} does "
                                   f"not take {fan_in} inputs")
            pending = (node_name, w, b)
            continue
        if kind in ("Flatten", "Identity"):
            continue
        if kind == "Output":
            if pending is not None:      # weights straight to the output: read I each step
                layers.append(_layer(pending, _Neuron(node_name, "readout", 0.0,
                                                      np.ones(pending[1].shape[0]), None, None),
                                     conv, timesteps, in_max, weights, lossy, weight_bits,
                                     notes))
            break
        if kind not in _HANDLERS:
            raise ImportError_(f"node {node_name!r}: NIR node type {kind} is not supported "
                               f"(supported: Affine, Linear, IF, LIF, LI, I, Threshold, "
                               f"Flatten)")
        if pending is None:
            raise ImportError_(f"node {node_name!r} ({kind}) has no weight node before it")
        neuron = _HANDLERS[kind](node_name, node, conv)
        layers.append(_layer(pending, neuron, conv, timesteps, in_max, weights, lossy,
                             weight_bits, notes))
        pending = None
        fan_in, in_max = layers[-1].size, 1
    if not layers:
        raise ImportError_("the graph holds no layer (weights followed by a neuron)")
    for index, layer in enumerate(layers[:-1]):
        if not layer.neuron.fires:
            raise ImportError_(f"layer {index} is a non-spiking read-out but is not the last")
    mode = output or ("spike_count" if layers[-1].neuron.fires else "membrane")
    net = Network(name=name, timesteps=timesteps, input=InputSpec(size=in_size, bits=input_bits),
                  layers=tuple(layers), output=OutputSpec(mode=mode))
    return NirImport(network=net, notes=notes)


def _layer(pending, neuron: _Neuron, conv, timesteps, in_max, weights, lossy, weight_bits,
           notes) -> DenseLayer:
    w_name, w, b = pending
    gain = _snap(np.broadcast_to(neuron.gain, (w.shape[0],)))
    w_eff, b_eff = w * gain[:, None], b * gain
    name = neuron.name
    theta = None if neuron.threshold is None else _uniform(name, "v_threshold",
                                                           np.broadcast_to(neuron.threshold,
                                                                           (w.shape[0],)))
    reset = conv.reset
    if neuron.kind in ("if", "lif"):
        if reset == "nir":
            v_reset = np.broadcast_to(neuron.v_reset, (w.shape[0],))
            if np.any(v_reset != 0):
                raise ImportError_(f"node {name!r} parameter v_reset: resets to "
                                   f"{np.unique(v_reset)[:4].tolist()}; only 0 (reset to zero) "
                                   f"or subtraction can be represented")
            reset = "zero"
    else:
        reset = "none"
    note = {"layer": len(notes), "weights": w_name, "neuron": name}
    leak = None
    if neuron.kind in ("lif",) or (neuron.kind == "integrator" and neuron.beta != 1):
        leak = ShiftLeak.nearest(neuron.beta)
        if not lossy:
            raise ImportError_(f"node {name!r} parameter tau: beta = {neuron.beta:g} leaks by "
                               f"a fraction of v each step, which integer hardware can only "
                               f"approximate with v - (v >> {leak.shift}) (beta = "
                               f"{leak.beta:g}); use --lossy to accept that")
        note["leak"] = leak.approximation(neuron.beta)
    k = _power_of_two_scale(w_name, "weight", [w_eff, b_eff] + ([] if theta is None else
                                                                [np.array([theta])]),
                            lossy=lossy)
    if k < 0:     # lossy: a power-of-two scale that uses the weight range
        k = IntWeights.scale_exponent(np.abs(w_eff).max(), weight_bits)
    scale = 2.0 ** k
    values = np.round(w_eff * scale).astype(np.int64)
    bias = np.round(b_eff * scale).astype(np.int64)
    note["scale"] = f"2^{k}"
    note["weight_rms_error"] = float(np.sqrt(np.mean((values - w_eff * scale) ** 2)))
    if weights == "pot":
        mag = np.abs(values)
        is_pot = (mag == 0) | ((mag & (mag - 1)) == 0)
        if not is_pot.all():
            if not lossy:
                bad = np.argwhere(~is_pot)[0]
                raise ImportError_(f"node {w_name!r} parameter weight: value "
                                   f"{w[tuple(bad)]!r} (integer {int(values[tuple(bad)])}) is "
                                   f"not 0 or ±2^e; use --weights int or --lossy")
            from .convert import pot_round
            values = pot_round(values.astype(np.float64), int(np.log2(max(mag.max(), 1))) + 1)
            note["pot_rounded"] = float(np.mean(~is_pot))
        e_max = int(np.log2(max(np.abs(values).max(), 1)))
        weight_obj = PotWeights(e_min=0, e_max=e_max, values=values)
    else:
        lo, hi = int(min(values.min(), 0)), int(max(values.max(), 0))
        weight_obj = IntWeights(bits=max(2, signed_bits_for(lo, hi)), values=values)
    if neuron.kind in ("threshold", "readout"):
        leak = ShiftLeak(shift=0)                    # v - (v >> 0) = 0: stateless
    v_init = 0
    theta_int = None
    if theta is not None:
        theta_int = int(round(theta * scale))
        if conv.fire == ">":
            if reset in ("zero", "none"):
                theta_int += 1               # integers: v > θ  <=>  v >= θ + 1
                note["fire"] = "v > θ as v >= θ + 1"
            elif leak is None:
                v_init = -1                  # v - 1 >= θ  <=>  v > θ, kept by subtraction
                note["fire"] = "v > θ as v >= θ with the membrane offset by -1 (v_init = -1)"
            elif not lossy:
                raise ImportError_(f"node {name!r} parameter v_threshold: firing on v > θ with "
                                   f"reset by subtraction and a leak has no exact integer form")
            else:
                theta_int += 1
                note["fire"] = "v > θ approximated by v >= θ + 1"
        if theta_int < 1:
            raise ImportError_(f"node {name!r} parameter v_threshold: {theta!r} becomes "
                               f"{theta_int} at scale 2^{k}; the threshold must be positive")
        if conv.reset_delay and reset == "subtract" and leak is not None:
            if not lossy:
                raise ImportError_(f"node {name!r} parameter tau: a delayed reset by "
                                   f"subtraction escapes the leak of its own step, which "
                                   f"DESIGN §3 arithmetic leaks; exact only without a leak")
            note["reset_delay"] = "delayed subtraction approximated by an immediate one"
    v = membrane_format_for(values, bias, in_max, timesteps, theta_int, v_init)
    if neuron.kind in ("integrator", "readout"):
        neuron_obj = Neuron(model="integrator", v=v, leak=leak, v_init=v_init)
    else:
        neuron_obj = Neuron(model="lif" if leak is not None else "if", v=v, threshold=theta_int,
                            leak=leak, reset=reset, v_init=v_init)
    notes.append(note)
    return DenseLayer(size=w.shape[0], weights=weight_obj, neuron=neuron_obj,
                      bias=bias if bias.any() else None)
