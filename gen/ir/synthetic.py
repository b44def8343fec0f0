"""Random networks covering every option of DESIGN.md §2-3, for tests and benchmarks.

Thresholds are scaled to the typical synaptic current so that neurons really fire, and
membrane widths are sometimes tight so that saturation really happens.
"""

import numpy as np

from .formats import IntFormat, unsigned_bits_for
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
)

__all__ = ["random_network", "random_inputs", "dense_pot_network"]


def _weights(rng, size: int, fan_in: int, kind: str, density: float):
    mask = rng.random((size, fan_in)) < density
    sign = np.where(rng.random((size, fan_in)) < 0.4, -1, 1)
    if kind == "pot":
        e_min = int(rng.integers(0, 3))
        e_max = e_min + int(rng.integers(0, 5))
        exps = rng.integers(e_min, e_max + 1, (size, fan_in))
        return PotWeights(e_min=e_min, e_max=e_max, values=mask * sign * (1 << exps))
    bits = int(rng.integers(2, 7))
    hi = (1 << (bits - 1)) - 1
    values = rng.integers(-hi - 1, hi + 1, (size, fan_in))
    values = np.where(values < 0, values, np.abs(values))
    return IntWeights(bits=bits, values=mask * values)


def random_network(rng: np.random.Generator, *, max_layers: int = 3, max_size: int = 24,
                   max_timesteps: int = 6) -> Network:
    """A random valid network; every model, leak, reset, width and output mode can occur."""
    n_layers = int(rng.integers(1, max_layers + 1))
    in_size = int(rng.integers(1, max_size + 1))
    in_bits = int(rng.choice([1, 1, 2, 3, 4]))
    fan_in, in_max = in_size, (1 << in_bits) - 1
    layers = []
    for index in range(n_layers):
        size = int(rng.integers(1, max_size + 1))
        last = index == n_layers - 1
        weights = _weights(rng, size, fan_in, str(rng.choice(["pot", "int"])),
                           float(rng.uniform(0.3, 1.0)))
        typical = max(1.0, np.abs(weights.values).mean() * np.sqrt(fan_in) * in_max * 1.5)
        model = str(rng.choice(["if", "lif", "integrator"] if last else ["if", "lif"]))
        spike_bits = int(rng.choice([1, 1, 2, 3]))
        if spike_bits > 1:
            threshold = 1 << max(0, int(np.log2(typical / (1 << spike_bits)) +
                                         rng.integers(-1, 2)))
        else:
            threshold = max(1, int(typical * rng.uniform(0.2, 1.2)))
        v_bits = max(unsigned_bits_for(threshold) + 1, 2) + int(rng.integers(0, 6))
        v = IntFormat(bits=v_bits)
        leak = None
        if model == "lif" or (model == "integrator" and rng.random() < 0.5):
            leak = (ShiftLeak(shift=int(rng.integers(0, 5))) if rng.random() < 0.6
                    else SubtractLeak(amount=int(rng.integers(0, threshold + 2))))
        if rng.random() < 0.5:
            v_init = int(rng.integers(v.min // 4, min(threshold, v.max) + 1))
        else:
            v_init = rng.integers(v.min // 4, min(threshold, v.max) + 1, size)
        bias = None
        if rng.random() < 0.4:
            bias = rng.integers(-threshold // 2 - 1, threshold // 2 + 2, size)
        neuron = Neuron(model=model, v=v, threshold=threshold, leak=leak,
                        reset=str(rng.choice(["subtract", "zero", "none"])), v_init=v_init,
                        spike_bits=spike_bits)
        layers.append(DenseLayer(size=size, weights=weights, neuron=neuron, bias=bias))
        fan_in, in_max = size, neuron.spike_max
    mode = "membrane" if layers[-1].neuron.model == "integrator" else str(
        rng.choice(["spike_count", "membrane"]))
    return Network(name="random", timesteps=int(rng.integers(1, max_timesteps + 1)),
                   input=InputSpec(size=in_size, bits=in_bits), layers=tuple(layers),
                   output=OutputSpec(mode=mode))


def random_inputs(rng: np.random.Generator, net: Network, batch: int,
                  activity: float = 0.5) -> np.ndarray:
    """(batch, T, input.size) integers with about `activity` of them non-zero."""
    shape = (batch, net.timesteps, net.input.size)
    values = rng.integers(1, net.input.format.max + 1, shape)
    return np.where(rng.random(shape) < activity, values, 0)


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
