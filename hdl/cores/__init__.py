"""Layer cores, one module per layer kind: ``CORES[kind]`` is the core class.

Every core takes ``(layer, plan, *, timesteps, in_banks, in_depth, result, output_mode)``,
has the members ``i_spikes``, ``busy``, ``done`` and either ``o_spikes`` or, as the last
layer, ``o_result`` (see `DenseCore`), and `memory_images()` gives the initial contents of
its memories, which the generator writes as ``.hex`` files.
"""

from .registry import CORES

__all__ = ["CORES"]

CORES.discover(__name__, __path__)
