"""The planned design: a network with every width and the schedule of every core, made once.

The hardware (hdl) builds its signals from these formats, the golden and cycle models (sim),
the report, the flows and verification read the same ones, so a width or a cycle count is
never computed twice. Each layer's plan comes from its kind (`Layer.plan`).
"""

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .formats import IntFormat, signed_bits_for
from .lanes import balanced_lanes
from .layer import MAX_ACCUMULATOR_BITS
from .network import Network, network_to_dict

__all__ = ["Design", "plan", "LANES_HELP", "MAX_LUTS_HELP"]

LANES_HELP = ("parallel lanes: one integer for every layer, or one per layer (16,10); a value "
              "above what a layer can use (its neurons, at most 256) is reduced to that; "
              "default: balanced for streamed throughput (--max-luts)")
MAX_LUTS_HELP = ("without --lanes, the LUT estimate the balanced lanes may take (default: "
                 "that of 16 lanes per layer, or a board's share of its device)")


@dataclass(frozen=True, kw_only=True, eq=False)
class Design:
    """A network and its plan, travelling together.

    Members
    -------
    network : the validated network
    layers : one `LayerPlan` per layer (its kind's subclass)
    result : format of the result values (spike counts or final membranes)
    """

    network: Network
    layers: tuple
    result: IntFormat

    @property
    def lanes(self) -> tuple[int, ...]:
        return tuple(layer.lanes for layer in self.layers)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the whole description and the lanes: equal exactly when two designs are
        the same hardware, whatever files or folders they were loaded from."""
        content = {"network": network_to_dict(self.network), "lanes": list(self.lanes)}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def pairs(self):
        """(layer, plan) for every layer, in order."""
        return zip(self.network.layers, self.layers)


def _lanes_per_layer(net: Network, lanes, max_luts, inputs) -> list[int]:
    if lanes is None:
        lanes = balanced_lanes(net, max_luts=max_luts, inputs=inputs)
    if isinstance(lanes, (int, np.integer)) and not isinstance(lanes, bool):
        lanes = [int(lanes)] * len(net.layers)
    elif isinstance(lanes, (list, tuple, np.ndarray)):
        lanes = list(lanes)
        if len(lanes) != len(net.layers):
            raise ValueError(f"lanes must give one value per layer ({len(net.layers)}), "
                             f"not {len(lanes)}")
    else:
        raise TypeError(f"lanes must be None, a positive integer or one per layer, "
                        f"not {lanes!r}")
    out = []
    for index, p in enumerate(lanes):
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool) and p >= 1:
            p = min(int(p), net.max_lanes(index))
        else:
            raise ValueError(f"lanes[{index}] must be a positive integer, not {p!r}")
        out.append(p)
    return out


def plan(net: Network, lanes=None, *, max_luts: int | None = None, inputs=None) -> Design:
    """Plan `net`: `lanes` is one int for every layer, or one per layer; a value above what a
    layer can use (`Layer.max_lanes`, or for the last layer `Layer.max_result_lanes`) is
    reduced to that. None balances the cores for streamed throughput within `max_luts`
    (`balanced_lanes`: by default the area of each kind's default lanes), on the activity of
    `inputs` (per layer the values it receives) or the worst case. A network holding a layer
    that no hardware core takes (`Layer.core_refusal`) is refused: only the golden model runs
    it."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, not {net!r}")
    for index, layer in enumerate(net.layers):
        if why := layer.core_refusal():
            raise ValueError(f"layers[{index}] ({layer.kind}) {why}; "
                             f"spikeshift predict runs it in the golden model")
    layers = []
    for index, p in enumerate(_lanes_per_layer(net, lanes, max_luts, inputs)):
        lp = net.layer_plan(index, p)
        if lp.accumulator.bits > MAX_ACCUMULATOR_BITS:
            raise ValueError(f"layers[{index}] needs a {lp.accumulator.bits}-bit accumulator, "
                             f"more than the {MAX_ACCUMULATOR_BITS} bits allowed")
        layers.append(lp)
    last = net.layers[-1]
    if net.output.mode == "spike_count":
        result = IntFormat(bits=signed_bits_for(0, net.timesteps * last.neuron.spike_max))
    else:
        result = last.neuron.v
    return Design(network=net, layers=tuple(layers), result=result)
