"""Pareto dominance over objectives with their directions: the front the results show and
the test that prunes a candidate before its expensive step."""

__all__ = ["dominates", "pareto_front"]


def _oriented(values, directions) -> tuple:
    """Values turned so that larger is better for every objective."""
    return tuple(v if d == "maximize" else -v for v, d in zip(values, directions))


def dominates(a, b, directions) -> bool:
    """Whether `a` is at least as good as `b` on every objective and better on one."""
    a, b = _oriented(a, directions), _oriented(b, directions)
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def pareto_front(points: list, directions) -> list[int]:
    """Indices of the points no other point dominates; of equal points only the first."""
    front = []
    for i, p in enumerate(points):
        if any(dominates(q, p, directions) for q in points):
            continue
        if any(tuple(points[j]) == tuple(p) for j in front):
            continue
        front.append(i)
    return front
