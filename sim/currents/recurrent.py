"""Golden current of a layer's own previous spikes (DESIGN.md §3.1 recurrence):
``sum_k r_k(t-1) * u_jk``, added to the layer's feed-forward current."""

from .products import exact_product

__all__ = ["recurrent_current"]


def recurrent_current(layer, in_max: int):
    """``r -> r @ u.T`` exactly, or None for a layer without recurrent weights."""
    recurrent = getattr(layer, "recurrent", None)
    if recurrent is None:
        return None
    return exact_product(recurrent.values.T, layer.current_range(in_max).magnitude)
