"""What one candidate costs and achieves: the cheap measurements and the expensive ones.

Cheap (seconds, no tools): accuracy by the golden model on the data, latency and streamed
throughput by the cycle model, the board's fit check and resource estimate, and the report's
energy per inference. Expensive (minutes): Yosys synthesis, or place and route with nextpnr
on an open-flow board. They are separate functions so that they run as separate tasks and the
cheap results can prune a candidate before its expensive step is spent.
"""

import hashlib
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...boards.errors import DoesNotFit
from ...boards.fit import check_fit
from ...boards.registry import board_named
from ...sim.cycles import input_beats, layer_inputs, schedule
from ...sim.golden import trace
from ..flow.report import build_report
from ..ir.design import Design, plan
from ..ir.network import first_change, repeat_timesteps
from .source import Source
from .space import Candidate

__all__ = ["Data", "OBJECTIVES", "RESOURCE_MODES", "SYNTHESIZED", "inputs_for", "measure_cheap",
           "measure_expensive", "cycle_model"]

#: objective -> (Optuna direction, what it is)
OBJECTIVES = {
    "accuracy": ("maximize", "fraction of --data classified as --labels (golden model)"),
    "latency": ("minimize", "µs per inference, first input beat to last result (cycle model)"),
    "throughput": ("maximize", "inferences per second streamed back to back (cycle model)"),
    "luts": ("minimize", "LUTs (fit estimate, or Yosys / nextpnr)"),
    "ffs": ("minimize", "flip-flops (Yosys / nextpnr only)"),
    "brams": ("minimize", "block RAMs of the board's family (estimate: memory bits / block)"),
    "dsps": ("minimize", "DSP blocks (estimate: multipliers)"),
    "energy": ("minimize", "estimated pJ per inference on the data (report's energy model)"),
}

#: --resources: where LUT/FF/BRAM/DSP counts come from
RESOURCE_MODES = ("estimate", "yosys", "nextpnr")
#: objectives that only a synthesis can give
SYNTHESIZED = ("ffs",)

_BLOCK_BITS = {"ecp5": 18_432, "ice40": 4_096, "xcup": 36_864}
_BRAM_CELLS = {"ecp5": "BRAM18", "ice40": "BRAM4", "xcup": "BRAM36_equiv"}
_NEXTPNR_CELLS = {"ecp5": {"luts": "TRELLIS_COMB", "ffs": "TRELLIS_FF", "brams": "DP16KD",
                           "dsps": "MULT18X18D"},
                  "ice40": {"luts": "ICESTORM_LC", "ffs": "ICESTORM_LC", "brams": "ICESTORM_RAM",
                            "dsps": "ICESTORM_DSP"}}


def inputs_for(x: np.ndarray, timesteps: int) -> np.ndarray:
    """`x` for T = `timesteps`: (batch, n) or inputs constant over time (direct encoding) are
    repeated; inputs that vary over time can only be used at their own T."""
    x = np.asarray(x)
    if x.ndim == 2:
        return repeat_timesteps(x, timesteps)
    if x.shape[1] == timesteps:
        return x
    if first_change(x) is None:
        return repeat_timesteps(x[:, 0], timesteps)
    raise ValueError(f"--timesteps {timesteps}: the --data inputs vary over their "
                     f"{x.shape[1]} timesteps, so only T = {x.shape[1]} can be explored with "
                     f"them; give inputs that are the same every timestep (direct encoding) "
                     f"or of shape (batch, input size) to explore other T")


def cycle_model(design: Design, x: np.ndarray, golden) -> tuple[tuple, object]:
    """Each layer's input values and the streamed timeline of `x`: the one place exploration
    calls the cycle model (`spikeshift.sim.cycles`)."""
    inputs = layer_inputs(x, golden)
    return inputs, schedule(design, inputs,
                            input_beats(x, direct=design.network.input.direct))


@dataclass(frozen=True, eq=False)
class Data:
    """The inputs and labels of an exploration, identified by their SHA-256 (so that a worker
    caches per data set, and a study records which data it was made with)."""

    x: np.ndarray
    labels: np.ndarray
    sha256: str

    @classmethod
    def of(cls, x: np.ndarray, labels: np.ndarray) -> "Data":
        digest = hashlib.sha256()
        for arr in (np.ascontiguousarray(x, np.int64), np.ascontiguousarray(labels, np.int64)):
            digest.update(str(arr.shape).encode())
            digest.update(arr.tobytes())
        return cls(x=np.asarray(x), labels=np.asarray(labels), sha256=digest.hexdigest())

    def __hash__(self):
        return hash(self.sha256)

    def __eq__(self, other):
        return isinstance(other, Data) and other.sha256 == self.sha256


@lru_cache(maxsize=8)
def _golden(source: Source, key: tuple, data: Data):
    """The network and its golden trace, once per worker for all lane choices."""
    net = source.network(Candidate(timesteps=key[0], weights=key[1], spike_bits=key[2],
                                   lanes=()))
    x = inputs_for(data.x, net.timesteps)
    return net, x, trace(net, x)


def measure_cheap(source: Source, candidate: Candidate, data: Data, board_name: str) -> dict:
    """Accuracy, cycles, fit estimate and energy of `candidate`; ``"feasible": False`` with a
    ``"reason"`` when it cannot be built or cannot fit the board."""
    board = board_named(board_name)
    try:
        net, xt, golden = _golden(source, candidate.network_key, data)
        design = plan(net, list(candidate.lanes))
    except ValueError as error:
        return {"feasible": False, "reason": f"cannot be built: {error}"}
    inputs, timeline = cycle_model(design, xt, golden)
    report = build_report(design, inputs=inputs)
    clock_mhz = board.clock_hz / 1e6
    latency_cycles = float(timeline.latency.mean())
    result = {
        "feasible": True, "reason": None, "lanes": list(design.lanes), "clock_mhz": clock_mhz,
        "accuracy": float((golden.classes == data.labels).mean()),
        "latency_cycles": latency_cycles, "latency": latency_cycles / clock_mhz,
        "stream_cycles": timeline.total,
        "throughput": len(xt) / timeline.total * board.clock_hz,
        "energy": float(report["totals"]["energy_pj_per_inference"]),
        "dsps": int(report["totals"]["multipliers"]),
        "layer_cycles": [e["model_cycles_per_inference"] for e in report["layers"]],
    }
    try:
        estimate = check_fit(design, board)
    except DoesNotFit as error:
        return {**result, "feasible": False, "reason": f"does not fit: {error}"}
    result["estimate"] = estimate
    result["luts"] = estimate["luts"]
    result["brams"] = -(-estimate["ram_bits"] // _BLOCK_BITS[board.family])
    return result


def measure_expensive(source: Source, candidate: Candidate, board_name: str, mode: str) -> dict:
    """Resource counts from Yosys (``mode="yosys"``) or nextpnr with its Fmax (``"nextpnr"``),
    run in a temporary folder of the worker."""
    from ..flow.generator import write_design
    from ..ir.link import TOPLEVEL
    board = board_named(board_name)
    design = plan(source.network(candidate), list(candidate.lanes))
    with tempfile.TemporaryDirectory(prefix="spikeshift-explore-") as tmp:
        if mode == "yosys":
            from ...boards.estimate import synthesize
            generated = write_design(design, Path(tmp) / "rtl")
            cells = synthesize(generated.verilog, TOPLEVEL, board.name)
            return {"luts": cells["LUT"], "ffs": cells["FF"],
                    "brams": cells[_BRAM_CELLS[board.family]], "dsps": cells["DSP"],
                    "cells": cells}
        from ...boards.open_flow import SEEDS, build_open_bitstream
        # one placement seed per candidate: a search compares many, a build reports its median
        flow = build_open_bitstream(design, board, Path(tmp) / "bitstream", seeds=SEEDS[:1])
    used = {name: cell["used"] for name, cell in flow["utilisation"].items()}
    counts = {key: used.get(cell, 0) for key, cell in _NEXTPNR_CELLS[board.family].items()}
    return {**counts, "fmax_mhz": flow["fmax_mhz"], "meets_clock": flow["meets_clock"],
            "utilisation": used}
