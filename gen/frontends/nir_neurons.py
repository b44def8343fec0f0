"""NIR neuron nodes (IF, LIF, LI, I, Threshold) as discrete-time neurons of one framework.

NIR is continuous-time: ``LIF`` is ``τ dv/dt = (v_leak - v) + R I``, ``IF`` is
``dv/dt = R I``. Each framework discretises it its own way (`Conventions`); forward Euler with
step ``dt`` gives ``v' = β v + g I`` with ``β = 1 - dt/τ`` and gain ``g = dt R / τ`` for LIF,
β = 1 and ``g = dt R`` for IF and the integrator ``I``; ``LI`` is a LIF that never fires and a
``Threshold`` node a stateless neuron (``v = I`` every timestep). The gain is folded into the
weights before them, so it may differ per neuron; β may not.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .nir_conventions import Conventions, ImportError_

__all__ = ["NirNeuron", "NEURON_HANDLERS", "neuron_node", "BETA_TOLERANCE"]

#: β within this of 0 or 1 is taken as exactly 0 or 1: exporters compute τ in float32, so a
#: β of 0 arrives as -2.5e-08 and a β of 1 as 0.99999994.
BETA_TOLERANCE = 1e-6


@dataclass
class NirNeuron:
    """A neuron node as the framework simulates it: `kind` is ``"if"``, ``"lif"``,
    ``"integrator"`` or ``"threshold"``; `gain` (broadcastable to the node's neurons) is
    folded into the weights."""

    name: str
    kind: str
    beta: float | np.ndarray
    gain: np.ndarray
    threshold: np.ndarray | None
    v_reset: np.ndarray | None
    v_leak: np.ndarray | None = None
    alpha: float | np.ndarray | None = None        # a CubaLIF's synaptic decay


NEURON_HANDLERS: dict[str, Callable] = {}


def handles(*kinds: str):
    """Register a handler for NIR node classes (by class name)."""
    def register(fn):
        for kind in kinds:
            NEURON_HANDLERS[kind] = fn
        return fn
    return register


def neuron_node(name: str, node, conv: Conventions) -> NirNeuron:
    """The `NirNeuron` of a NIR neuron node (the caller checked the kind is handled)."""
    return NEURON_HANDLERS[type(node).__name__](name, node, conv)


def arr(node, name, default: float | None = None):
    """A node parameter as a float64 array of at least one dimension (`default` where the
    exporter left it out, as Norse does with v_reset)."""
    value = getattr(node, name, None)
    if value is None and default is not None:
        value = default
    return np.atleast_1d(np.asarray(value, dtype=np.float64))


def snap_decay(values) -> np.ndarray:
    """Decays snapped to 0, 1 and 1 - 2^-k within float32 noise (exports compute τ from them
    in float32)."""
    values = np.where(np.abs(values) < BETA_TOLERANCE, 0.0, values)
    values = np.where(np.abs(values - 1) < BETA_TOLERANCE, 1.0, values)
    dyadic = 1 - 2.0 ** np.round(np.log2(np.maximum(1 - values, 1e-300)))
    return np.where(np.abs(dyadic - values) < BETA_TOLERANCE * np.maximum(1 - values, 1e-300),
                    dyadic, values)


def _one_or_each(values: np.ndarray):
    return float(values.flat[0]) if np.all(values == values.flat[0]) else values


def _beta(name: str, tau: np.ndarray, conv: Conventions):
    """(β, gain per unit R) of the time constants `tau` under `conv`, β snapped to 0, 1 and
    1 - 2^-k within float32 noise (`snap_decay`), clamped to [0, 1] where the framework
    clamps it in its own simulation and refused if negative elsewhere; β is one float when
    every neuron has the same, else one per neuron."""
    beta, gain = conv.step(np.asarray(tau, np.float64))
    beta = snap_decay(beta)
    if conv.clamp_beta:
        beta = np.clip(beta, 0.0, 1.0)
    if np.any(beta < 0):
        bad = int(np.argmax(beta < 0))
        raise ImportError_(f"node {name!r} parameter tau: {float(tau.flat[bad]):g} gives beta "
                           f"= {float(beta.flat[bad]):g} at dt = {conv.dt:g} ({conv.tau_rule} "
                           f"rule), a negative decay (the membrane would flip sign each step); "
                           f"check --dt")
    return _one_or_each(beta), gain


def _leak_gain(name: str, tau: np.ndarray, r: np.ndarray, conv: Conventions):
    """(β, per-neuron gain) of a leaky membrane (LIF, LI, CubaLIF) from its τ and R."""
    infinite = np.isinf(tau)
    if infinite.any() and not infinite.all():
        raise ImportError_(f"node {name!r} parameter tau: mixes infinite and finite values")
    if infinite.all():
        if np.isinf(r).any():
            if conv.infinite_tau_gain is None:
                raise ImportError_(f"node {name!r} parameter r: tau = r = inf leaves the input "
                                   f"gain r*dt/tau undefined; use a preset that defines it")
            return 1.0, np.full(r.shape, conv.infinite_tau_gain)
        raise ImportError_(f"node {name!r} parameter tau: tau = inf with finite r gives "
                           f"no input (gain r*dt/tau = 0)")
    beta, gain = _beta(name, tau, conv)
    return beta, gain * r


@handles("IF")
def _if(name, node, conv):
    gain = arr(node, "r") * (conv.dt if conv.if_gain_uses_dt else 1.0)
    return NirNeuron(name, "if", 1.0, gain, arr(node, "v_threshold"), arr(node, "v_reset", 0))


@handles("LIF")
def _lif(name, node, conv):
    beta, gain = _leak_gain(name, arr(node, "tau"), arr(node, "r"), conv)
    return NirNeuron(name, "if" if np.all(beta == 1) else "lif", beta, gain,
                     arr(node, "v_threshold"),
                     arr(node, "v_reset", 0), arr(node, "v_leak", 0))


@handles("CubaLIF")
def _cuba_lif(name, node, conv):
    """A LIF behind a synaptic current: I' = α I + g_s w_in x, v' = β v + g_m R I', the product
    of the two gains folded into the weights (both are linear)."""
    tau_syn = arr(node, "tau_syn")
    if np.any(~np.isfinite(tau_syn)) or np.any(tau_syn <= 0):
        raise ImportError_(f"node {name!r} parameter tau_syn: {np.unique(tau_syn)[:4].tolist()}; "
                           f"a synaptic time constant must be a positive number")
    alpha, syn_gain = conv.synapse_step(tau_syn)
    alpha = snap_decay(np.clip(alpha, 0.0, 1.0) if conv.clamp_beta else alpha)
    if np.any(alpha < 0):
        raise ImportError_(f"node {name!r} parameter tau_syn: gives a negative decay "
                           f"{float(alpha.min()):g} at dt = {conv.dt:g}; check --dt")
    beta, gain = _leak_gain(name, arr(node, "tau_mem"), arr(node, "r"), conv)
    return NirNeuron(name, "if" if np.all(beta == 1) else "lif", beta,
                     gain * syn_gain * arr(node, "w_in", 1.0), arr(node, "v_threshold"),
                     arr(node, "v_reset", 0), arr(node, "v_leak", 0), _one_or_each(alpha))


@handles("LI")
def _li(name, node, conv):
    beta, gain = _leak_gain(name, arr(node, "tau"), arr(node, "r"), conv)
    return NirNeuron(name, "integrator", beta, gain, None, None, arr(node, "v_leak", 0))


@handles("I", "Integrator")
def _integrator(name, node, conv):
    gain = arr(node, "r") * (conv.dt if conv.if_gain_uses_dt else 1.0)
    return NirNeuron(name, "integrator", 1.0, gain, None, None)


@handles("Threshold")
def _threshold(name, node, conv):
    theta = arr(node, "threshold")
    return NirNeuron(name, "threshold", 0.0, np.ones_like(theta), theta, None)
