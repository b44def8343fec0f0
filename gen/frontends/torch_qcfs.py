"""PyTorch training for conversion: the QCFS activation, PoT quantization-aware training, and
the converter from a trained ``nn.Sequential`` to the network description.

Needs the ``train`` extra (torch); nothing in the core imports this module. The converter uses
`spikeshift.gen.frontends.convert`, so the integers it writes are exactly the PoT weights that
quantization-aware training used in its forward pass.
"""

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from ..ir.network import Network
from .convert import Stage, qcfs_to_network

__all__ = ["QCFS", "PotWeight", "enable_pot_qat", "disable_pot_qat", "sequential_to_network",
           "load_checkpoint", "CHECKPOINT_CLASSES"]


class QCFS(nn.Module):
    """Quantization-clip-floor-shift: ``λ * clip(floor(x L / λ + 1/2) / L, 0, 1)``.

    The floor passes gradients straight through. λ (`clip`) learns as in QCFS/LSQ: each
    clipped activation contributes 1 and each unclipped one its quantization error
    ``floor(q) - q`` (q = x / λ on L levels).
    """

    def __init__(self, levels: int = 8, clip: float = 4.0, *, pow2_step: bool = False):
        super().__init__()
        if not isinstance(levels, int) or levels < 1:
            raise ValueError(f"levels must be a positive integer, not {levels!r}")
        self.levels = levels
        self.pow2_step = pow2_step
        self.clip = nn.Parameter(torch.tensor(float(clip)))

    def effective_clip(self):
        """λ, or with `pow2_step` the nearest L * 2**k (straight-through), which makes every
        threshold of a multi-bit-spike conversion a power of two."""
        if not self.pow2_step:
            return self.clip
        step = self.clip / self.levels
        rounded = 2.0 ** torch.round(torch.log2(step.detach().clamp_min(1e-12)))
        return self.levels * (step + (rounded - step).detach())

    def forward(self, x):
        clip = self.effective_clip()
        q = torch.clamp(x / clip, 0, 1)
        floored = torch.floor(q * self.levels + 0.5) / self.levels
        return clip * (q + (floored - q).detach())

    def extra_repr(self) -> str:
        return f"levels={self.levels}, pow2_step={self.pow2_step}"


def _pot_round(u, e_max: int):
    mag = u.abs()
    e = torch.floor(torch.log2(mag.clamp_min(1e-30)))
    e = torch.where(mag >= 1.5 * 2.0 ** e, e + 1, e).clamp(0, e_max)
    return torch.where(mag < 0.5, torch.zeros_like(u), torch.sign(u) * 2.0 ** e)


class PotWeight(nn.Module):
    """Parametrization: the weight as σ PoT(w / σ), gradients passed straight through."""

    def __init__(self, e_max: int):
        super().__init__()
        self.e_max = e_max

    def forward(self, w):
        peak = w.detach().abs().max().clamp_min(1e-30)
        sigma = 2.0 ** torch.ceil(torch.log2(peak / 2 ** self.e_max))
        return w + (_pot_round(w / sigma, self.e_max) * sigma - w).detach()


WEIGHTED = (nn.Linear, nn.Conv2d)


def enable_pot_qat(model: nn.Module, e_max: int) -> nn.Module:
    """Make every Linear and Conv2d layer of `model` train through PoT-quantized weights."""
    for module in model.modules():
        if isinstance(module, WEIGHTED) and not parametrize.is_parametrized(module, "weight"):
            parametrize.register_parametrization(module, "weight", PotWeight(e_max))
    return model


def disable_pot_qat(model: nn.Module) -> nn.Module:
    """Back to float weights (the trained float values are kept)."""
    for module in model.modules():
        if isinstance(module, WEIGHTED) and parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
    return model


def _float_weight(linear: nn.Module) -> np.ndarray:
    if parametrize.is_parametrized(linear, "weight"):
        return linear.parametrizations.weight.original.detach().cpu().numpy()
    return linear.weight.detach().cpu().numpy()


# What a QCFS checkpoint may hold. Loading allows these classes and torch's own tensors only
# (``weights_only=True``), so a checkpoint can never run code of its own.
CHECKPOINT_CLASSES = (nn.Sequential, nn.Linear, nn.Conv2d, nn.AvgPool2d, nn.MaxPool2d,
                      nn.Flatten, nn.Unflatten, nn.Identity, nn.Dropout, QCFS)


def load_checkpoint(path) -> nn.Sequential:
    """The ``nn.Sequential`` saved in `path` (``torch.save(model, path)``), never unpickling
    anything outside `CHECKPOINT_CLASSES`."""
    import pickle
    import warnings
    import zipfile

    from torch import serialization
    allowed = {f"{c.__module__}.{c.__qualname__}" for c in CHECKPOINT_CLASSES}
    names = ", ".join(c.__name__ for c in CHECKPOINT_CLASSES)
    refusal = (f"which spikeshift does not load: unpickling it could run any code. A QCFS "
               f"checkpoint holds only {names} and tensors; remove PoT parametrizations "
               f"(disable_pot_qat) before torch.save")
    try:
        unsafe = [name for name in serialization.get_unsafe_globals_in_checkpoint(path)
                  if name not in allowed]
    except (RuntimeError, ValueError, OSError, pickle.UnpicklingError, zipfile.BadZipFile,
            EOFError):
        unsafe = None  # not a zip checkpoint (legacy format?): torch.load below decides
    if unsafe:
        raise ValueError(f"SOURCE {str(path)!r} needs {', '.join(unsafe)}, {refusal}")
    try:
        with serialization.safe_globals(list(CHECKPOINT_CLASSES)), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's pickle-protocol notes
            model = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as error:
        if unsafe is None and "persistent_load" in str(error):
            raise ValueError(f"SOURCE {str(path)!r} is in the legacy (non-zip) format, which "
                             f"cannot be read without running its pickle; save it again with "
                             f"torch.save(model, path) (zip format)") from None
        if unsafe is None and "global" in str(error).lower():
            raise ValueError(f"SOURCE {str(path)!r} needs a class outside the QCFS model's, "
                             f"{refusal}") from None
        raise ValueError(f"SOURCE {str(path)!r} is not a PyTorch checkpoint "
                         f"(torch.save of a model)") from None
    except (RuntimeError, ValueError, OSError, EOFError, AttributeError, TypeError):
        raise ValueError(f"SOURCE {str(path)!r} is not a PyTorch checkpoint "
                         f"(torch.save of a model)") from None
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"SOURCE {str(path)!r} holds a {type(model).__name__}, not the "
                         f"nn.Sequential of a QCFS model (torch.save(model, path))")
    return model


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value), int(value))


def _refuse(index: int, module, what: str, value, allowed: str):
    raise TypeError(f"model[{index}] ({type(module).__name__}) {what} must be {allowed} to "
                    f"convert, not {value!r}")


def _pool_stage(index: int, module) -> Stage:
    """avgpool2d / maxpool2d without padding, dilation or ceil mode (the kinds' arithmetic)."""
    if _pair(module.padding) != (0, 0):
        _refuse(index, module, "padding", module.padding, "0")
    if module.ceil_mode:
        _refuse(index, module, "ceil_mode", True, "False")
    if isinstance(module, nn.AvgPool2d) and module.divisor_override is not None:
        _refuse(index, module, "divisor_override", module.divisor_override, "None")
    if isinstance(module, nn.MaxPool2d) and _pair(module.dilation) != (1, 1):
        _refuse(index, module, "dilation", module.dilation, "1")
    kernel = _pair(module.kernel_size)
    stride = kernel if module.stride is None else _pair(module.stride)
    kind = "avgpool2d" if isinstance(module, nn.AvgPool2d) else "maxpool2d"
    return Stage(kind, kernel=kernel, stride=stride)


def _weighted_stage(index: int, module) -> Stage:
    w = _float_weight(module)
    bias = None if module.bias is None else module.bias.detach().cpu().numpy()
    if isinstance(module, nn.Linear):
        return Stage("dense", weights=w, bias=bias)
    if isinstance(module.padding, str):
        _refuse(index, module, "padding", module.padding, "integers")
    for what, value in (("dilation", module.dilation), ("groups", module.groups),
                        ("padding_mode", module.padding_mode)):
        if value not in ((1, 1), 1, "zeros"):
            _refuse(index, module, what, value, "'zeros'" if what == "padding_mode" else "1")
    return Stage("conv2d", weights=w, bias=bias, stride=_pair(module.stride),
                 padding=_pair(module.padding))


def model_stages(model: nn.Sequential) -> list[Stage]:
    """The `Stage`s of ``Linear|Conv2d, QCFS, [AvgPool2d|MaxPool2d, ...] ... Linear|Conv2d``
    with Flatten where the model flattens (Identity and Dropout skipped); TypeError naming the
    module otherwise."""
    stages = []
    for index, module in enumerate(model):
        if isinstance(module, (nn.Identity, nn.Dropout)):
            continue
        if isinstance(module, nn.Unflatten) and not stages:
            continue          # flat inputs as a (C, H, W) map: the same values and order
        previous = stages[-1].kind if stages else None
        if isinstance(module, WEIGHTED):
            if previous in ("dense", "conv2d") and stages[-1].clip is None:
                raise TypeError(f"model[{index}] ({type(module).__name__}) follows a layer "
                                f"without a QCFS activation between them")
            stages.append(_weighted_stage(index, module))
        elif isinstance(module, QCFS):
            if previous not in ("dense", "conv2d") or stages[-1].clip is not None:
                raise TypeError(f"model[{index}] (QCFS) must follow an nn.Linear or nn.Conv2d")
            stages[-1] = Stage(**{**stages[-1].__dict__,
                                  "clip": float(module.effective_clip().detach())})
        elif isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
            if previous in ("dense", "conv2d") and stages[-1].clip is None:
                raise TypeError(f"model[{index}] ({type(module).__name__}) must follow a QCFS "
                                f"activation (or the input): pooling pre-activations has no "
                                f"spiking form")
            stages.append(_pool_stage(index, module))
        elif isinstance(module, nn.Flatten):
            if stages and previous != "flatten" and stages[-1].kind != "dense":
                stages.append(Stage("flatten"))
        else:
            raise TypeError(f"model[{index}] ({type(module).__name__}) cannot be converted: a "
                            f"QCFS model holds only Linear, Conv2d, QCFS, AvgPool2d, "
                            f"MaxPool2d, Flatten, Identity and Dropout (and a first "
                            f"Unflatten)")
    if not stages or stages[-1].kind not in ("dense", "conv2d") or stages[-1].clip is not None:
        raise TypeError("model must end with an nn.Linear (or nn.Conv2d) read-out, not a QCFS "
                        "activation or a pooling")
    return stages


def sequential_to_network(model: nn.Sequential, *, input_bits: int, timesteps: int,
                          e_max: int = 7, name: str = "qcfs", spike_bits: int = 1,
                          input_scale: float | None = None,
                          input_shape: tuple | None = None,
                          encoding: str = "direct") -> tuple[Network, list]:
    """Convert ``[Flatten,] Linear, QCFS, Linear, QCFS, ..., Linear`` -- or a CNN of Conv2d,
    QCFS, AvgPool2d/MaxPool2d, Flatten and Linear, given `input_shape` ``(C, H, W)`` (default:
    the map of a first ``nn.Unflatten``) -- into IF
    layers with PoT weights, reset by subtraction, ``v_init = θ / 2``, and an integrator
    read-out.

    The model's input must be the integer input times `input_scale` (default
    ``1 / (2**input_bits - 1)``), the same at every timestep (``input.encoding`` `encoding`,
    default ``"direct"``). ``spike_bits`` > 1 converts to multi-bit (hybrid) spikes:
    see `spikeshift.gen.frontends.convert.qcfs_to_network`.
    """
    stages = model_stages(model)
    first = next((m for m in model if not isinstance(m, (nn.Identity, nn.Dropout))), None)
    if input_shape is None and isinstance(first, nn.Unflatten):
        input_shape = tuple(first.unflattened_size)    # flat inputs seen as this map
    if any(s.kind != "dense" for s in stages):
        if input_shape is None or len(input_shape) != 3:
            raise ValueError(f"input_shape (--input-shape C,H,W) must be given for a model "
                             f"with Conv2d or pooling, as three integers, not {input_shape!r}")
        if stages[0].kind == "dense":
            raise TypeError("model[0] is an nn.Linear on a map input: flatten first")
    else:
        input_shape = (stages[0].weights.shape[1],)
    return qcfs_to_network(stages, input_shape=tuple(input_shape), input_bits=input_bits,
                           timesteps=timesteps, e_max=e_max, name=name,
                           spike_bits=spike_bits, input_scale=input_scale, encoding=encoding)
