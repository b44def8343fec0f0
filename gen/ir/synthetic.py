"""Random networks covering every option of DESIGN.md §2-3, for tests and benchmarks.

Each layer comes from its kind (`Layer.random`); the neuron options are drawn here, the same
for every kind. Thresholds are scaled to the typical synaptic current so that neurons really
fire, and membrane widths are sometimes tight so that saturation really happens.
"""

import numpy as np

from .formats import IntFormat, unsigned_bits_for
from .kinds import KINDS
from .kinds.conv2d import Conv2dLayer
from .kinds.dense import DenseLayer, with_random_recurrence
from .kinds.flatten import FlattenLayer
from .kinds.maxpool2d import MaxPool2dLayer
from .network import InputSpec, Network, OutputSpec
from .neuron import Neuron, ShiftLeak, SubtractLeak
from .weights import PotWeights

__all__ = ["random_neuron", "random_network", "random_inputs", "direct_network",
           "dense_pot_network", "conv_pot_network"]


def random_neuron(rng: np.random.Generator, size: int, typical: float, *,
                  last: bool) -> Neuron:
    """A neuron of any model (an integrator only when `last`), leak, reset, spike width and
    v_init, its threshold scaled to the `typical` current; threshold, leak and v_init are each
    sometimes one value per neuron (DESIGN.md §3.1), and an if or lif neuron sometimes a
    ``cuba_lif`` with a synaptic decay (sometimes per neuron) and a current width as tight as
    its membrane's.

    The draws of `rng` itself are those of the single-valued options, so a seed gives the
    networks it always gave in those; the per-neuron values and the synaptic current come from
    a child stream (`Generator.spawn`, which leaves `rng`'s own stream as it is).
    """
    extra = rng.spawn(1)[0]
    model = str(rng.choice(["if", "lif", "integrator"] if last else ["if", "lif"]))
    spike_bits = int(rng.choice([1, 1, 2, 3]))
    if spike_bits > 1:
        threshold = 1 << max(0, int(np.log2(typical / (1 << spike_bits)) + rng.integers(-1, 2)))
    else:
        threshold = max(1, int(typical * rng.uniform(0.2, 1.2)))
    v = IntFormat(bits=max(unsigned_bits_for(threshold) + 1, 2) + int(rng.integers(0, 6)))
    leak = None
    if model == "lif" or (model == "integrator" and rng.random() < 0.5):
        leak = (ShiftLeak(shift=int(rng.integers(0, 5))) if rng.random() < 0.6
                else SubtractLeak(amount=int(rng.integers(0, threshold + 2))))
    if rng.random() < 0.5:
        v_init = int(rng.integers(v.min // 4, min(threshold, v.max) + 1))
    else:
        v_init = rng.integers(v.min // 4, min(threshold, v.max) + 1, size)
    reset = str(rng.choice(["subtract", "zero", "none"]))
    if model != "integrator" and extra.random() < 0.35:
        if spike_bits > 1:                  # powers of two around θ, within the membrane
            q = threshold.bit_length() - 1 + extra.integers(-1, 2, size)
            threshold = 1 << np.clip(q, 0, v.max.bit_length() - 1)
        else:
            threshold = np.clip((threshold * extra.uniform(0.3, 1.7, size)).astype(np.int64),
                                1, v.max)
    if leak is not None and extra.random() < 0.35:
        leak = (ShiftLeak(shift=extra.integers(0, 5, size)) if isinstance(leak, ShiftLeak)
                else SubtractLeak(amount=extra.integers(0, int(np.max(threshold)) + 2, size)))
    synapse = {}
    if model != "integrator" and extra.random() < 0.25:
        model = "cuba_lif"
        synapse = {"syn_shift": extra.integers(0, 5, size if extra.random() < 0.35 else None),
                   "i": IntFormat(bits=max(2, v.bits + int(extra.integers(-2, 3))))}
    return Neuron(model=model, v=v, threshold=threshold, leak=leak, reset=reset,
                  v_init=v_init, spike_bits=spike_bits, **synapse)


def random_network(rng: np.random.Generator, *, max_layers: int = 3, max_size: int = 24,
                   max_timesteps: int = 6, kinds: tuple[str, ...] | None = None,
                   max_map: int = 9, recurrent: float = 0.0) -> Network:
    """A random valid network of registered `kinds` (default: the flat kinds with a hardware
    core, i.e. dense; map kinds only when asked for); every model, leak, reset, width and
    output mode can occur.

    When `kinds` holds map kinds (conv2d, sumpool2d, maxpool2d) the network is a conv chain:
    an input map ``[C, H, W]`` (C 1-3, H and W 1-`max_map`, independently), 1 to `max_layers`
    map layers drawn from those kinds (a conv2d last if the chain would end without a neuron),
    then, when `kinds` also holds flatten and dense, a flatten and 1 or 2 dense layers.

    With probability `recurrent`, a dense layer whose neuron fires feeds its own spikes back
    (random recurrent weights and initial spikes).
    """
    kinds = (tuple(k for k in KINDS if KINDS[k].has_core and KINDS[k].takes == "flat")
             if kinds is None else tuple(kinds))
    for kind in kinds:
        KINDS[kind]                                 # names the registered kinds if unknown
    map_kinds = [k for k in kinds if KINDS[k].takes == "map" and k != "flatten"]
    if map_kinds:
        chain = [map_kinds[int(rng.integers(0, len(map_kinds)))]
                 for _ in range(int(rng.integers(1, max_layers + 1)))]
        if "flatten" in kinds and "dense" in kinds:
            chain += ["flatten"] + ["dense"] * int(rng.integers(1, 3))
        elif chain[-1] != "conv2d":                  # a pooling has no neuron
            if "conv2d" not in kinds:
                raise ValueError(f"kinds {list(kinds)!r} give a map chain without a neuron at "
                                 f"its end; add 'conv2d', or 'flatten' and 'dense'")
            chain.append("conv2d")
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, max_map + 1)),
                 int(rng.integers(1, max_map + 1)))
        in_bits = int(rng.choice([1, 1, 2, 3, 4]))
        inp = InputSpec(size=int(np.prod(shape)), bits=in_bits, shape=shape)
    else:
        if "flatten" in kinds:
            raise ValueError("kinds holds 'flatten' but no map kind to flatten")
        n_layers = int(rng.integers(1, max_layers + 1))
        in_size = int(rng.integers(1, max_size + 1))
        in_bits = int(rng.choice([1, 1, 2, 3, 4]))
        inp = InputSpec(size=in_size, bits=in_bits)
        chain = None
    in_shape, layers = inp.shape, []
    n_layers = len(chain) if chain else n_layers
    for index in range(n_layers):
        last = index == n_layers - 1
        if chain:
            kind = KINDS[chain[index]]
        else:
            kind = KINDS[kinds[int(rng.integers(0, len(kinds)))]]
        layer = kind.random(rng, in_shape=in_shape, in_max=(1 << in_bits) - 1, max_size=max_size,
                            make_neuron=lambda rng, size, typical, last=last:
                            random_neuron(rng, size, typical, last=last))
        if (recurrent and isinstance(layer, DenseLayer) and layer.neuron.fires
                and rng.random() < recurrent):
            layer = with_random_recurrence(rng, layer)
        layers.append(layer)
        in_shape, in_bits = layer.out_shape(in_shape), layer.out_bits(in_bits)
    final = layers[-1].neuron
    mode = "membrane" if final.model == "integrator" else str(
        rng.choice(["spike_count", "membrane"]))
    return Network(name="random", timesteps=int(rng.integers(1, max_timesteps + 1)), input=inp,
                   layers=tuple(layers), output=OutputSpec(mode=mode))


def random_inputs(rng: np.random.Generator, net: Network, batch: int,
                  activity: float = 0.5) -> np.ndarray:
    """(batch, T, input.size) integers with about `activity` of them non-zero; for a direct
    network (``input.encoding`` ``"direct"``) the same at every timestep."""
    shape = (batch, net.timesteps, net.input.size)
    values = rng.integers(1, net.input.format.max + 1, shape)
    x = np.where(rng.random(shape) < activity, values, 0)
    return np.repeat(x[:, :1], net.timesteps, axis=1) if net.input.direct else x


def direct_network(net: Network) -> Network:
    """`net` with ``input.encoding`` ``"direct"``: its inputs the same at every timestep."""
    return net.with_encoding("direct")


def dense_pot_network(rng: np.random.Generator, sizes: tuple[int, ...], *, timesteps: int = 8,
                      input_bits: int = 1, e_max: int = 3, name: str = "dense-pot") -> Network:
    """An IF network of PoT layers with an integrator read-out (benchmarks, e.g. 784-128-10)."""
    layers = []
    for fan_in, size in zip(sizes[:-1], sizes[1:]):
        last = size == sizes[-1] and len(layers) == len(sizes) - 2
        values = (np.where(rng.random((size, fan_in)) < 0.5, -1, 1)
                  * (1 << rng.integers(0, e_max + 1, (size, fan_in)))
                  * (rng.random((size, fan_in)) < 0.8))
        if last:
            neuron = Neuron(model="integrator", v=IntFormat(bits=20))
        else:
            theta = 1 << int(np.log2(max(2, np.sqrt(fan_in * 0.1) * (1 << e_max))))
            neuron = Neuron(model="if", v=IntFormat(bits=16), threshold=theta,
                            v_init=theta // 2)
        layers.append(DenseLayer(size=size, weights=PotWeights(e_min=0, e_max=e_max,
                                                               values=values), neuron=neuron))
    return Network(name=name, timesteps=timesteps, input=InputSpec(size=sizes[0],
                                                                   bits=input_bits),
                   layers=tuple(layers), output=OutputSpec(mode="membrane"))


def _pot_values(rng: np.random.Generator, shape: tuple, e_max: int) -> np.ndarray:
    return (np.where(rng.random(shape) < 0.5, -1, 1) * (1 << rng.integers(0, e_max + 1, shape))
            * (rng.random(shape) < 0.8))


def conv_pot_network(rng: np.random.Generator, *, side: int = 16, channels: tuple = (8, 8),
                     classes: int = 10, timesteps: int = 8, e_max: int = 2,
                     name: str = "conv-pot") -> Network:
    """A binary [1, side, side] input -> (3x3 conv, padding 1, IF -> 2x2 max pool) per entry
    of `channels` -> flatten -> dense integrator read-out, PoT weights (benchmarks)."""
    layers, shape = [], (1, side, side)
    for out_channels in channels:
        fan_in = shape[0] * 9
        theta = 1 << int(np.log2(max(2, np.sqrt(fan_in * 0.2) * (1 << e_max))))
        layers.append(Conv2dLayer(
            out_channels=out_channels, kernel=3, padding=1,
            weights=PotWeights(e_min=0, e_max=e_max, ndim=4,
                               values=_pot_values(rng, (out_channels, shape[0], 3, 3), e_max)),
            neuron=Neuron(model="if", v=IntFormat(bits=12), threshold=theta,
                          v_init=theta // 2)))
        layers.append(MaxPool2dLayer(kernel=2))
        shape = layers[-1].out_shape(layers[-2].out_shape(shape))
    size = int(np.prod(shape))
    layers += [FlattenLayer(), DenseLayer(
        size=classes, weights=PotWeights(e_min=0, e_max=e_max,
                                         values=_pot_values(rng, (classes, size), e_max)),
        neuron=Neuron(model="integrator", v=IntFormat(bits=16)))]
    return Network(name=name, timesteps=timesteps,
                   input=InputSpec(size=side * side, bits=1, shape=(1, side, side)),
                   layers=tuple(layers), output=OutputSpec(mode="membrane"))
