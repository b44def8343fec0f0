"""Golden currents, one module per layer kind: ``CURRENTS[kind](layer, in_max, in_shape)``
prepares the layer once per run and returns ``current(s)``: the current of one timestep,
(batch, size) int64, from the layer's input values `s` (batch, in_size) of at most `in_max`,
flat in PyTorch order of `in_shape` (``(in_size,)`` or ``(C, H, W)``). The neuron update that
follows is shared (`sim.golden`); a kind without a neuron returns its output values."""

from .registry import CURRENTS

__all__ = ["CURRENTS"]

CURRENTS.discover(__name__, __path__)
