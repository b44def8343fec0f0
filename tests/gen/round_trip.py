"""The description round trip every kind's tests share: JSON text equal, predictions equal."""

import json

import numpy as np

from spikeshift import Network, predict
from spikeshift.gen.ir.network import network_to_dict


def assert_round_trips(net, x, folder, name: str) -> list:
    """Save `net` inline and through npz into `folder`, load it back: the same description
    (as JSON text, so that an int read back as a float or a list as a scalar shows) and the
    same outputs and classes on `x`. Returns the loaded networks."""
    want = json.dumps(network_to_dict(net), sort_keys=True)
    loaded_all = []
    for arrays in ("inline", "npz"):
        path = folder / f"{name}_{arrays}.json"
        net.save(path, arrays=arrays)
        loaded = Network.load(path)
        assert json.dumps(network_to_dict(loaded), sort_keys=True) == want, (name, arrays)
        for a, b in zip(predict(loaded, x), predict(net, x), strict=True):
            np.testing.assert_array_equal(a, b)
        loaded_all.append(loaded)
    return loaded_all
