"""Golden currents, one module per layer kind: ``CURRENTS[kind](layer, s, in_max)`` is the
current of one timestep, (batch, size) int64 from the layer's input values `s` (batch,
in_size) of at most `in_max`. The neuron update that follows is shared (`sim.golden`)."""

from .registry import CURRENTS

__all__ = ["CURRENTS"]

CURRENTS.discover(__name__, __path__)
