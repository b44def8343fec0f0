"""One weighted NIR layer (Affine/Linear/Conv2d, then a neuron node) as an integer layer.

The neuron's gain, and the 1/(kh·kw) of every ``AvgPool2d`` between the previous neuron and
these weights, are folded into the weights; the layer is then scaled by the smallest factor
2^k (or (kh·kw)·2^k) that makes every weight, bias and the threshold an integer, so the
integer layer fires exactly when the framework's does. What cannot be exact is refused naming
the node and parameter, or quantized with ``lossy`` and reported in the layer's note.
"""

from dataclasses import dataclass, field

import numpy as np

from ..ir.formats import signed_bits_for
from ..ir.kinds.conv2d import Conv2dLayer
from ..ir.kinds.dense import DenseLayer
from ..ir.neuron import MAX_LEAK_SHIFT, MAX_SPIKE_BITS, Neuron, ShiftLeak
from ..ir.weights import MAX_POT_EXPONENT, MAX_WEIGHT_BITS, IntWeights, PotWeights
from .convert import membrane_format_for, pot_round
from .nir_conventions import Conventions, ImportError_
from .nir_neurons import NirNeuron

__all__ = ["WeightNode", "weighted_layer", "MAX_SCALE_SHIFT"]

MAX_SCALE_SHIFT = 16


@dataclass
class WeightNode:
    """An ``Affine``/``Linear`` (`kind` ``"dense"``) or ``Conv2d`` (``"conv2d"``) node waiting
    for its neuron: float weights and bias, and what its input is (`in_max`, the largest input
    value; `divisor`, the product of the average pools' windows since the last neuron)."""

    name: str
    kind: str
    weight: np.ndarray
    bias: np.ndarray
    in_max: int
    divisor: int = 1
    stride: tuple = (1, 1)
    padding: tuple = (0, 0)
    out_shape: tuple = field(default=())


def _broadcast(name: str, param: str, values: np.ndarray, shape: tuple) -> np.ndarray:
    """`values` of node `name` as one per neuron of `shape`, or ImportError_ naming the shapes."""
    values = np.asarray(values, np.float64)
    if values.size == 1:
        return np.full(shape, float(values.flat[0]))
    squeezed = values.reshape([n for n in values.shape if n != 1] or [1])
    target = [n for n in shape if n != 1] or [1]
    if values.size != int(np.prod(shape)) or list(squeezed.shape) != target:
        raise ImportError_(f"node {name!r} parameter {param}: shape {list(values.shape)} does "
                           f"not match the layer's neurons {list(shape)}")
    return values.reshape(shape)


def _row_gain(pending: WeightNode, neuron: NirNeuron) -> np.ndarray:
    """The neuron gain per weight row: per neuron (dense) or per output channel (conv2d)."""
    gain = _snap(_broadcast(neuron.name, "r", neuron.gain, pending.out_shape))
    if pending.kind == "dense":
        return gain.reshape(-1)
    per_channel = gain.reshape(gain.shape[0], -1)
    if np.any(per_channel != per_channel[:, :1]):
        raise ImportError_(f"node {neuron.name!r} parameter r: the input gain differs between "
                           f"positions of one channel; a convolution has one filter per "
                           f"channel")
    return per_channel[:, 0]


def _snap(values: np.ndarray) -> np.ndarray:
    """Powers of two within float32 rounding of `values` (exports compute gains in float32)."""
    exact = 2.0 ** np.round(np.log2(np.maximum(np.abs(values), 1e-300)))
    close = np.isclose(np.abs(values), exact, rtol=1e-6, atol=0)
    return np.where(close, np.sign(values) * exact, values)


def _integer_scale(name: str, values: list[np.ndarray], divisor: int,
                   lossy: bool) -> tuple[float, str] | None:
    """The smallest 2^k or divisor·2^k (k <= 16) that makes every value an integer, with its
    text; None when there is none and `lossy`, else ImportError_ naming the weight node."""
    candidates = sorted({(2.0 ** k, f"2^{k}") for k in range(MAX_SCALE_SHIFT + 1)} |
                        ({(divisor * 2.0 ** k, f"{divisor}·2^{k}")
                          for k in range(MAX_SCALE_SHIFT + 1)} if divisor > 1 else set()))
    for scale, text in candidates:
        if all(np.allclose(v * scale, np.round(v * scale), rtol=0, atol=1e-9) for v in values):
            return scale, text
    if lossy:
        return None
    fraction = next((float(v[np.abs(v - np.round(v)) > 1e-9].flat[0]) for v in values
                     if np.any(np.abs(v - np.round(v)) > 1e-9)), None)
    raise ImportError_(f"node {name!r} parameter weight: values are not integers at any "
                       f"power-of-two scale up to 2^{MAX_SCALE_SHIFT} (e.g. {fraction!r} after "
                       f"the neuron's gain{' and the average pool' if divisor > 1 else ''}); "
                       f"integer hardware cannot represent them exactly (use --lossy to "
                       f"quantize)")


def _weights(pending: WeightNode, values: np.ndarray, weights: str, lossy: bool, note: dict):
    """PoT or int weight codes of the scaled integer `values` (refused or rounded)."""
    ndim = values.ndim
    if weights == "pot":
        mag = np.abs(values)
        is_pot = (mag == 0) | ((mag & (mag - 1)) == 0)
        if not is_pot.all():
            if not lossy:
                bad = tuple(np.argwhere(~is_pot)[0])
                raise ImportError_(f"node {pending.name!r} parameter weight: value "
                                   f"{float(pending.weight[bad])!r} (integer "
                                   f"{int(values[bad])}) is not 0 or ±2^e; use --weights int "
                                   f"or --lossy")
            values = pot_round(values.astype(np.float64), int(np.log2(max(mag.max(), 1))) + 1)
            note["pot_rounded"] = float(np.mean(~is_pot))
        e_max = int(np.log2(max(np.abs(values).max(), 1)))
        if e_max > MAX_POT_EXPONENT:
            _too_wide(pending, f"exponents up to {e_max} (at most {MAX_POT_EXPONENT})", note)
        return PotWeights(e_min=0, e_max=e_max, values=values, ndim=ndim), values
    lo, hi = int(min(values.min(), 0)), int(max(values.max(), 0))
    bits = max(2, signed_bits_for(lo, hi))
    if bits > MAX_WEIGHT_BITS:
        _too_wide(pending, f"{bits}-bit integers (at most {MAX_WEIGHT_BITS})", note)
    return IntWeights(bits=bits, values=values, ndim=ndim), values


def _too_wide(pending: WeightNode, what: str, note: dict):
    raise ImportError_(f"node {pending.name!r} parameter weight: the exact form needs {what} "
                       f"at the scale {note['scale']}"
                       + (f" ({note['leak']})" if "extra scale" in note.get("leak", "") else "")
                       + "; use fewer timesteps or --lossy")


def _reset_rule(neuron: NirNeuron, conv: Conventions, shape: tuple) -> tuple[str, np.ndarray]:
    """The description's reset for `neuron` under `conv`, and each neuron's membrane offset:
    a NIR reset to v_reset = 0 is a reset to zero; a v_reset ≠ 0 where the membrane also
    starts at it is a reset to zero of ``v - v_reset`` (θ becomes θ - v_reset), neuron by
    neuron; a leaky membrane must leak towards that same offset."""
    size = int(np.prod(shape))
    offset, reset = np.zeros(size), "none"
    if neuron.kind in ("if", "lif"):
        reset = conv.reset
        if reset == "nir":
            reset = "zero"
            v_reset = _broadcast(neuron.name, "v_reset", neuron.v_reset, shape).reshape(-1)
            if np.any(v_reset != 0):
                if not conv.v_starts_at_reset:
                    raise ImportError_(f"node {neuron.name!r} parameter v_reset: resets to "
                                       f"{np.unique(v_reset)[:4].tolist()}; a v_reset other "
                                       f"than 0 is exact only where the membrane starts at "
                                       f"v_reset (the spikingjelly and norse presets)")
                offset = v_reset
    if neuron.v_leak is not None and np.any(np.asarray(neuron.beta) != 1):
        v_leak = _broadcast(neuron.name, "v_leak", neuron.v_leak, shape).reshape(-1)
        if np.any(v_leak != offset):
            raise ImportError_(f"node {neuron.name!r} parameter v_leak: the membrane must leak "
                               f"towards its reset value (or 0), "
                               f"{_text(offset)}, not {_text(v_leak)}")
    return reset, offset


def _text(values) -> str:
    """One value, or the range of per-neuron values, for messages and notes."""
    values = np.asarray(values)
    if values.size == 0 or np.all(values == values.flat[0]):
        return f"{float(values.flat[0]):g}" if values.size else "-"
    return f"{float(values.min()):g}..{float(values.max()):g} per neuron"


def _spike_bits(name: str, conv: Conventions, theta: np.ndarray, peak: np.ndarray) -> int:
    """Spike bits S that make the framework's spike count exact (`Conventions.max_spikes`):
    1 for single spikes; MaxSpike(N) is S with N = 2^S - 1; an unbounded count needs S bits
    for the largest count a step can reach (θ - 1 left after the last step plus the neuron's
    largest current `peak`, over θ). More than one bit needs power-of-two thresholds (the
    count is a shift)."""
    if conv.max_spikes == 1:
        return 1
    if conv.max_spikes is not None:
        bits = int(np.log2(conv.max_spikes + 1))
        if (1 << bits) - 1 != conv.max_spikes:
            raise ImportError_(f"node {name!r}: at most {conv.max_spikes} spikes per step is "
                               f"not 2^S - 1 for any S; multi-bit spikes saturate at 2^S - 1")
    else:
        bits = max(1, int(((theta - 1 + peak) // theta).max()).bit_length())
    if bits > 1 and np.any(theta & (theta - 1)):
        bad = int(theta[np.argmax(theta & (theta - 1) != 0)])
        raise ImportError_(f"node {name!r} parameter v_threshold: {bad} (at the layer's "
                           f"integer scale) is not a power of two, which multi-bit spike "
                           f"counts need (floor(v / θ) as a shift)")
    if bits > MAX_SPIKE_BITS:
        raise ImportError_(f"node {name!r}: an unbounded spike count reaches "
                           f"{(1 << bits) - 1} or more per step, beyond {MAX_SPIKE_BITS} spike "
                           f"bits; use MaxSpike(2^S - 1) with S <= {MAX_SPIKE_BITS}")
    return bits


def _dyadic(decay: np.ndarray, size: int, timesteps: int) -> tuple[np.ndarray, int | None]:
    """The nearest shifts k of per-neuron decays (1 - 2^-k), and the extra scale shift
    k_max·T that makes them exact for T steps, or None when some decay is not 1 - 2^-k (a
    decay of 1 has no shift: v >> 62 is -1 for a negative v)."""
    decay = np.broadcast_to(decay, (size,))
    shifts = np.clip(np.round(-np.log2(np.maximum(1 - decay, 1e-18))), 0,
                     MAX_LEAK_SHIFT).astype(np.int64)
    exact = np.all((1 - 2.0 ** -shifts.astype(np.float64) == decay) & (decay < 1))
    return shifts, int(shifts.max()) * timesteps if exact else None


def _synapse(neuron: NirNeuron, size: int, timesteps: int, lossy: bool, note: dict):
    """(syn_shift or None, extra scale shift) of a CubaLIF's synaptic current: α = 0 passes the
    input straight on (a plain LIF, no synapse needed); α = 1 - 2^-k is the shift k_syn, exact
    for T steps at an extra scale 2^(k·T) as a leak is (`_leak`); α = 1 (no decay) or any
    other α is refused unless `lossy` (then the nearest shift)."""
    alpha = np.asarray(neuron.alpha, np.float64)
    if np.all(alpha == 0):
        note["synapse"] = "alpha 0: the synaptic current is the input itself (a LIF)"
        return None, 0
    shifts, extra = _dyadic(alpha, size, timesteps)
    one = shifts if np.any(shifts != shifts[0]) else int(shifts[0])
    if extra is not None:
        note["synapse"] = (f"alpha = 1 - 2^-k_syn ({_text(shifts)}) exact for T = {timesteps} "
                           f"steps at the extra scale 2^{extra}")
        return one, extra
    if not lossy:
        raise ImportError_(f"node {neuron.name!r} parameter tau_syn: alpha = {_text(alpha)} "
                           f"is not 0 or 1 - 2^-k (alpha = 1, a current that never decays, "
                           f"has no shift form either); integer hardware can only approximate "
                           f"it with I - (I >> {_text(shifts)}); use --lossy to accept that")
    note["synapse"] = (f"alpha {_text(alpha)} -> syn_shift {_text(shifts)} (alpha "
                       f"{_text(1 - 2.0 ** -shifts.astype(np.float64))})")
    return one, 0


def _leak(neuron: NirNeuron, size: int, timesteps: int, lossy: bool, note: dict):
    """(shift leak or None for β = 1, extra scale shift) of a leaky neuron.

    β = 0 is v - (v >> 0) = 0 exactly. β = 1 - 2^-k keeps a binary fraction of v each step,
    which the framework's float membrane holds: at an extra scale 2^(k·T) every membrane of
    the T steps is a multiple of 2^k before its leak, so v - (v >> k) is exact (k the largest
    of the layer's shifts). Any other β, or β = 1 beside leaking neurons, is refused unless
    `lossy` (then the nearest shift, per neuron where β differs)."""
    beta = np.asarray(neuron.beta, np.float64)
    if neuron.kind not in ("lif", "integrator") or np.all(beta == 1):
        return None, 0
    if np.all(beta == 0):
        return ShiftLeak(shift=0), 0
    leak = ShiftLeak.nearest(float(beta) if beta.ndim == 0 else np.broadcast_to(beta, (size,)))
    shifts, extra = _dyadic(beta, size, timesteps)
    if extra is not None:
        note["leak"] = (f"beta = 1 - 2^-k ({_text(shifts)}) exact for T = {timesteps} steps at "
                        f"the extra scale 2^{extra}")
        return leak, extra
    if not lossy:
        raise ImportError_(f"node {neuron.name!r} parameter tau: beta = {_text(beta)} leaks by "
                           f"a fraction of v each step that is not 1 - 2^-k, which integer "
                           f"hardware can only approximate with v - (v >> {_text(shifts)}) "
                           f"(beta = {_text(1 - 2.0 ** -shifts.astype(np.float64))}); exact "
                           f"only for beta 0, 1 or 1 - 2^-k; use --lossy to accept that")
    note["leak"] = leak.approximation(float(beta) if beta.ndim == 0 else beta)
    return leak, 0


def _timing(neuron: NirNeuron, conv: Conventions, reset: str, leak, lossy: bool,
            note: dict, recurrent: bool, cuba: bool = False) -> None:
    """Refuse reset timings that DESIGN §3's immediate reset cannot reproduce."""
    clearing = [kind for kind, present in (("recurrent", recurrent), ("cuba", cuba))
                if present and kind in conv.step_clearing_zero_reset]
    if clearing and reset == "zero" and conv.reset_delay:
        what = {"recurrent": "a recurrent neuron's (snnTorch's RLeaky)",
                "cuba": "a current-based neuron's (snnTorch's Synaptic)"}[clearing[0]]
        if not lossy:
            raise ImportError_(f"node {neuron.name!r}: {what} delayed reset to zero clears "
                               f"the whole next step, its input included, which DESIGN §3's "
                               f"reset (v = 0, then the next input) does not; use reset by "
                               f"subtraction or reset_delay=False")
        note["reset_delay"] = "the step-clearing reset to zero approximated by DESIGN §3's"
    if neuron.kind not in ("if", "lif") or reset != "subtract":
        return
    if conv.reset_delay and leak is not None:
        if not lossy:
            raise ImportError_(f"node {neuron.name!r} parameter tau: a delayed reset by "
                               f"subtraction escapes the leak of its own step, which DESIGN §3 "
                               f"arithmetic leaks; exact only without a leak")
        note["reset_delay"] = "delayed subtraction approximated by an immediate one"
    if not conv.reset_delay and conv.undelayed_rule == "snntorch":
        if not lossy:
            raise ImportError_(f"node {neuron.name!r}: snnTorch's reset_delay=False with reset "
                               f"by subtraction also subtracts θ when the stored membrane is "
                               f"above θ, which no immediate reset reproduces; export with "
                               f"reset_delay=True, or reset 'zero' or 'none'")
        note["reset_delay"] = "snnTorch's undelayed subtraction approximated by an immediate one"


def _cost(weights, v, scale: float, scale_text: str) -> str:
    """What the exact form costs in hardware: the stored weight and membrane widths, and the
    bits that the integer scale added to both."""
    kind = "PoT" if isinstance(weights, PotWeights) else "int"
    text = f"{weights.code_bits}-bit {kind} weight codes, {v.bits}-bit membrane"
    if scale > 1:
        text += (f"; the scale {scale_text} that makes the layer integer adds "
                 f"{np.log2(scale):.3g} bits to the weights' range and to the membrane")
    return text


def _integer_thresholds(name: str, theta: np.ndarray, scale: float, conv: Conventions,
                        reset: str, leak, lossy: bool, note: dict) -> tuple[np.ndarray, int]:
    """(per-neuron integer θ, v_init) firing exactly when the framework's ``v > θ`` or
    ``v >= θ`` does: on integers v > θ is v >= θ + 1 with a zero or no reset (or a β = 0 leak,
    which forgets any residue), and with reset by subtraction and no leak the membrane offset
    by -1, which subtraction keeps."""
    theta_int, v_init = np.round(theta * scale).astype(np.int64), 0
    if conv.fire == ">":
        if reset in ("zero", "none") or (leak is not None and np.all(np.asarray(leak.shift) == 0)):
            theta_int += 1
            note["fire"] = "v > θ as v >= θ + 1"
        elif leak is None:
            v_init = -1
            note["fire"] = "v > θ as v >= θ with the membrane offset by -1 (v_init = -1)"
        elif not lossy:
            raise ImportError_(f"node {name!r} parameter v_threshold: firing on v > θ with "
                               f"reset by subtraction and a leak has no exact integer form")
        else:
            theta_int += 1
            note["fire"] = "v > θ approximated by v >= θ + 1"
    if np.any(theta_int < 1):
        bad = int(np.argmax(theta_int < 1))
        raise ImportError_(f"node {name!r} parameter v_threshold: {float(theta[bad])!r} "
                           f"(neuron {bad}) becomes {int(theta_int[bad])} at scale "
                           f"{note['scale']}; the threshold must be positive")
    return theta_int, v_init


def weighted_layer(pending: WeightNode, neuron: NirNeuron, *, conv: Conventions, timesteps: int,
                   weights: str, lossy: bool, weight_bits: int, notes: list,
                   recurrent: WeightNode | None = None):
    """The dense or conv2d layer of `pending` followed by `neuron` (with the neuron's own
    `recurrent` weights, whose bias adds to the layer's); appends its note."""
    gain = _row_gain(pending, neuron)
    row = (slice(None),) + (None,) * (pending.weight.ndim - 1)
    w_eff, b_eff = pending.weight * gain[row] / pending.divisor, pending.bias * gain
    u_eff = np.zeros((0, 0))
    if recurrent is not None:
        if pending.kind != "dense":
            raise ImportError_(f"node {recurrent.name!r}: recurrent weights are supported on "
                               f"dense layers only, not after the {pending.kind} "
                               f"{pending.name!r}")
        u_eff, b_eff = recurrent.weight * gain[:, None], b_eff + recurrent.bias * gain
    name = neuron.name
    out_size = int(np.prod(pending.out_shape))
    reset, offset = _reset_rule(neuron, conv, pending.out_shape)
    theta = None if neuron.threshold is None else _broadcast(
        name, "v_threshold", neuron.threshold, pending.out_shape).reshape(-1) - offset
    note = {"layer": len(notes), "weights": pending.name, "neuron": name}
    if np.any(offset):
        note["v_reset"] = (f"membrane offset by -v_reset ({_text(offset)}): θ - v_reset = "
                           f"{_text(theta)}, reset to 0")
    if recurrent is not None:
        note["recurrent"] = recurrent.name
    leak, extra = _leak(neuron, out_size, timesteps, lossy, note)
    syn_shift = None
    if neuron.alpha is not None:
        syn_shift, syn_extra = _synapse(neuron, out_size, timesteps, lossy, note)
        extra += syn_extra
    scaled = _integer_scale(pending.name, [w_eff, u_eff, b_eff] +
                            ([] if theta is None else [theta]),
                            pending.divisor, lossy)
    if scaled is None:     # lossy: a power-of-two scale that uses the weight range
        k = IntWeights.scale_exponent(max(np.abs(w_eff).max(), np.abs(u_eff).max(initial=0)),
                                      weight_bits)
        scaled = (2.0 ** k, f"2^{k}")
    scale, note["scale"] = scaled
    if extra:           # see _leak: the leaks stay exact for T steps at this extra scale
        scale, note["scale"] = scale * 2.0 ** extra, f"{note['scale']}·2^{extra}"
    values = np.round(w_eff * scale).astype(np.int64)
    bias = np.round(b_eff * scale).astype(np.int64)
    note["weight_rms_error"] = float(np.sqrt(np.mean((values - w_eff * scale) ** 2)))
    weight_obj, values = _weights(pending, values, weights, lossy, note)
    rec_obj, rec_values = (None, np.zeros((values.shape[0], 0), np.int64)) if recurrent is None \
        else _weights(recurrent, np.round(u_eff * scale).astype(np.int64), weights, lossy, note)
    if neuron.kind in ("threshold", "readout"):
        leak = ShiftLeak(shift=0)                    # v - (v >> 0) = 0: stateless
    _timing(neuron, conv, reset, leak, lossy, note, recurrent is not None,
            cuba=syn_shift is not None)
    v_init, theta_int, spike_bits = 0, None, 1
    rows = np.hstack([values.reshape(values.shape[0], -1) * pending.in_max, rec_values])
    if theta is not None:
        theta_int, v_init = _integer_thresholds(name, theta, scale, conv, reset, leak, lossy,
                                                note)
        peak = (np.where(rows > 0, rows, 0).sum(1) + np.maximum(bias, 0))
        peak = np.repeat(peak, out_size // len(peak))      # a channel's peak at each position
        spike_bits = _spike_bits(name, conv, theta_int, peak)
        if np.all(theta_int == theta_int[0]):
            theta_int = int(theta_int[0])
    if spike_bits > 1:
        if conv.fire != ">=" or reset not in ("subtract", "zero"):
            raise ImportError_(f"node {name!r}: multi-bit spike counts are exact with v >= θ "
                               f"and reset by subtraction or to zero only")
        note["spikes"] = f"up to {(1 << spike_bits) - 1} per step: spike_bits {spike_bits}"
    # a synaptic current sums up to T steps of input, so v up to T (T + 1) / 2 of them
    reach = timesteps if syn_shift is None else timesteps * (timesteps + 1) // 2
    v = membrane_format_for(rows, bias, 1, reach,
                            None if theta_int is None else theta_int * ((1 << spike_bits) - 1),
                            v_init)
    if neuron.kind in ("integrator", "readout"):
        neuron_obj = Neuron(model="integrator", v=v, leak=leak, v_init=v_init)
    elif syn_shift is not None:
        neuron_obj = Neuron(model="cuba_lif", v=v, threshold=theta_int, syn_shift=syn_shift,
                            i=membrane_format_for(rows, bias, 1, timesteps),
                            leak=leak, reset=reset, v_init=v_init, spike_bits=spike_bits)
    else:
        neuron_obj = Neuron(model="lif" if leak is not None else "if", v=v, threshold=theta_int,
                            leak=leak, reset=reset, v_init=v_init, spike_bits=spike_bits)
    note["cost"] = _cost(weight_obj, v, scale, note["scale"])
    notes.append(note)
    kept_bias = bias if bias.any() else None
    if pending.kind == "conv2d":
        return Conv2dLayer(out_channels=values.shape[0], kernel=values.shape[2:],
                           stride=pending.stride, padding=pending.padding, weights=weight_obj,
                           neuron=neuron_obj, bias=kept_bias)
    return DenseLayer(size=values.shape[0], weights=weight_obj, neuron=neuron_obj,
                      bias=kept_bias, recurrent=rec_obj)
