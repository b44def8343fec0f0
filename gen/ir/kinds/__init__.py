"""Layer kinds, one module each: `KINDS` maps ``"dense"`` to `DenseLayer`, and so on.

A kind's module holds its IR class (a frozen `Layer` that validates itself), its description
codec, its worst-case current and its plan (a `LayerPlan`: lanes, memory geometry, cycle
formula, resources, report row). See docs/ARCHITECTURE.md for the files a new kind adds.
"""

from ..layer import KINDS

__all__ = ["KINDS"]

KINDS.discover(__name__, __path__)
