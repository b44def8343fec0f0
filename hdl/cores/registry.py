"""Kind name -> layer core class, filled by the modules of `spikeshift.hdl.cores`."""

from ...gen.ir.registry import Registry

__all__ = ["CORES", "core_for"]

CORES = Registry("hardware core")
core_for = CORES.register
