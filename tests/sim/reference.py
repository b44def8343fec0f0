"""A straightforward loop implementation of DESIGN.md §3, independent of the golden model.

Plain Python integers, one neuron and one synapse at a time, written from the text of the
contract; the golden model must agree with it exactly.
"""


def _leak(v: int, leak) -> int:
    if leak is None:
        return v
    if hasattr(leak, "shift"):
        return v - (v >> leak.shift)
    c = leak.amount
    if v > 0:
        return max(v - c, 0)
    if v < 0:
        return min(v + c, 0)
    return 0


def _dense_current(layer, s_in: list[int]) -> list[int]:
    out = []
    for j in range(layer.size):
        current = 0
        for i, s in enumerate(s_in):
            current += s * int(layer.weights.values[j][i])
        if layer.bias is not None:
            current += int(layer.bias[j])
        out.append(current)
    return out


#: One loop implementation of the current per layer kind, written from DESIGN.md §3.
LOOP_CURRENTS = {"dense": _dense_current}


def loop_reference(net, x):
    """(outputs, classes) as nested lists, from the DESIGN.md §3 equations."""
    outputs, classes = [], []
    for sample in x:
        v = []
        for layer in net.layers:
            if layer.neuron is None:
                v.append([0] * layer.size)
                continue
            init = layer.neuron.v_init
            v.append([int(init[j]) if hasattr(init, "__len__") else int(init)
                      for j in range(layer.size)])
        counts = [0] * net.layers[-1].size
        for t in range(net.timesteps):
            s_in = [int(value) for value in sample[t]]
            for index, layer in enumerate(net.layers):
                n = layer.neuron
                currents = LOOP_CURRENTS[layer.kind](layer, s_in)
                if n is None:                    # no neuron: the values pass on
                    v[index] = s_in = currents
                    continue
                lo, hi = -(1 << (n.v.bits - 1)), (1 << (n.v.bits - 1)) - 1
                s_out = []
                for j in range(layer.size):
                    current = currents[j]
                    vj = min(max(_leak(v[index][j], n.leak) + current, lo), hi)
                    s = 0
                    if n.model != "integrator" and vj >= n.threshold:
                        s = min(vj // n.threshold, (1 << n.spike_bits) - 1)
                    if n.model != "integrator":
                        if n.reset == "subtract":
                            vj -= s * n.threshold
                        elif n.reset == "zero" and s > 0:
                            vj = 0
                    v[index][j] = vj
                    s_out.append(s)
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
