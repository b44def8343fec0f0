"""The generator: a planned design -> Verilog, memory images and reports, written atomically."""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..ir.design import Design, plan
from ..ir.layer import MemoryImage
from ..ir.link import TOPLEVEL
from ..ir.network import Network
from .report import build_report, format_report
from .verilog import component_verilog

__all__ = ["Generated", "generate", "write_design", "memory_images"]


class Generated:
    """Paths of what `generate` wrote, the design and its report."""

    def __init__(self, out_dir: Path, design: Design, report: dict):
        self.out_dir = out_dir
        self.design = design
        self.report = report
        self.verilog = out_dir / f"{TOPLEVEL}.v"


def memory_images(accelerator) -> dict[str, MemoryImage]:
    """Every layer core's memory images, by file stem (``layer0_weights``)."""
    return {f"layer{index}_{image.geometry.name}": image
            for index, core in enumerate(accelerator.cores)
            for image in core.memory_images()}


def generate(net: Network, out_dir, *, lanes=None, counts: np.ndarray | None = None) -> Generated:
    """Plan `net` and write its design (`write_design`)."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, not {net!r}")
    return write_design(plan(net, lanes), out_dir, counts=counts)


def write_design(design: Design, out_dir, *, counts: np.ndarray | None = None) -> Generated:
    """Write ``spikeshift_top.v``, ``mem/*.hex``, ``report.json`` and ``report.txt``.

    Everything is produced in a temporary folder first, so an error leaves `out_dir` as it was.
    """
    from ...hdl.top import Accelerator
    out_dir = Path(out_dir)
    report = build_report(design, counts=counts)
    accelerator = Accelerator(design)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.") as tmp:
        tmp = Path(tmp)
        (tmp / f"{TOPLEVEL}.v").write_text(component_verilog(accelerator, TOPLEVEL))
        (tmp / "mem").mkdir()
        for name, image in memory_images(accelerator).items():
            (tmp / "mem" / f"{name}.hex").write_text(image.hex_lines())
        (tmp / "report.json").write_text(json.dumps(report, indent=1) + "\n")
        (tmp / "report.txt").write_text(format_report(report))
        out_dir.mkdir(exist_ok=True)
        for item in tmp.iterdir():
            target = out_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            shutil.move(str(item), target)
    return Generated(out_dir, design, report)
