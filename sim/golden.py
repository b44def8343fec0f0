"""The NumPy golden model: DESIGN.md §3 exactly, vectorised over a batch.

Plain integer code that mirrors the hardware's blocks (leak, saturate, fire, reset); nothing in
it comes from hdl. Every other part of spikeshift is checked against it.
"""

import weakref
from dataclasses import dataclass

import numpy as np

from ..gen.ir.network import Network
from ..gen.ir.neuron import Neuron, ShiftLeak, SubtractLeak
from .currents import CURRENTS
from .currents.recurrent import recurrent_current

__all__ = ["Trace", "check_inputs", "ref_synapse", "ref_leak", "ref_fire", "ref_reset",
           "predict", "trace"]


def check_inputs(net: Network, x) -> np.ndarray:
    """`x` as int64 of shape (batch, T, input.size), or a clear error naming what is wrong
    (a direct network also takes (batch, input.size): `Network.timestep_inputs`)."""
    return _checked(net, net.timestep_inputs(x))[0]


def _same_every_timestep(arr: np.ndarray, rows: int = 64) -> bool:
    """Whether every timestep holds the values of the first; compared a few samples at a time
    so the comparison stays in cache, stopping at the first difference."""
    return all((arr[b:b + rows, 1:] == arr[b:b + rows, :1]).all()
               for b in range(0, len(arr), rows))


def _checked(net: Network, x) -> tuple[np.ndarray, bool]:
    """`check_inputs`, and whether the values are the same at every timestep (direct input;
    then only the first timestep's values need the range checks)."""
    arr = np.asarray(x)
    want = f"(batch, {net.timesteps}, {net.input.size})"
    if arr.ndim != 3 or arr.shape[1:] != (net.timesteps, net.input.size):
        raise ValueError(f"inputs must have shape {want}, not {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"inputs must hold integers, not {arr.dtype} values")
    hi = net.input.format.max
    constant = _same_every_timestep(arr)
    seen = arr[:, :1] if constant else arr
    # Checked in the array's own type, so 2^64 - 1 or inf is shown as itself, not wrapped;
    # one reduction first (a signed integer seen as unsigned is beyond `hi` when negative),
    # the element named only when it fails.
    if seen.size == 0:
        ok = True
    elif arr.dtype.kind == "i":
        ok = seen.view(arr.dtype.str.replace("i", "u")).max() <= hi
    else:
        ok = seen.min() >= 0 and seen.max() <= hi
    if not ok:
        bad = ~np.isfinite(arr) | (arr < 0) | (arr > hi) if arr.dtype.kind == "f" else \
            (arr < 0) | (arr > hi)
        at = tuple(np.argwhere(bad)[0].tolist())
        raise ValueError(f"inputs{list(at)} must be in [0, {hi}] for input.bits="
                         f"{net.input.bits}, not {arr[at].item()!r}")
    if arr.dtype.kind == "f" and not np.all(seen == np.round(seen)):
        at = tuple(np.argwhere(arr != np.round(arr))[0].tolist())
        raise TypeError(f"inputs must hold integers, not {arr.dtype} values with fractions "
                        f"(inputs{list(at)} = {arr[at].item()!r})")
    return arr.astype(np.int64, copy=False), constant


def ref_synapse(syn: np.ndarray, current: np.ndarray, neuron: Neuron) -> np.ndarray:
    """The synaptic current of a ``cuba_lif`` neuron after this timestep's input:
    sat_i(I - (I >> k_syn) + input)."""
    return np.clip(syn - (syn >> neuron.syn_shift) + current, neuron.i.min, neuron.i.max)


def ref_leak(v: np.ndarray, neuron: Neuron) -> np.ndarray:
    leak = neuron.leak
    if leak is None:
        return v
    if isinstance(leak, ShiftLeak):
        return v - (v >> leak.shift)
    assert isinstance(leak, SubtractLeak)
    return np.where(v > 0, np.maximum(v - leak.amount, 0), np.minimum(v + leak.amount, 0))


def ref_fire(v: np.ndarray, neuron: Neuron) -> np.ndarray:
    """Spike values: min(floor(v / θ), 2^S - 1) where v >= θ, else 0."""
    if not neuron.fires:
        return np.zeros_like(v)
    theta = neuron.threshold
    if neuron.spike_bits == 1:
        return (v >= theta).astype(np.int64)
    return np.where(v >= theta, np.minimum(v // theta, neuron.spike_max), 0)


def ref_reset(v: np.ndarray, s: np.ndarray, neuron: Neuron) -> np.ndarray:
    if neuron.reset == "subtract":
        return v - s * neuron.threshold
    if neuron.reset == "zero":
        return np.where(s > 0, 0, v)
    return v


@dataclass(frozen=True)
class Trace:
    """Everything the golden model computed for a batch.

    Members
    -------
    outputs : (batch, n_out) spike counts or final membranes (``output.mode``)
    classes : (batch,) argmax of `outputs`, lowest index on ties
    spikes : per layer, (batch, T, size) spike values of every timestep (a layer without a
        neuron: its output values); a map is flat, index ``c*H*W + y*W + x``
    membranes : per layer, (batch, T, size) membrane after that timestep's reset (a layer
        without a neuron: its output values)
    syn_currents : per layer, (batch, T, size) synaptic current I after that timestep's input
        for a ``cuba_lif`` layer, None for every other layer
    fed_back : per layer, (batch, T, size) the spike values r(t-1) that a recurrent layer
        feeds back into timestep t (r(-1) at t = 0), None for a layer without recurrence
    """

    outputs: np.ndarray
    classes: np.ndarray
    spikes: tuple
    membranes: tuple
    syn_currents: tuple = ()
    fed_back: tuple = ()


_CURRENTS = weakref.WeakKeyDictionary()


def _currents(net: Network) -> list:
    """Each layer's (feed-forward, recurrent or None) current functions, made once per network
    (a network never changes)."""
    if net not in _CURRENTS:
        _CURRENTS[net] = [(CURRENTS[layer.kind](layer, net.input_max(index),
                                                net.input_shape(index)),
                           recurrent_current(layer, net.input_max(index)))
                          for index, layer in enumerate(net.layers)]
    return _CURRENTS[net]


def _run(net: Network, x, keep_trace: bool) -> Trace:
    x, constant = _checked(net, x)
    batch = x.shape[0]
    currents = _currents(net)
    sizes = [net.layer_size(index) for index in range(len(net.layers))]
    v = [np.zeros((batch, size), np.int64) if layer.neuron is None else
         np.broadcast_to(layer.neuron.v_init_array(size), (batch, size)).copy()
         for layer, size in zip(net.layers, sizes)]
    # Without a trace only the read-out's spike count is kept.
    spikes = [np.zeros((batch, net.timesteps, size), np.int64) for size in sizes] \
        if keep_trace else None
    membranes = [np.zeros_like(s) for s in spikes] if keep_trace else None
    fed_back_trace = [np.zeros_like(s) if rec is not None else None
                      for s, (_, rec) in zip(spikes, currents)] if keep_trace else None
    count = np.zeros((batch, sizes[-1]), np.int64)
    # The synaptic currents of cuba_lif layers, 0 at the start of every inference.
    syn = [np.zeros((batch, size), np.int64) if layer.neuron is not None
           and layer.neuron.has_synapse else None for layer, size in zip(net.layers, sizes)]
    syn_trace = [None if state is None else np.zeros((batch, net.timesteps, size), np.int64)
                 for state, size in zip(syn, sizes)] if keep_trace else None
    # A recurrent layer's own spikes of the previous timestep, r(-1) first.
    fed_back = [None if rec is None else
                np.broadcast_to(layer.recurrent_init_array(), (batch, size)).copy()
                for (_, rec), layer, size in zip(currents, net.layers, sizes)]
    # Direct input (the same values every timestep): the first layer's feed-forward current
    # once.
    first_current = currents[0][0](x[:, 0]) if constant else None
    for t in range(net.timesteps):
        s_in = x[:, t]
        for index, layer in enumerate(net.layers):
            feed_forward, recurrent = currents[index]
            current = first_current if index == 0 and constant else feed_forward(s_in)
            if recurrent is not None:
                current = current + recurrent(fed_back[index])
                if keep_trace:
                    fed_back_trace[index][:, t] = fed_back[index]
            neuron = layer.neuron
            if neuron is None:                       # no neuron: the values pass on
                v[index] = s = current
            else:
                if syn[index] is not None:
                    current = syn[index] = ref_synapse(syn[index], current, neuron)
                vl = ref_leak(v[index], neuron)     # v itself when nothing leaks: in place
                vl += current
                np.clip(vl, neuron.v.min, neuron.v.max, out=vl)
                s = ref_fire(vl, neuron)
                v[index] = ref_reset(vl, s, neuron)
            if recurrent is not None:
                fed_back[index] = s
            if keep_trace:
                spikes[index][:, t] = s
                membranes[index][:, t] = v[index]
                if syn[index] is not None:
                    syn_trace[index][:, t] = syn[index]
            s_in = s
        count += s_in
    outputs = count if net.output.mode == "spike_count" else v[-1]
    classes = np.argmax(outputs, axis=1) if batch else np.zeros(0, np.int64)
    return Trace(outputs=outputs, classes=classes, spikes=tuple(spikes) if keep_trace else (),
                 membranes=tuple(membranes) if keep_trace else (),
                 syn_currents=tuple(syn_trace) if keep_trace else (),
                 fed_back=tuple(fed_back_trace) if keep_trace else ())


def predict(net: Network, x) -> tuple[np.ndarray, np.ndarray]:
    """(outputs, classes) for inputs `x` of shape (batch, T, input.size) (a direct network
    also takes (batch, input.size): `Network.timestep_inputs`)."""
    result = _run(net, net.timestep_inputs(x), keep_trace=False)
    return result.outputs, result.classes


def trace(net: Network, x) -> Trace:
    """Like `predict`, keeping every layer's spikes and membranes per timestep."""
    return _run(net, net.timestep_inputs(x), keep_trace=True)
