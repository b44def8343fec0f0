"""Helpers of every description codec: the only place where dicts meet IR classes.

A codec checks an object's fields with `fields`, resolves array references with `Arrays` and
builds the IR class with `build`, which prefixes any validation message with the object's
field path (``layers[1].neuron.``).
"""

from pathlib import Path

import numpy as np

from .checks import check_choice

__all__ = ["build", "join", "fields", "choice_at", "Arrays"]


def build(path: str, cls, **kwargs):
    """Construct `cls`, prefixing any validation message with the object's field path."""
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{path}.{error}" if path else str(error)) from None


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def fields(obj, path: str, *, required: tuple = (), optional: tuple = ()) -> dict:
    """`obj` if it is an object holding every `required` field and nothing unknown."""
    if not isinstance(obj, dict):
        raise TypeError(f"{path or 'the description'} must be an object, not {obj!r}")
    unknown = [key for key in obj if key not in required and key not in optional]
    if unknown:
        allowed = ", ".join(repr(k) for k in required + optional)
        raise ValueError(f"{join(path, unknown[0])} is not a known field; allowed: {allowed}")
    missing = [key for key in required if key not in obj]
    if missing:
        raise ValueError(f"{join(path, missing[0])} is required")
    return obj


def choice_at(path: str, value, choices) -> str:
    """`check_choice` with the message naming the field path."""
    try:
        return check_choice("x", value, tuple(choices))
    except ValueError as error:
        raise ValueError(path + str(error)[1:]) from None


class Arrays:
    """Resolves ``{"npz": ..., "key": ...}`` references relative to the description.

    `out` collects arrays for writing: with a store, `out` puts the array there and returns a
    reference; without one, it returns the array as nested lists.
    """

    def __init__(self, base: Path | None = None, store: dict | None = None):
        self._base = base
        self._files: dict[Path, dict] = {}
        self._store = store

    def __call__(self, value, path: str):
        if isinstance(value, dict) and set(value) == {"npz", "key"}:
            if self._base is None:
                raise ValueError(f"{path} refers to {value['npz']!r}, but the description was "
                                 f"not loaded from a file")
            file = (self._base / value["npz"]).resolve()
            if file not in self._files:
                if not file.exists():
                    raise ValueError(f"{path} refers to {value['npz']!r}, which does not exist")
                with np.load(file) as data:
                    self._files[file] = {k: data[k] for k in data.files}
            if value["key"] not in self._files[file]:
                raise ValueError(f"{path} refers to key {value['key']!r}, which "
                                 f"{value['npz']!r} does not hold")
            return self._files[file][value["key"]]
        return value

    def out(self, arr, key: str):
        if self._store is None:
            return np.asarray(arr).tolist()
        self._store[key] = np.asarray(arr)
        return {"npz": None, "key": key}
