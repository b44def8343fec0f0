"""Kind name -> golden current function, filled by the modules of `spikeshift.sim.currents`."""

from ...gen.ir.registry import Registry

__all__ = ["CURRENTS", "current_of"]

CURRENTS = Registry("golden current")
current_of = CURRENTS.register
