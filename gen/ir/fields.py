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
            name, key = value["npz"], value["key"]
            if not isinstance(name, str) or not isinstance(key, str):
                raise TypeError(f"{path} must be {{\"npz\": FILE, \"key\": NAME}} with two "
                                f"strings, not {value!r}")
            base = self._base.resolve()
            try:
                file = (base / name).resolve()
            except (ValueError, OSError):  # a NUL byte, a link loop
                raise ValueError(f"{path}.npz must name an .npz file, not {name!r}") from None
            # A description may only read files in its own folder or below it.
            if Path(name).is_absolute() or ".." in Path(name).parts or file == base:
                raise ValueError(f"{path}.npz must name an .npz file inside the description's "
                                 f"folder, not {name!r}")
            if not file.is_relative_to(base):
                raise ValueError(f"{path}.npz {name!r} is a link to {str(file)!r}, outside the "
                                 f"description's folder")
            if file not in self._files:
                if not file.is_file():
                    raise ValueError(f"{path} refers to {name!r}, which is not a file")
                try:
                    data = np.load(file, allow_pickle=False)
                    if not hasattr(data, "files"):
                        raise ValueError("a single .npy array")
                    with data:
                        self._files[file] = {k: data[k] for k in data.files}
                except (OSError, ValueError, EOFError) as error:
                    raise ValueError(f"{path} refers to {name!r}, which is not an .npz archive "
                                     f"of numeric arrays ({str(error).splitlines()[0]})") from None
            if key not in self._files[file]:
                raise ValueError(f"{path} refers to key {value['key']!r}, which "
                                 f"{value['npz']!r} does not hold")
            return self._files[file][value["key"]]
        return value

    def out(self, arr, key: str):
        if self._store is None:
            return np.asarray(arr).tolist()
        self._store[key] = np.asarray(arr)
        return {"npz": None, "key": key}
