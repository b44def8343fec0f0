"""Figures of what the golden model computed, saved as PNG (needs matplotlib: the ``plot``
or ``train`` extra; imported only when a figure is drawn)."""

from pathlib import Path

import numpy as np

from ..gen.ir.network import Network
from ..gen.ir.neuron import value_text
from ..gen.ir.weights import PotWeights
from .golden import Trace

__all__ = ["spike_raster", "membrane_traces", "value_maps", "weight_histograms",
           "accuracy_vs_timesteps", "MAX_MAP_CHANNELS", "MAX_MAP_STEPS"]

#: Channels and timesteps drawn per map figure; the title says what was left out.
MAX_MAP_CHANNELS = 8
MAX_MAP_STEPS = 16


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def spike_raster(trace: Trace, path, *, sample: int = 0, title: str = "") -> Path:
    """One panel per layer: neuron against timestep, dot size by spike value; a layer that
    never fires (an integrator read-out) is shown as a membrane heat map instead."""
    plt = _pyplot()
    n = len(trace.spikes)
    fig, axes = plt.subplots(n, 1, figsize=(7, 1.8 + 1.6 * n), squeeze=False, sharex=True)
    for index, (ax, spikes) in enumerate(zip(axes[:, 0], trace.spikes)):
        s = spikes[sample]
        if not s.any() and trace.membranes:
            v = trace.membranes[index][sample]
            image = ax.imshow(v.T, aspect="auto", origin="lower", cmap="viridis",
                              extent=(-0.5, v.shape[0] - 0.5, -0.5, v.shape[1] - 0.5))
            fig.colorbar(image, ax=ax, label="v")
            ax.set_ylabel(f"layer {index}\nneuron")
            ax.set_title(f"layer {index}: no spikes; membrane after each timestep", fontsize=9)
            continue
        t, j = np.nonzero(s)
        ax.scatter(t, j, s=6 + 10 * s[t, j], marker="|" if s.max() <= 1 else "o", c="k")
        ax.set_ylabel(f"layer {index}\nneuron")
        ax.set_ylim(-0.5, s.shape[1] - 0.5)
        ax.set_title(f"layer {index}: {int(s.sum())} spike units", fontsize=9)
    axes[-1, 0].set_xlabel("timestep")
    axes[-1, 0].set_xlim(-0.5, trace.spikes[0].shape[1] - 0.5)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def membrane_traces(net: Network, trace: Trace, path, *, layer: int = 0, neurons=range(4),
                    sample: int = 0, title: str = "") -> Path:
    """Membrane after each timestep for chosen neurons, with the threshold."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    v = trace.membranes[layer][sample]
    for j in neurons:
        if j < v.shape[1]:
            ax.step(np.arange(v.shape[0]), v[:, j], where="post", label=f"neuron {j}")
    theta = net.layers[layer].neuron.threshold
    if isinstance(theta, np.ndarray):              # one per neuron: each drawn neuron's own
        for j in neurons:
            if j < v.shape[1]:
                ax.axhline(theta[j], color=f"C{list(neurons).index(j)}", linestyle="--",
                           linewidth=1, label=f"θ of neuron {j}")
    elif theta is not None:
        ax.axhline(theta, color="k", linestyle="--", linewidth=1, label="threshold θ")
    ax.set_xlabel("timestep")
    ax.set_ylabel("membrane v (after reset)")
    ax.set_title(title or f"layer {layer}, sample {sample}")
    ax.legend(fontsize=7, ncol=3)
    return _save(fig, path)


def value_maps(values: np.ndarray, shape: tuple, path, *, what: str, title: str,
               threshold=None) -> Path:
    """A ``(C, H, W)`` map per timestep: one row per channel (the first `MAX_MAP_CHANNELS`),
    one column per timestep (the first `MAX_MAP_STEPS`), `values` of shape (T, C*H*W) in
    PyTorch order. Spike values use
    a grey scale from 0; membranes a diverging one centred on 0, with θ named in the title."""
    plt = _pyplot()
    maps = values.reshape(values.shape[0], *shape)
    steps = min(maps.shape[0], MAX_MAP_STEPS)
    channels = min(shape[0], MAX_MAP_CHANNELS)
    fig, axes = plt.subplots(channels, steps, squeeze=False,
                             figsize=(0.9 + 1.1 * steps, 0.5 + 1.1 * channels))
    signed = maps.min() < 0
    hi = max(1, int(np.abs(maps).max()))
    style = dict(cmap="coolwarm", vmin=-hi, vmax=hi) if signed else \
        dict(cmap="Greys", vmin=0, vmax=hi)
    for c in range(channels):
        for t in range(steps):
            ax = axes[c, t]
            image = ax.imshow(maps[t, c], interpolation="nearest", **style)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_title(f"t={t}", fontsize=8)
            if t == 0:
                ax.set_ylabel(f"ch {c}", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.6, label=what)
    more = f"; channels {channels}-{shape[0] - 1} not shown" if channels < shape[0] else ""
    if steps < maps.shape[0]:
        more += f"; timesteps {steps}-{maps.shape[0] - 1} not shown"
    theta = f"; θ = {value_text(threshold)}" if threshold is not None else ""
    fig.suptitle(f"{title}: {what}, {shape[0]} x {shape[1]} x {shape[2]}{theta}{more}",
                 fontsize=9)
    return _save(fig, path)


def weight_histograms(net: Network, path) -> Path:
    """Per layer with weights: how they use the representable range (PoT exponents or int
    values); pooling and flatten have none."""
    plt = _pyplot()
    weighted = [(i, layer) for i, layer in enumerate(net.layers)
                if getattr(layer, "weights", None) is not None]
    n = len(weighted)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3), squeeze=False)
    for ax, (index, layer) in zip(axes[0], weighted):
        w = layer.weights
        values = w.values.ravel()
        if isinstance(w, PotWeights):
            # code axis: 0 for a zero weight, ±(e + 1) for ±2**e
            codes = np.where(values == 0, 0, np.sign(values) *
                             (np.log2(np.maximum(np.abs(values), 1)).round() + 1))
            bins = np.arange(-w.e_max - 1.5, w.e_max + 2.5)
            ax.hist(codes, bins=bins, color="tab:blue")
            ax.axvspan(w.e_min + 0.5, w.e_max + 1.5, alpha=0.1, color="g")
            ax.axvspan(-w.e_max - 1.5, -w.e_min - 0.5, alpha=0.1, color="g")
            ax.set_xlabel("0: zero, ±(e+1): ±2^e  (shaded: e_min..e_max)")
            ax.set_title(f"layer {index}: PoT, {np.mean(values == 0):.0%} zero", fontsize=9)
        else:
            ax.hist(values, bins=min(64, 1 << w.bits), color="tab:orange")
            ax.axvline(-(1 << (w.bits - 1)), color="g")
            ax.axvline((1 << (w.bits - 1)) - 1, color="g")
            ax.set_xlabel(f"int{w.bits} value")
            ax.set_title(f"layer {index}: int{w.bits}", fontsize=9)
    return _save(fig, path)


def accuracy_vs_timesteps(accuracy: dict, path, *, reference: float | None = None) -> Path:
    """Golden SNN accuracy against T, with the ANN's as a reference line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ts = sorted(accuracy)
    ax.plot(ts, [100 * accuracy[t] for t in ts], "o-", label="SNN (golden model)")
    if reference is not None:
        ax.axhline(100 * reference, color="k", linestyle="--", label="quantized ANN")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ts, [str(t) for t in ts])
    ax.set_xlabel("timesteps T")
    ax.set_ylabel("accuracy (%)")
    ax.legend()
    return _save(fig, path)
