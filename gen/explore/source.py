"""What an exploration starts from, and the network of each candidate.

A float description and a PyTorch QCFS checkpoint are quantized again for every candidate
(timesteps, weight format, spike bits); an integer description is kept as it is and only
its timesteps and lanes vary. The source travels to the workers as bytes with its SHA-256,
so a worker on another machine needs no shared file system, and parses it once.
"""

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..ir.network import Network, network_from_dict, network_to_dict, read_json
from ..ir.weights import PotWeights
from .space import Candidate, parse_weight_format

__all__ = ["Source", "load_source", "SOURCE_KINDS"]

SOURCE_KINDS = ("float", "checkpoint", "integer")


@dataclass(frozen=True)
class Source:
    """A source file's kind, contents and identity.

    Members
    -------
    kind : ``"float"``, ``"checkpoint"`` or ``"integer"``
    name : the file's stem (candidate networks are named after it)
    data : the file's bytes (an integer description with its arrays inlined)
    sha256 : identifies the source in a study file
    input_bits : a checkpoint's input bits (the others carry theirs)
    input_shape : a convolutional checkpoint's ``(C, H, W)`` input (None: its first
        ``nn.Unflatten``, or flat)
    """

    kind: str
    name: str
    data: bytes
    sha256: str
    input_bits: int = 4
    input_shape: tuple | None = None

    def parsed(self):
        """The FloatNetwork, nn.Sequential or Network (once per process)."""
        return _parse(self.kind, self.data, self.sha256)

    def lane_limits(self, reference: Candidate) -> list[int]:
        """The most lanes each layer's core can use, in the network of `reference` (the layer
        kinds and sizes are the same for every candidate)."""
        return [layer.max_lanes for layer in self.network(reference).layers]

    def timesteps(self) -> int | None:
        """The source's own T (a checkpoint has none)."""
        return None if self.kind == "checkpoint" else self.parsed().timesteps

    def network(self, candidate: Candidate) -> Network:
        """The integer network of `candidate` (a ValueError when it cannot be built)."""
        return _network(self, candidate.network_key)


@lru_cache(maxsize=4)
def _parse(kind: str, data: bytes, sha256: str):
    if kind == "checkpoint":
        import tempfile

        from ..frontends.torch_qcfs import load_checkpoint
        with tempfile.NamedTemporaryFile(suffix=".pt") as tmp:
            tmp.write(data)
            tmp.flush()
            return load_checkpoint(tmp.name)
    obj = json.loads(data)
    if kind == "float":
        from ..frontends.quantize import float_network_from_dict
        return float_network_from_dict(obj)
    return network_from_dict(obj)


@lru_cache(maxsize=16)
def _network(source: Source, key: tuple) -> Network:
    timesteps, weights, spike_bits = key
    model = source.parsed()
    if source.kind == "integer":
        return Network(name=model.name, timesteps=timesteps, input=model.input,
                       layers=model.layers, output=model.output)
    fmt, bits = parse_weight_format(weights)
    if source.kind == "checkpoint":
        from ..frontends.torch_qcfs import sequential_to_network
        return sequential_to_network(model, input_bits=source.input_bits, timesteps=timesteps,
                                     e_max=PotWeights.e_max_for_bits(bits), name=source.name,
                                     spike_bits=spike_bits or 1,
                                     input_shape=source.input_shape)[0]
    from ..frontends.quantize import FloatNetwork, quantize_network
    layers = model.layers
    if spike_bits is not None:
        layers = tuple(layer if layer.model == "integrator"
                       else type(layer)(**{**layer.__dict__, "spike_bits": spike_bits})
                       for layer in layers)
    float_net = FloatNetwork(name=model.name, timesteps=timesteps, input=model.input,
                             layers=layers, output=model.output)
    return quantize_network(float_net, weights=fmt, bits=bits, name=source.name)[0]


def load_source(path, *, input_bits: int = 4, input_shape: tuple | None = None) -> Source:
    """Read SOURCE: ``.pt``/``.pth`` is a checkpoint, JSON a float or integer description."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"SOURCE {str(path)!r} is not a file")
    if path.suffix in (".pt", ".pth"):
        data = path.read_bytes()
        kind = "checkpoint"
    else:
        obj = read_json(path)
        kind = "float" if isinstance(obj, dict) and obj.get("format") == \
            "spikeshift-float-network" else "integer"
        if kind == "integer":  # arrays in an .npz beside it are inlined for the workers
            from ..ir.network import load_network
            obj = network_to_dict(load_network(path))
        data = json.dumps(obj, sort_keys=True).encode()
    source = Source(kind=kind, name=path.stem, data=data,
                    sha256=hashlib.sha256(data).hexdigest(),
                    input_bits=input_bits if kind == "checkpoint" else 0,
                    input_shape=tuple(input_shape) if input_shape else None)
    source.parsed()  # a bad file is named now, before anything is written
    return source

