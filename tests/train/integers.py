"""Integer parameters for peer networks, so that their float simulation is exact."""

import numpy as np
import torch


def integer_parameters(module, rng, lo: int = -2, hi: int = 4):
    """Every weight (and snnTorch's recurrent ``V``) of `module` drawn from [lo, hi), every
    bias from {-1, 0, 1}; returns `module`."""
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("weight", "V", "bias"):
                span = (-1, 2) if leaf == "bias" else (lo, hi)
                parameter.copy_(torch.tensor(rng.integers(*span, parameter.shape),
                                             dtype=torch.float32))
    return module


def binary(rng, batch: int, timesteps: int, *shape) -> np.ndarray:
    """Random binary input spikes, (batch, timesteps, *shape)."""
    return (rng.random((batch, timesteps, *shape)) < 0.5).astype(np.int64)
