"""Random recurrent networks for the hardware tests: each holds at least one dense layer that
feeds its own spikes back (DESIGN.md §3.1), with random lanes and inputs."""

import numpy as np

from spikeshift import trace
from spikeshift.gen.ir.synthetic import random_inputs, random_network

__all__ = ["recurrent_case", "is_recurrent"]


def is_recurrent(layer) -> bool:
    return getattr(layer, "recurrent", None) is not None


def _feeds_back(net, x) -> bool:
    """Whether a recurrent layer feeds a non-zero spike into a timestep after the first."""
    return any(r is not None and np.count_nonzero(r[:, 1:]) for r in trace(net, x).fed_back)


def recurrent_case(seed: int, *, batch: int = 3, **options):
    """(net, x, lanes): a random network and `batch` samples (the first starting with an
    empty timestep) in which a recurrent layer feeds spikes back (drawn again until it
    does), and random lanes."""
    rng = np.random.default_rng(7000 + seed)
    while True:
        net = random_network(rng, recurrent=1.0, **options)
        x = random_inputs(rng, net, batch, activity=float(rng.uniform(0.2, 0.8)))
        x[0, 0] = 0
        if _feeds_back(net, x):
            break
    lanes = [int(rng.integers(1, layer.size + 1)) for layer in net.layers]
    return net, x, lanes
