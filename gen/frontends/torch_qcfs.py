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
from .convert import qcfs_mlp_to_network

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


def enable_pot_qat(model: nn.Module, e_max: int) -> nn.Module:
    """Make every Linear layer of `model` train through PoT-quantized weights."""
    for module in model.modules():
        if isinstance(module, nn.Linear) and not parametrize.is_parametrized(module, "weight"):
            parametrize.register_parametrization(module, "weight", PotWeight(e_max))
    return model


def disable_pot_qat(model: nn.Module) -> nn.Module:
    """Back to float weights (the trained float values are kept)."""
    for module in model.modules():
        if isinstance(module, nn.Linear) and parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
    return model


def _float_weight(linear: nn.Linear) -> np.ndarray:
    if parametrize.is_parametrized(linear, "weight"):
        return linear.parametrizations.weight.original.detach().cpu().numpy()
    return linear.weight.detach().cpu().numpy()


# What a QCFS checkpoint may hold. Loading allows these classes and torch's own tensors only
# (``weights_only=True``), so a checkpoint can never run code of its own.
CHECKPOINT_CLASSES = (nn.Sequential, nn.Linear, nn.Flatten, nn.Identity, nn.Dropout, QCFS)


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


def sequential_to_network(model: nn.Sequential, *, input_bits: int, timesteps: int,
                          e_max: int = 7, name: str = "qcfs", spike_bits: int = 1,
                          input_scale: float | None = None) -> tuple[Network, list]:
    """Convert ``[Flatten,] Linear, QCFS, Linear, QCFS, ..., Linear`` into IF layers with PoT
    weights, reset by subtraction, ``v_init = θ / 2``, and an integrator read-out.

    The model's input must be the integer input times `input_scale` (default
    ``1 / (2**input_bits - 1)``). ``spike_bits`` > 1 converts to multi-bit (hybrid) spikes:
    see `spikeshift.gen.frontends.convert.qcfs_mlp_to_network`.
    """
    modules = [m for m in model if not isinstance(m, (nn.Flatten, nn.Identity, nn.Dropout))]
    weights, biases, clips = [], [], []
    for index, module in enumerate(modules):
        expect_linear = index % 2 == 0
        if expect_linear and not isinstance(module, nn.Linear):
            raise TypeError(f"model[{index}] must be an nn.Linear, not {type(module).__name__}")
        if not expect_linear and not isinstance(module, QCFS):
            raise TypeError(f"model[{index}] must be a QCFS activation, not "
                            f"{type(module).__name__}")
        if expect_linear:
            weights.append(_float_weight(module))
            biases.append(np.zeros(module.out_features) if module.bias is None
                          else module.bias.detach().cpu().numpy())
        else:
            clips.append(float(module.effective_clip().detach()))
    if len(modules) % 2 == 0:
        raise TypeError("model must end with an nn.Linear read-out, not a QCFS activation")
    return qcfs_mlp_to_network(weights, biases, clips, input_bits=input_bits,
                               timesteps=timesteps, e_max=e_max, name=name,
                               spike_bits=spike_bits, input_scale=input_scale)
