"""A straightforward loop implementation of DESIGN.md §3, independent of the golden model.

Plain Python integers, one neuron and one synapse at a time, written from the text of the
contract; the golden model must agree with it exactly.
"""

import numpy as np


def _at(value, j: int) -> int:
    """Neuron j's value of a parameter given once or once per neuron (DESIGN.md §3.1)."""
    return int(value[j]) if hasattr(value, "__len__") else int(value)


def _leak(v: int, leak, j: int) -> int:
    if leak is None:
        return v
    if hasattr(leak, "shift"):
        return v - (v >> _at(leak.shift, j))
    c = _at(leak.amount, j)
    if v > 0:
        return max(v - c, 0)
    if v < 0:
        return min(v + c, 0)
    return 0


def _dense_current(layer, s_in: list[int], in_shape) -> list[int]:
    out = []
    for j in range(layer.size):
        current = 0
        for i, s in enumerate(s_in):
            current += s * int(layer.weights.values[j][i])
        if layer.bias is not None:
            current += int(layer.bias[j])
        out.append(current)
    return out


def _out_size(n: int, k: int, stride: int, pad: int) -> int:
    return (n + 2 * pad - k) // stride + 1


def _conv2d_current(layer, s_in: list[int], in_shape) -> list[int]:
    """DESIGN.md §3.1: I[o, y, x] = sum s[c, y*sh + ky - ph, x*sw + kx - pw] w[o][c][ky][kx]
    + b_o, with s = 0 outside the map; output index o*H'*W' + y*W' + x."""
    c_in, h, w = in_shape
    (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.padding
    out_h, out_w = _out_size(h, kh, sh, ph), _out_size(w, kw, sw, pw)
    out = []
    for o in range(layer.out_channels):
        for y in range(out_h):
            for x in range(out_w):
                current = 0 if layer.bias is None else int(layer.bias[o])
                for c in range(c_in):
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = y * sh + ky - ph, x * sw + kx - pw
                            if 0 <= iy < h and 0 <= ix < w:
                                current += (s_in[c * h * w + iy * w + ix]
                                            * int(layer.weights.values[o][c][ky][kx]))
                out.append(current)
    return out


def _pool(layer, s_in: list[int], in_shape, combine) -> list[int]:
    c_in, h, w = in_shape
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    out = []
    for c in range(c_in):
        for y in range(_out_size(h, kh, sh, 0)):
            for x in range(_out_size(w, kw, sw, 0)):
                out.append(combine([s_in[c * h * w + (y * sh + ky) * w + x * sw + kx]
                                    for ky in range(kh) for kx in range(kw)]))
    return out


def _sumpool2d_values(layer, s_in: list[int], in_shape) -> list[int]:
    return _pool(layer, s_in, in_shape, sum)


def _maxpool2d_values(layer, s_in: list[int], in_shape) -> list[int]:
    return _pool(layer, s_in, in_shape, max)


def _flatten_values(layer, s_in: list[int], in_shape) -> list[int]:
    return list(s_in)


#: One loop implementation of the current per layer kind, written from DESIGN.md §3 and §3.1
#: (a kind without a neuron gives its output values).
LOOP_CURRENTS = {"dense": _dense_current, "conv2d": _conv2d_current,
                 "sumpool2d": _sumpool2d_values, "maxpool2d": _maxpool2d_values,
                 "flatten": _flatten_values}


def loop_reference(net, x):
    """(outputs, classes) as nested lists, from the DESIGN.md §3 equations."""
    outputs, classes = [], []
    for sample in x:
        v = []
        for index, layer in enumerate(net.layers):
            size = net.layer_size(index)
            if layer.neuron is None:
                v.append([0] * size)
                continue
            v.append([_at(layer.neuron.v_init, j) for j in range(size)])
        # DESIGN.md §3.1 recurrence: r(t-1), the layer's own spikes of the previous timestep
        # (r(-1) = recurrent_init, or 0).
        previous = []
        for layer in net.layers:
            r_init = getattr(layer, "recurrent_init", None)
            previous.append([0] * net.layer_size(len(previous)) if r_init is None
                            else [int(r) for r in r_init])
        # DESIGN-style cuba_lif: a synaptic current per neuron, 0 at the start.
        syn = [[0] * net.layer_size(i) for i in range(len(net.layers))]
        counts = [0] * net.n_out
        for t in range(net.timesteps):
            s_in = [int(value) for value in sample[t]]
            for index, layer in enumerate(net.layers):
                n = layer.neuron
                currents = LOOP_CURRENTS[layer.kind](layer, s_in, net.input_shape(index))
                recurrent = getattr(layer, "recurrent", None)
                if recurrent is not None:
                    for j in range(len(currents)):
                        for k, r in enumerate(previous[index]):
                            currents[j] += r * int(recurrent.values[j][k])
                if n is None:                    # no neuron: the values pass on
                    v[index] = s_in = currents
                    continue
                lo, hi = -(1 << (n.v.bits - 1)), (1 << (n.v.bits - 1)) - 1
                s_out = []
                for j in range(len(currents)):
                    current = currents[j]
                    if n.model == "cuba_lif":
                        i_lo, i_hi = -(1 << (n.i.bits - 1)), (1 << (n.i.bits - 1)) - 1
                        decayed = syn[index][j] - (syn[index][j] >> _at(n.syn_shift, j))
                        current = syn[index][j] = min(max(decayed + current, i_lo), i_hi)
                    vj = min(max(_leak(v[index][j], n.leak, j) + current, lo), hi)
                    s = 0
                    theta = _at(n.threshold, j) if n.model != "integrator" else None
                    if n.model != "integrator" and vj >= theta:
                        s = min(vj // theta, (1 << n.spike_bits) - 1)
                    if n.model != "integrator":
                        if n.reset == "subtract":
                            vj -= s * theta
                        elif n.reset == "zero" and s > 0:
                            vj = 0
                    v[index][j] = vj
                    s_out.append(s)
                previous[index] = s_out
                s_in = s_out
            for j, s in enumerate(s_in):
                counts[j] += s
        out = counts if net.output.mode == "spike_count" else v[-1]
        outputs.append(out)
        best = 0
        for j, value in enumerate(out):
            if value > out[best]:
                best = j
        classes.append(best)
    return outputs, classes


def numpy_reference(net, x):
    """(outputs, classes, spikes, membranes) of the DESIGN.md §3 equations in plain int64 NumPy,
    for networks of dense layers (`loop_reference` covers every kind).

    Vectorised over the batch so that a dataset-sized one is checked in full; spikes and
    membranes are per layer, of shape (batch, T, size). Integer matrix products only (the golden
    model takes a float path when that is exact), and the subtract leak written as a clamp of
    the magnitude, so it shares no code and few formulas with the golden model.
    """
    x = np.asarray(x, np.int64)
    batch = len(x)
    v = [np.broadcast_to(np.asarray(layer.neuron.v_init, np.int64), (batch, layer.size)).copy()
         for layer in net.layers]
    spikes = [np.zeros((batch, net.timesteps, layer.size), np.int64) for layer in net.layers]
    membranes = [np.zeros_like(s) for s in spikes]
    syn = [np.zeros((batch, layer.size), np.int64) for layer in net.layers]
    for t in range(net.timesteps):
        s_in = x[:, t]
        for index, layer in enumerate(net.layers):
            n = layer.neuron
            current = s_in @ np.asarray(layer.weights.values, np.int64).T
            if layer.bias is not None:
                current = current + np.asarray(layer.bias, np.int64)
            if n.model == "cuba_lif":
                top = 1 << (n.i.bits - 1)
                decayed = syn[index] - np.floor_divide(syn[index], 2 ** np.asarray(n.syn_shift))
                current = syn[index] = np.clip(decayed + current, -top, top - 1)
            vj = v[index]
            if n.leak is not None and hasattr(n.leak, "shift"):
                vj = vj - (vj >> n.leak.shift)
            elif n.leak is not None:
                vj = np.sign(vj) * np.maximum(np.abs(vj) - n.leak.amount, 0)
            half = 1 << (n.v.bits - 1)
            vj = np.clip(vj + current, -half, half - 1)
            s = np.zeros_like(vj)
            if n.model != "integrator":
                s = np.where(vj >= n.threshold,
                             np.minimum(vj // n.threshold, (1 << n.spike_bits) - 1), 0)
                if n.reset == "subtract":
                    vj = vj - s * n.threshold
                elif n.reset == "zero":
                    vj = np.where(s > 0, 0, vj)
            v[index] = vj
            spikes[index][:, t] = s
            membranes[index][:, t] = vj
            s_in = s
    outputs = spikes[-1].sum(axis=1) if net.output.mode == "spike_count" else v[-1]
    return outputs, np.argmax(outputs, axis=1), spikes, membranes
