"""Value checks shared by every IR class: each raises naming the field, the value and what is
allowed (``threshold must be an integer in [1, 2047], not 5000``)."""

import numpy as np

__all__ = ["check_int", "check_choice", "int_array", "index_text"]


def check_int(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """Return `value` if it is an integer within [lo, hi]; else raise naming `name`."""
    if isinstance(value, np.integer):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        lo_text = "-inf" if lo is None else str(lo)
        hi_text = "inf" if hi is None else str(hi)
        raise ValueError(f"{name} must be an integer in [{lo_text}, {hi_text}], not {value!r}")
    return value


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
    return value


INT64_MAX = (1 << 63) - 1


def int_array(name: str, value, ndim: int) -> np.ndarray:
    """A read-only int64 copy of `value`, which must be an integer array of `ndim` dimensions."""
    try:
        arr = np.array(value)
    except ValueError:
        raise ValueError(f"{name} must be a rectangular array of integers") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-dimensional array of integers, "
                         f"not one of shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "biuf":
        # Python ints beyond 64 bits, strings, None, nested objects; the elements as given
        # (NumPy turns [1, "a"] into two strings)
        given = np.array(value, dtype=object) if not isinstance(value, np.ndarray) else arr
        for at in np.ndindex(arr.shape):
            x = given[at]
            if not isinstance(x, (int, np.integer)) or isinstance(x, bool):
                raise TypeError(f"{name}{index_text(at)} must be an integer, not {x!r}")
        arr = arr.astype(object)
    if arr.size and arr.dtype.kind == "f":
        bad_index = np.argwhere(~np.isfinite(arr) | (arr != np.round(arr)))
        if bad_index.size:
            raise TypeError(f"{name}{index_text(bad_index[0])} must be an integer, "
                            f"not {arr[tuple(bad_index[0])].item()!r}")
    if arr.size and arr.dtype.kind in "fuO":
        hi = 2.0 ** 63 if arr.dtype.kind == "f" else INT64_MAX + 1
        big = np.argwhere((arr >= hi) | (arr < -INT64_MAX - 1))
        if big.size:
            value = arr[tuple(big[0])]
            raise ValueError(f"{name}{index_text(big[0])} is far out of range: "
                             f"{getattr(value, 'item', lambda: value)()!r}")
    arr = arr.astype(np.int64)
    arr.flags.writeable = False
    return arr


def index_text(idx) -> str:
    """``[1][0]`` for the index (1, 0)."""
    return "".join(f"[{int(i)}]" for i in idx)
