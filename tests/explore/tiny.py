"""A tiny exploration shared by the explore tests: a 12-16-4 float description, inputs and
the float network's own classes as labels, and its settings."""

import json

import numpy as np

from spikeshift.gen.explore.measure import Data
from spikeshift.gen.explore.search import Settings
from spikeshift.gen.explore.source import load_source
from spikeshift.gen.explore.space import Space
from spikeshift.gen.frontends.quantize import float_network_from_dict, simulate_float

from ..gen.test_quantize import float_description

SPACE = Space(timesteps=(2, 4, 8), weights=("pot3", "pot4", "int4"), spike_bits=None,
              lanes=((1, 4, 16), (1, 4)))


def write_tiny(folder, *, hidden: int = 16):
    """(float description path, inputs path, labels path) of the tiny source in `folder`."""
    rng = np.random.default_rng(0)
    description = float_description(rng)
    if hidden != 16:
        description["layers"][0]["size"] = hidden
        description["layers"][0]["weights"] = rng.normal(0, 0.3, (hidden, 12)).tolist()
        description["layers"][1]["weights"] = rng.normal(0, 0.5, (4, hidden)).tolist()
    x = rng.integers(0, 4, (40, 12))
    labels = simulate_float(float_network_from_dict(description), np.repeat(x[:, None], 8, 1))[1]
    paths = folder / "float.json", folder / "x.npy", folder / "y.npy"
    paths[0].write_text(json.dumps(description))
    np.save(paths[1], x)
    np.save(paths[2], labels)
    return paths


def tiny_settings(folder, *, hidden: int = 16, **changes) -> Settings:
    source, x, labels = write_tiny(folder, hidden=hidden)
    fields = {"source": load_source(source), "data": Data.of(np.load(x), np.load(labels)),
              "space": SPACE, "objectives": ("accuracy", "latency", "luts", "energy"),
              "board": "ulx3s", "seed": 3, "batch": 4}
    return Settings(**(fields | changes))


def summary(study) -> list:
    """What two studies must agree on: every trial's number, state, knobs and values."""
    return [(t.number, t.state.name, sorted(t.params.items()), t.values)
            for t in study.get_trials(deepcopy=False)]


def measure_or_die(source, candidate, data, board):
    """`measure_cheap`, but the first call anywhere kills its worker process (the file named
    by $SPIKESHIFT_TEST_DIE_ONCE marks that it happened)."""
    import os
    from pathlib import Path

    from spikeshift.gen.explore.measure import measure_cheap
    flag = Path(os.environ["SPIKESHIFT_TEST_DIE_ONCE"])
    try:
        flag.touch(exist_ok=False)
    except FileExistsError:
        return measure_cheap(source, candidate, data, board)
    os._exit(1)
