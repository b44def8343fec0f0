"""The results people look at: the Pareto front as Markdown and JSON, plots of accuracy
against latency, LUTs and energy with the front highlighted, and every Pareto candidate's
description with the inputs and commands that reproduce its numbers.

All of it replaces the previous results in DIR as one transaction (`replace_files`), so an
error leaves DIR as it was, and candidates that left the front are removed.
"""

import io
import json
import tempfile
from pathlib import Path

import numpy as np

from ..ir.files import replace_files
from ..ir.network import network_to_dict
from .measure import OBJECTIVES, inputs_for
from .pareto import pareto_front
from .search import Settings, trial_records
from .space import Candidate

__all__ = ["RESULT_FILES", "front_of", "write_results"]

#: what explore writes into DIR (glob patterns, for the command line's output checks)
RESULT_FILES = ("pareto.md", "pareto.json", "pareto_*.png", "candidates/*")
PLOTS = (("latency", "latency (µs per inference)"), ("luts", "LUTs"),
         ("energy", "energy (pJ per inference)"))


def front_of(study, settings: Settings) -> tuple[list, list]:
    """(complete trials, indices of the Pareto-optimal ones among them); trials with equal
    knobs count once (the first)."""
    complete, seen = [], set()
    for record in trial_records(study):
        if record["state"] != "complete":
            continue
        candidate = Candidate.from_params(record["params"])
        if candidate in seen:
            continue
        seen.add(candidate)
        complete.append({**record, "candidate": candidate})
    directions = [OBJECTIVES[o][0] for o in settings.objectives]
    points = [[r["outcome"]["measures"][o] for o in settings.objectives] for r in complete]
    return complete, pareto_front(points, directions)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _plot(complete: list, front: list, key: str, label: str, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.2))
    xs = [r["outcome"]["measures"][key] for r in complete]
    ys = [100 * r["outcome"]["measures"]["accuracy"] for r in complete]
    ax.scatter(xs, ys, s=14, c="0.7", label="explored")
    ax.scatter([xs[i] for i in front], [ys[i] for i in front], s=36, c="tab:red",
               label="Pareto-optimal")
    for i in front:
        ax.annotate(str(complete[i]["trial"]), (xs[i], ys[i]), fontsize=7,
                    textcoords="offset points", xytext=(3, 3))
    ax.set_xlabel(label)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _value(key: str, value) -> str:
    if key == "accuracy":
        return f"{value:.2%}"
    if key in ("latency", "energy"):
        return f"{value:.2f}"
    if key == "throughput":
        return f"{value:,.0f}"
    return f"{value:g}"


def write_results(out_dir, study, settings: Settings) -> dict:
    """Write DIR's results from `study`; returns what pareto.json holds."""
    out = Path(out_dir)
    complete, front = front_of(study, settings)
    states = [r["state"] for r in trial_records(study)]
    files, entries, timesteps = {}, [], set()
    for i in front:
        record = complete[i]
        candidate, measures = record["candidate"], record["outcome"]["measures"]
        rel = f"candidates/trial-{record['trial']:04d}-{candidate.label}.json"
        net = settings.source.network(candidate)
        files[rel] = json.dumps(network_to_dict(net), indent=1) + "\n"
        timesteps.add(candidate.timesteps)
        lanes = ",".join(map(str, measures["lanes"]))
        net_path, inputs = out / rel, out / f"candidates/inputs-T{candidate.timesteps}.npy"
        entries.append({
            "trial": record["trial"], "knobs": candidate.to_json(),
            "objectives": {o: measures[o] for o in settings.objectives},
            "measures": {k: v for k, v in measures.items() if k not in ("predicted",)},
            "description": rel,
            "commands": {
                "bitstream": f"make bitstream BOARD={settings.board} NET={net_path} "
                             f"LANES={lanes}",
                "estimate": f"make estimate BOARD={settings.board} NET={net_path} "
                            f"LANES={lanes}",
                "predict": f"spikeshift predict {net_path} {inputs} -o predict.npz",
                "report": f"spikeshift report {net_path} --lanes {lanes} --inputs {inputs}"}})
    for t in sorted(timesteps):
        files[f"candidates/inputs-T{t}.npy"] = _npy(inputs_for(settings.data.x, t))
    summary = {
        "source": {"kind": settings.source.kind, "name": settings.source.name,
                   "sha256": settings.source.sha256},
        "board": settings.board, "resources": settings.resources,
        "objectives": [{"name": o, "direction": OBJECTIVES[o][0], "what": OBJECTIVES[o][1]}
                       for o in settings.objectives],
        "space": settings.space.to_json(), "space_size": settings.space.size,
        "trials": len(states), "complete": states.count("complete"),
        "pruned": states.count("pruned"), "failed": states.count("fail"),
        "distinct_complete": len(complete), "pareto": entries}
    summary["files"] = sorted([*files, "pareto.md", "pareto.json",
                               *(f"pareto_accuracy_{key}.png" for key, _ in PLOTS)])
    files["pareto.json"] = json.dumps(summary, indent=1) + "\n"
    files["pareto.md"] = _markdown(summary, settings)
    title = (f"{settings.source.name} on {settings.board}: {len(complete)} candidates, "
             f"{len(front)} Pareto-optimal")
    with tempfile.TemporaryDirectory(prefix="spikeshift-explore-plots-") as tmp:
        for key, label in PLOTS:
            name = f"pareto_accuracy_{key}.png"
            _plot(complete, front, key, label, Path(tmp) / name, title)
            files[name] = (Path(tmp) / name).read_bytes()
    replace_files(out, files, remove=[rel for rel in _previous_files(out) if rel not in files])
    return summary


def _previous_files(out: Path) -> list[str]:
    try:
        listed = json.loads((out / "pareto.json").read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [rel for rel in listed if isinstance(rel, str) and rel.startswith("candidates/")
            and ".." not in rel]


def _markdown(summary: dict, settings: Settings) -> str:
    objectives = [o["name"] for o in summary["objectives"]]
    knobs = ["timesteps", "weights", "spike_bits", "lanes"]
    knobs = [k for k in knobs if any(k in e["knobs"] for e in summary["pareto"])] or ["lanes"]
    lines = [f"# Pareto front: {summary['source']['name']} on {summary['board']}", "",
             (f"{summary['trials']} trials ({summary['complete']} complete, "
             f"{summary['pruned']} pruned, {summary['failed']} failed), "
             f"{summary['distinct_complete']} distinct candidates measured of "
             f"{summary['space_size']} in the space; {len(summary['pareto'])} Pareto-optimal "
             f"on {', '.join(objectives)} (resources: {summary['resources']})."), "",
             "| trial | " + " | ".join(knobs + objectives) + " | description |",
             "| " + " | ".join(["---"] * (len(knobs) + len(objectives) + 2)) + " |"]
    for e in summary["pareto"]:
        cells = [str(e["trial"])]
        cells += [",".join(map(str, e["knobs"][k])) if k == "lanes" else str(e["knobs"].get(k, "-"))
                  for k in knobs]
        cells += [_value(o, e["objectives"][o]) for o in objectives]
        lines.append("| " + " | ".join(cells + [f"`{e['description']}`"]) + " |")
    lines += ["", "Objectives: " + "; ".join(f"{o['name']} ({o['direction']}): {o['what']}"
                                             for o in summary["objectives"]) + ".", "",
              ("Each candidate reproduces by hand (inputs at its T in "
              "`candidates/inputs-T<T>.npy`):"), ""]
    for e in summary["pareto"]:
        lines.append(f"- trial {e['trial']}: `{e['commands']['bitstream']}`; "
                     f"`{e['commands']['predict']}`; `{e['commands']['report']}`; "
                     f"`{e['commands']['estimate']}`")
    return "\n".join(lines) + "\n"
