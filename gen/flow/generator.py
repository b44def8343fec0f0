"""The generator: network -> plan -> Verilog, memory images and reports, written atomically."""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..ir.network import Network
from ..ir.design import NetworkPlan, plan_network
from .report import build_report, format_report
from .verilog import TOPLEVEL, accelerator_verilog

__all__ = ["Generated", "generate", "memory_images"]


class Generated:
    """Paths of what `generate` wrote, and the plan it used."""

    def __init__(self, out_dir: Path, plan: NetworkPlan, report: dict):
        self.out_dir = out_dir
        self.plan = plan
        self.report = report
        self.verilog = out_dir / f"{TOPLEVEL}.v"


def memory_images(net: Network, plan: NetworkPlan) -> dict[str, list[int]]:
    """Weight memory contents per layer as packed integer words (lane 0 in the low bits)."""
    from amaranth.lib import data

    from ...hdl.cores.dense import weight_init
    from ...hdl.layouts import weight_code_shape
    images = {}
    for index, (layer, lp) in enumerate(zip(net.layers, plan.layers)):
        shape = data.ArrayLayout(weight_code_shape(layer.weights), lp.lanes)
        images[f"layer{index}_weights"] = [shape.const(word).as_bits()
                                            for word in weight_init(layer, lp)]
    return images


def _write_hex(path: Path, words: list[int], width: int) -> None:
    digits = max(1, -(-width // 4))
    path.write_text("".join(f"{w & ((1 << width) - 1):0{digits}x}\n" for w in words))


def generate(net: Network, out_dir, *, lanes=None, counts: np.ndarray | None = None) -> Generated:
    """Write ``spikeshift_top.v``, ``mem/*.hex``, ``report.json`` and ``report.txt``.

    Everything is produced in a temporary folder first, so an error leaves `out_dir` as it was.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, not {net!r}")
    out_dir = Path(out_dir)
    plan = plan_network(net, lanes)
    report = build_report(net, plan, counts=counts)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.") as tmp:
        tmp = Path(tmp)
        (tmp / f"{TOPLEVEL}.v").write_text(accelerator_verilog(net, plan))
        (tmp / "mem").mkdir()
        for name, words in memory_images(net, plan).items():
            index = int(name[len("layer"):].split("_")[0])
            width = report["layers"][index]["weight_memory"]["width"]
            _write_hex(tmp / "mem" / f"{name}.hex", words, width)
        (tmp / "report.json").write_text(json.dumps(report, indent=1) + "\n")
        (tmp / "report.txt").write_text(format_report(report))
        out_dir.mkdir(exist_ok=True)
        for item in tmp.iterdir():
            target = out_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            shutil.move(str(item), target)
    return Generated(out_dir, plan, report)
