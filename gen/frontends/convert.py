"""ANN-to-SNN conversion of QCFS-trained MLPs (PASCAL style) and power-of-two quantization.

A QCFS activation ``h(z) = λ * clip(floor(z * L / λ + 1/2) / L, 0, 1)`` becomes an IF neuron
with reset by subtraction and ``v_init = θ / 2``. Each layer's weights are quantized on one
power-of-two grid: ``w ≈ σ * q`` with q in {0, ±2**e} and σ a power of two chosen from the
largest |w| (the same grid that PoT quantization-aware training uses, so conversion changes
nothing training did not see). One integer unit of current then stands for ``u = r * σ`` in
the ANN, r being what one unit of the layer's input stands for (``1 / x_max`` for direct
integer input, λ of the previous layer for binary spikes), so the threshold is θ = λ / u and a
bias b becomes b / u. When θ would be small, all of a layer's weights are multiplied by a power
of two (a larger ``e_min``) so that rounding θ to an integer costs little; the read-out is an
integrator whose final membrane is proportional to the ANN logits.
"""

from dataclasses import dataclass

import numpy as np

from ..ir.formats import IntFormat, signed_bits_for
from ..ir.kinds.dense import DenseLayer
from ..ir.network import InputSpec, Network, OutputSpec
from ..ir.neuron import Neuron
from ..ir.weights import PotWeights

__all__ = ["membrane_format_for", "pot_scale", "pot_round", "pot_fake_quantize", "LayerError",
           "qcfs_mlp_to_network", "MIN_THRESHOLD"]

MIN_THRESHOLD = 256       # thresholds are scaled up to at least this, so rounding costs < 0.2 %


def membrane_format_for(values: np.ndarray, bias: np.ndarray | None, in_max: int,
                        timesteps: int, threshold: int | None = None,
                        v_init: int = 0) -> IntFormat:
    """A membrane format that never saturates: the worst-case current of every timestep, plus
    the threshold and initial value (used by conversion, import and quantization)."""
    bias = np.zeros(values.shape[0], np.int64) if bias is None else np.asarray(bias)
    hi = np.where(values > 0, values, 0).sum(1) * in_max + np.maximum(bias, 0)
    lo = np.where(values < 0, values, 0).sum(1) * in_max + np.minimum(bias, 0)
    swing = timesteps * int(max(hi.max(), -lo.min(), 1)) + abs(v_init)
    return IntFormat(bits=signed_bits_for(-swing - 1, swing + (threshold or 0)))


def pot_scale(w: np.ndarray, e_max: int) -> float:
    """The power-of-two scale σ that maps the largest |w| to at most 2**e_max."""
    peak = float(np.abs(w).max())
    if peak == 0:
        return 1.0
    return float(2.0 ** np.ceil(np.log2(peak / (1 << e_max))))


def pot_round(u: np.ndarray, e_max: int) -> np.ndarray:
    """Nearest value in {0, ±1, ±2, ..., ±2**e_max} to each element of `u` (integers)."""
    mag = np.abs(u)
    e = np.floor(np.log2(np.maximum(mag, 1e-30)))
    e = np.where(mag >= 1.5 * 2.0 ** e, e + 1, e)
    e = np.clip(e, 0, e_max)
    values = np.where(mag < 0.5, 0, np.sign(u) * 2.0 ** e)
    return values.astype(np.int64)


def pot_fake_quantize(w: np.ndarray, e_max: int) -> np.ndarray:
    """Float weights as the converted network will see them: σ PoT(w / σ)."""
    sigma = pot_scale(w, e_max)
    return pot_round(w / sigma, e_max) * sigma


@dataclass(frozen=True)
class LayerError:
    """What quantizing one layer changed: relative RMS weight error and zeroed weights."""

    scale: float
    weight_rms_error: float
    zeroed: float
    threshold_error: float


def qcfs_mlp_to_network(weights, biases, clips, *, input_bits: int, timesteps: int,
                        e_max: int = 7, name: str = "qcfs-mlp", spike_bits: int = 1,
                        input_scale: float | None = None) -> tuple[Network, list]:
    """Convert a QCFS MLP (``weights[l]`` of shape (out, in), ``clips[l]`` = λ per hidden
    layer) into an IF network with PoT weights and an integrator read-out.

    With ``spike_bits`` S > 1 (hybrid spikes), a spike of value s stands for s QCFS steps
    λ / L with L = 2**S - 1 levels, so that one timestep reproduces the quantized ANN; the
    thresholds λ / (L u) must then be powers of two, which training with
    ``QCFS(levels=L, pow2_step=True)`` and an input scale of ``2**-input_bits`` guarantees.
    `input_scale` is what one integer input unit stands for (default ``1 / (2**B - 1)``).

    Returns the network and one `LayerError` per layer.
    """
    levels = (1 << spike_bits) - 1
    r = input_scale if input_scale is not None else 1.0 / ((1 << input_bits) - 1)
    in_max = (1 << input_bits) - 1
    layers, errors = [], []
    for index, (w, b) in enumerate(zip(weights, biases)):
        last = index == len(weights) - 1
        w = np.asarray(w, np.float64)
        sigma = pot_scale(w, e_max)
        values = pot_round(w / sigma, e_max)
        unit = r * sigma
        boost = 0
        if not last:
            theta_exact = clips[index] / levels / unit
            boost = max(0, int(np.ceil(np.log2(MIN_THRESHOLD / theta_exact))))
        values = values << boost
        unit /= 1 << boost
        bias = np.rint(np.asarray(b, np.float64) / unit).astype(np.int64)
        rms = float(np.sqrt(np.mean((values * unit / r - w) ** 2)) /
                    max(np.sqrt(np.mean(w ** 2)), 1e-30))
        if last:
            v = membrane_format_for(values, bias, in_max, timesteps)
            neuron = Neuron(model="integrator", v=v)
            theta_error = 0.0
        else:
            theta_exact = clips[index] / levels / unit
            theta = max(1, int(round(theta_exact)))
            theta_error = abs(theta - theta_exact) / theta_exact
            if spike_bits > 1 and (theta & (theta - 1) or theta_error > 1e-6):
                raise ValueError(f"layer {index}: with spike_bits={spike_bits} the threshold "
                                 f"λ / (L u) must be a power of two, not {theta_exact:g}; "
                                 f"train with QCFS(levels={levels}, pow2_step=True) and inputs "
                                 f"scaled by 2**-input_bits")
            v = membrane_format_for(values, bias, in_max, timesteps, theta * levels, theta // 2)
            neuron = Neuron(model="if", threshold=theta, reset="subtract", v_init=theta // 2, v=v,
                            spike_bits=spike_bits)
        layers.append(DenseLayer(size=w.shape[0],
                                 weights=PotWeights(e_min=boost, e_max=e_max + boost,
                                                    values=values),
                                 bias=bias if bias.any() else None, neuron=neuron))
        errors.append(LayerError(scale=unit / r, weight_rms_error=rms,
                                 zeroed=float(np.mean((values == 0) & (w != 0))),
                                 threshold_error=theta_error))
        if not last:
            r, in_max = clips[index] / levels, levels
    net = Network(name=name, timesteps=timesteps, input=InputSpec(size=weights[0].shape[1],
                                                                  bits=input_bits),
                  layers=tuple(layers), output=OutputSpec(mode="membrane"))
    return net, errors
