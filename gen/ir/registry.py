"""Registries keyed by layer kind, filled by discovering the modules of a package.

The IR (`spikeshift.gen.ir.kinds`), the hardware (`spikeshift.hdl.cores`) and the golden model
(`spikeshift.sim.currents`) each hold one module per kind; importing the package imports them
all, and each registers itself. A new kind is a new module in each, nothing else.
"""

import importlib
import pkgutil

__all__ = ["Registry"]


class Registry:
    """Kind name -> entry. `register(kind)` is the decorator each module applies."""

    def __init__(self, what: str):
        self._what = what
        self._entries: dict[str, object] = {}

    def register(self, kind: str):
        def add(entry):
            if kind in self._entries:
                raise ValueError(f"{self._what} for kind {kind!r} is registered twice")
            self._entries[kind] = entry
            return entry
        return add

    def discover(self, package: str, path) -> None:
        """Import every module of `package` (its ``__path__`` is `path`)."""
        for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
            importlib.import_module(f"{package}.{info.name}")

    def __getitem__(self, kind: str):
        if kind not in self._entries:
            raise KeyError(f"no {self._what} for layer kind {kind!r}; registered: "
                           f"{', '.join(map(repr, sorted(self._entries)))}")
        return self._entries[kind]

    def __contains__(self, kind) -> bool:
        return kind in self._entries

    def __iter__(self):
        return iter(sorted(self._entries))

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))
