"""The NumPy golden model: DESIGN.md §3 exactly, vectorised over a batch.

Plain integer code that mirrors the hardware's blocks (leak, saturate, fire, reset); nothing in
it comes from hdl. Every other part of spikeshift is checked against it.
"""

import weakref
from dataclasses import dataclass

import numpy as np

from ..gen.ir.network import Network, first_change
from ..gen.ir.neuron import Neuron, ShiftLeak, SubtractLeak
from .currents import CURRENTS
from .currents.products import one_blas_thread
from .currents.recurrent import recurrent_current

__all__ = ["Trace", "check_inputs", "ref_synapse", "ref_leak", "ref_fire", "ref_reset",
           "predict", "trace"]


def check_inputs(net: Network, x) -> np.ndarray:
    """`x` as int64 of shape (batch, T, input.size), or a clear error naming what is wrong
    (a direct network also takes (batch, input.size): `Network.timestep_inputs`)."""
    return _checked(net, net.timestep_inputs(x))[0]


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
    constant = first_change(arr, rows=128) is None
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
        return (v >= theta).astype(v.dtype)
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

#: Values a block of samples may hold in one layer over every timestep: the golden model runs
#: a block layer after layer over all timesteps (one product per layer, not one per
#: timestep), and blocks keep those arrays, and a conv layer's windows, bounded for any batch.
BLOCK_VALUES = 1 << 24


def _currents(net: Network) -> list:
    """Each layer's (feed-forward, recurrent or None) current functions and its state type,
    made once per network (a network never changes)."""
    if net not in _CURRENTS:
        _CURRENTS[net] = [(CURRENTS[layer.kind](layer, net.input_max(index),
                                                net.input_shape(index)),
                           recurrent_current(layer, net.input_max(index)),
                           _state_dtype(layer, net.input_max(index)))
                          for index, layer in enumerate(net.layers)]
    return _CURRENTS[net]


def _state_dtype(layer, in_max: int) -> type:
    """int32 for a neuron's update when no value of it can leave int32 (v, plus the largest
    current, synaptic current and leak), which halves its memory traffic; else int64."""
    neuron = layer.neuron
    if neuron is None:
        return np.int64
    reach = (1 << (neuron.v.bits - 1)) + layer.current_range(in_max).magnitude
    if neuron.has_synapse:
        reach += 1 << (neuron.i.bits - 1)
    if isinstance(neuron.leak, SubtractLeak):
        reach += int(np.max(neuron.leak.amount))
    return np.int32 if reach < 1 << 31 else np.int64


def sample_values(net: Network) -> int:
    """Values one sample holds at most in a layer over every timestep: its inputs times a
    window's positions for a map kind (which its product unfolds), or its outputs."""
    return net.timesteps * max(
        max(net.input_size(index) * int(np.prod(getattr(layer, "kernel", 1))),
            net.layer_size(index)) for index, layer in enumerate(net.layers))


def block_samples(net: Network) -> int:
    """Samples per block, so that a block holds at most `BLOCK_VALUES` values per layer."""
    return max(1, BLOCK_VALUES // sample_values(net))


@dataclass
class _Layer:
    """One layer's values over a block, (batch, T, size); `values` keeps a single timestep
    while they are the same at every timestep (a direct input through layers without a
    neuron)."""

    values: np.ndarray
    membranes: np.ndarray | None = None
    syn_currents: np.ndarray | None = None
    fed_back: np.ndarray | None = None
    v: np.ndarray | None = None


def _neuron_layer(net: Network, index: int, current: np.ndarray, recurrent, dtype: type,
                  keep_trace: bool) -> _Layer:
    """The §3 update of every timestep in turn from the feed-forward `current` (batch, T or 1,
    size), in `dtype`; a recurrent layer adds its own previous spikes' current."""
    layer, neuron = net.layers[index], net.layers[index].neuron
    current = current.astype(dtype, copy=False)
    batch, steps, size = current.shape
    shape = (batch, net.timesteps, size)
    v = np.zeros((batch, size), dtype) if neuron is None else \
        np.broadcast_to(neuron.v_init_array(size), (batch, size)).astype(dtype)
    syn = np.zeros((batch, size), dtype) if neuron is not None and neuron.has_synapse \
        else None
    fed = None if recurrent is None else \
        np.broadcast_to(layer.recurrent_init_array(), (batch, size)).astype(dtype)
    out = _Layer(values=np.empty(shape, dtype),
                 membranes=np.empty(shape, np.int64) if keep_trace else None,
                 syn_currents=np.empty(shape, np.int64) if keep_trace and syn is not None
                 else None,
                 fed_back=np.empty(shape, np.int64) if keep_trace and fed is not None else None)
    for t in range(net.timesteps):
        step = current[:, t if steps > 1 else 0]
        if recurrent is not None:
            step = step + recurrent(fed)
            if keep_trace:
                out.fed_back[:, t] = fed
        if neuron is None:                       # no neuron: the values pass on
            v = s = step
        else:
            if syn is not None:
                step = syn = ref_synapse(syn, step, neuron)
            vl = ref_leak(v, neuron)              # v itself when nothing leaks: in place
            vl += step
            np.clip(vl, neuron.v.min, neuron.v.max, out=vl)
            s = ref_fire(vl, neuron)
            v = ref_reset(vl, s, neuron)
        if recurrent is not None:
            fed = s
        out.values[:, t] = s
        if keep_trace:
            out.membranes[:, t] = v
            if syn is not None:
                out.syn_currents[:, t] = syn
    out.v = v
    return out


def _run_block(net: Network, x: np.ndarray, constant: bool, keep_trace: bool) -> list:
    """Every layer of a block of samples, one layer after the other over all timesteps
    (DESIGN.md §3 lets a layer see only its own and earlier layers' values). Direct input
    (the same values every timestep) keeps one timestep until a neuron makes them vary, so
    the first layer's current is computed once."""
    batch = len(x)
    values = x[:, :1] if constant else x
    layers = []
    for index, (feed_forward, recurrent, dtype) in enumerate(_currents(net)):
        steps = values.shape[1]
        current = feed_forward(values.reshape(batch * steps, -1)).reshape(batch, steps, -1)
        if net.layers[index].neuron is None and recurrent is None:
            out = _Layer(values=current, v=current[:, -1])
        else:
            out = _neuron_layer(net, index, current, recurrent, dtype, keep_trace)
        layers.append(out)
        values = out.values
    return layers


def _joined(parts: list) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _run(net: Network, x, keep_trace: bool) -> Trace:
    x, constant = _checked(net, x)
    batch, steps = len(x), net.timesteps
    rows = block_samples(net)
    with one_blas_thread():
        blocks = [_run_block(net, x[start:start + rows], constant, keep_trace)
                  for start in range(0, batch, rows)] or [
            _run_block(net, x, constant, keep_trace)]
    last = [block[-1] for block in blocks]
    if net.output.mode == "spike_count":     # one kept timestep stands for all of them
        outputs = _joined([out.values.sum(axis=1, dtype=np.int64) *
                           (steps // out.values.shape[1]) for out in last])
    else:
        outputs = _joined([out.v.astype(np.int64) for out in last])
    classes = np.argmax(outputs, axis=1) if batch else np.zeros(0, np.int64)
    if not keep_trace:
        return Trace(outputs=outputs, classes=classes, spikes=(), membranes=())
    spikes, membranes, syn_currents, fed_back = [], [], [], []
    for parts in zip(*blocks):
        if parts[0].membranes is None:       # no neuron: values (perhaps views of x) copied
            spikes.append(np.concatenate([np.broadcast_to(out.values, out.values.shape[:1] + (
                steps,) + out.values.shape[2:]) for out in parts]))
            membranes.append(spikes[-1].copy())
        else:
            spikes.append(_joined([out.values for out in parts]).astype(np.int64, copy=False))
            membranes.append(_joined([out.membranes for out in parts]))
        syn_currents.append(None if parts[0].syn_currents is None else
                            _joined([out.syn_currents for out in parts]))
        fed_back.append(None if parts[0].fed_back is None else
                        _joined([out.fed_back for out in parts]))
    return Trace(outputs=outputs, classes=classes, spikes=tuple(spikes),
                 membranes=tuple(membranes), syn_currents=tuple(syn_currents),
                 fed_back=tuple(fed_back))


def predict(net: Network, x) -> tuple[np.ndarray, np.ndarray]:
    """(outputs, classes) for inputs `x` of shape (batch, T, input.size) (a direct network
    also takes (batch, input.size): `Network.timestep_inputs`)."""
    result = _run(net, net.timestep_inputs(x), keep_trace=False)
    return result.outputs, result.classes


def trace(net: Network, x) -> Trace:
    """Like `predict`, keeping every layer's spikes and membranes per timestep."""
    return _run(net, net.timestep_inputs(x), keep_trace=True)
