"""The generator: a planned design -> Verilog, memory images and reports, written atomically."""

import json
from pathlib import Path

from ..ir.design import Design, plan
from ..ir.files import check_output_folder, replace_files
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


def generate(net: Network, out_dir, *, lanes=None, max_luts=None, inputs=None) -> Generated:
    """Plan `net` and write its design (`write_design`); without `lanes`, the lanes are
    balanced within `max_luts` on the activity of `inputs` (`plan`)."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, not {net!r}")
    return write_design(plan(net, lanes, max_luts=max_luts, inputs=inputs), out_dir,
                        inputs=inputs)


def _files_written_before(out_dir: Path) -> list[str]:
    """What an earlier `write_design` into `out_dir` wrote, from its report.json's list."""
    try:
        listed = json.loads((out_dir / "report.json").read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [rel for rel in listed if isinstance(rel, str) and rel.startswith("mem/layer")
            and rel.endswith(".hex") and ".." not in Path(rel).parts]


def write_design(design: Design, out_dir, *, inputs=None) -> Generated:
    """Write ``spikeshift_top.v``, ``mem/*.hex``, ``report.json`` and ``report.txt``.

    The files replace those of an earlier design as one transaction (files the earlier
    ``report.json`` lists and this design does not write go too), so an error leaves
    `out_dir` as it was; any other file in `out_dir` or `mem/` stays.
    """
    from ...hdl.top import Accelerator
    out_dir = check_output_folder(out_dir, "output folder")
    report = build_report(design, inputs=inputs)
    accelerator = Accelerator(design)
    files = {f"{TOPLEVEL}.v": component_verilog(accelerator, TOPLEVEL)}
    files |= {f"mem/{name}.hex": image.hex_lines()
              for name, image in memory_images(accelerator).items()}
    written = sorted([*files, "report.json", "report.txt"])
    files |= {"report.json": json.dumps({**report, "files": written}, indent=1,
                                        allow_nan=False) + "\n",
              "report.txt": format_report(report)}
    stale = [rel for rel in _files_written_before(out_dir) if rel not in files]
    replace_files(out_dir, files, remove=stale)
    return Generated(out_dir, design, report)
