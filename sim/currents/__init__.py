"""Golden currents, one module per layer kind: ``CURRENTS[kind](layer, in_max)`` prepares the
layer once per run and returns ``current(s)``: the current of one timestep, (batch, size)
int64, from the layer's input values `s` (batch, in_size) of at most `in_max`. The neuron
update that follows is shared (`sim.golden`)."""

from .registry import CURRENTS

__all__ = ["CURRENTS"]

CURRENTS.discover(__name__, __path__)
