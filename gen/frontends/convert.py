"""ANN-to-SNN conversion of QCFS-trained MLPs and CNNs (PASCAL style) and power-of-two
quantization.

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

Convolutions convert the same way (one grid per layer, bias per output channel). An average
pool becomes an exact sum pool: its values are k·k times the ANN's average, so one unit of the
next layer's input stands for r / (kh·kw) and the next threshold is k·k times larger; nothing
is rounded. A max pool passes its input's unit on unchanged (exact for the SNN it builds, but
the maximum of spike trains is not the spike train of the maximum: not rate-preserving).
"""

from dataclasses import dataclass

import numpy as np

from ..ir.formats import IntFormat, signed_bits_for
from ..ir.kinds.conv2d import Conv2dLayer
from ..ir.kinds.dense import DenseLayer
from ..ir.kinds.flatten import FlattenLayer
from ..ir.kinds.maxpool2d import MaxPool2dLayer
from ..ir.kinds.sumpool2d import SumPool2dLayer
from ..ir.network import InputSpec, Network, OutputSpec
from ..ir.neuron import Neuron
from ..ir.weights import PotWeights

__all__ = ["membrane_format_for", "pot_scale", "pot_round", "pot_fake_quantize", "LayerError",
           "Stage", "qcfs_to_network", "qcfs_mlp_to_network", "MIN_THRESHOLD"]

MIN_THRESHOLD = 256       # thresholds are scaled up to at least this, so rounding costs < 0.2 %


def membrane_format_for(values: np.ndarray, bias: np.ndarray | None, in_max: int,
                        timesteps: int, threshold=None, v_init=0) -> IntFormat:
    """A membrane format that never saturates: the worst-case current of every timestep, plus
    the threshold and initial value (used by conversion, import and quantization); a
    per-neuron threshold or v_init (an array) counts with its largest magnitude."""
    bias = np.zeros(values.shape[0], np.int64) if bias is None else np.asarray(bias)
    hi = np.where(values > 0, values, 0).sum(1) * in_max + np.maximum(bias, 0)
    lo = np.where(values < 0, values, 0).sum(1) * in_max + np.minimum(bias, 0)
    swing = timesteps * int(max(hi.max(), -lo.min(), 1)) + int(np.max(np.abs(v_init)))
    theta = 0 if threshold is None else int(np.max(threshold))
    return IntFormat(bits=signed_bits_for(-swing - 1, swing + theta))


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


@dataclass(frozen=True)
class Stage:
    """One step of a QCFS model: ``dense`` or ``conv2d`` (float `weights`, `bias`, and the λ
    of the QCFS activation after it, `clip`, None for the read-out), ``avgpool2d`` or
    ``maxpool2d`` (`kernel`, `stride`), or ``flatten``."""

    kind: str
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    clip: float | None = None
    kernel: tuple = (1, 1)
    stride: tuple = (1, 1)
    padding: tuple = (0, 0)


def qcfs_mlp_to_network(weights, biases, clips, *, input_bits: int, timesteps: int,
                        e_max: int = 7, name: str = "qcfs-mlp", spike_bits: int = 1,
                        input_scale: float | None = None,
                        encoding: str = "direct") -> tuple[Network, list]:
    """Convert a QCFS MLP (``weights[l]`` of shape (out, in), ``clips[l]`` = λ per hidden
    layer) into an IF network with PoT weights and an integrator read-out (`qcfs_to_network`
    of dense stages)."""
    stages = [Stage("dense", weights=w, bias=b, clip=clips[i] if i < len(weights) - 1 else None)
              for i, (w, b) in enumerate(zip(weights, biases))]
    return qcfs_to_network(stages, input_shape=(np.asarray(weights[0]).shape[1],),
                           input_bits=input_bits, timesteps=timesteps, e_max=e_max, name=name,
                           spike_bits=spike_bits, input_scale=input_scale, encoding=encoding)


def qcfs_to_network(stages, *, input_shape: tuple, input_bits: int, timesteps: int,
                    e_max: int = 7, name: str = "qcfs", spike_bits: int = 1,
                    input_scale: float | None = None,
                    encoding: str = "direct") -> tuple[Network, list]:
    """Convert the `Stage`s of a QCFS model (dense, conv2d, avgpool2d, maxpool2d, flatten;
    the last one a dense or conv2d read-out) into an IF network with PoT weights and an
    integrator read-out; `input_shape` is ``(size,)`` or ``(C, H, W)``.

    With ``spike_bits`` S > 1 (hybrid spikes), a spike of value s stands for s QCFS steps
    λ / L with L = 2**S - 1 levels, so that one timestep reproduces the quantized ANN; the
    thresholds λ / (L u) must then be powers of two, which training with
    ``QCFS(levels=L, pow2_step=True)`` and an input scale of ``2**-input_bits`` guarantees.
    `input_scale` is what one integer input unit stands for (default ``1 / (2**B - 1)``).
    The converted ANN sees the same input at every timestep, so ``input.encoding`` is
    `encoding`, ``"direct"`` unless the caller feeds other inputs (``"per_timestep"``).

    Returns the network and one `LayerError` per weighted layer.
    """
    levels = (1 << spike_bits) - 1
    r = input_scale if input_scale is not None else 1.0 / ((1 << input_bits) - 1)
    in_max = (1 << input_bits) - 1
    layers, errors = [], []
    weighted = [i for i, s in enumerate(stages) if s.kind in ("dense", "conv2d")]
    if not weighted or weighted[-1] != len(stages) - 1:
        raise ValueError("the model must end with a dense or conv2d read-out")
    for index, stage in enumerate(stages):
        if stage.kind == "flatten":
            layers.append(FlattenLayer())
            continue
        if stage.kind in ("avgpool2d", "maxpool2d"):
            pool = SumPool2dLayer if stage.kind == "avgpool2d" else MaxPool2dLayer
            layers.append(pool(kernel=stage.kernel, stride=stage.stride))
            if stage.kind == "avgpool2d":       # sums: k*k times the average, same unit / k*k
                window = stage.kernel[0] * stage.kernel[1]
                r, in_max = r / window, in_max * window
            continue
        last = index == len(stages) - 1
        b = stage.bias if stage.bias is not None else np.zeros(stage.weights.shape[0])
        w = np.asarray(stage.weights, np.float64)
        sigma = pot_scale(w, e_max)
        values = pot_round(w / sigma, e_max)
        unit = r * sigma
        boost = 0
        if not last:
            theta_exact = stage.clip / levels / unit
            boost = max(0, int(np.ceil(np.log2(MIN_THRESHOLD / theta_exact))))
        values = values << boost
        unit /= 1 << boost
        bias = np.rint(np.asarray(b, np.float64) / unit).astype(np.int64)
        rms = float(np.sqrt(np.mean((values * unit / r - w) ** 2)) /
                    max(np.sqrt(np.mean(w ** 2)), 1e-30))
        rows = values.reshape(values.shape[0], -1)   # a conv neuron's range: its filter's
        if last:
            v = membrane_format_for(rows, bias, in_max, timesteps)
            neuron = Neuron(model="integrator", v=v)
            theta_error = 0.0
        else:
            theta_exact = stage.clip / levels / unit
            theta = max(1, int(round(theta_exact)))
            theta_error = abs(theta - theta_exact) / theta_exact
            if spike_bits > 1 and (theta & (theta - 1) or theta_error > 1e-6):
                raise ValueError(f"layer {index}: with spike_bits={spike_bits} the threshold "
                                 f"λ / (L u) must be a power of two, not {theta_exact:g}; "
                                 f"train with QCFS(levels={levels}, pow2_step=True) and inputs "
                                 f"scaled by 2**-input_bits")
            v = membrane_format_for(rows, bias, in_max, timesteps, theta * levels, theta // 2)
            neuron = Neuron(model="if", threshold=theta, reset="subtract", v_init=theta // 2, v=v,
                            spike_bits=spike_bits)
        pot = PotWeights(e_min=boost, e_max=e_max + boost, values=values, ndim=values.ndim)
        kept_bias = bias if bias.any() else None
        if stage.kind == "conv2d":
            layers.append(Conv2dLayer(out_channels=w.shape[0], kernel=w.shape[2:],
                                      stride=stage.stride, padding=stage.padding, weights=pot,
                                      bias=kept_bias, neuron=neuron))
        else:
            layers.append(DenseLayer(size=w.shape[0], weights=pot, bias=kept_bias,
                                     neuron=neuron))
        errors.append(LayerError(scale=unit / r, weight_rms_error=rms,
                                 zeroed=float(np.mean((values == 0) & (w != 0))),
                                 threshold_error=theta_error))
        if not last:
            r, in_max = stage.clip / levels, levels
    shape = tuple(int(n) for n in input_shape)
    net = Network(name=name, timesteps=timesteps,
                  input=InputSpec(size=int(np.prod(shape)), bits=input_bits,
                                  shape=shape if len(shape) == 3 else None, encoding=encoding),
                  layers=tuple(layers), output=OutputSpec(mode="membrane"))
    return net, errors
