"""`spikeshift explore`: its options, their checks, and the run.

Everything the user gives is checked before a cluster starts or a file is written: each
refusal names the option, the value and what is allowed (exit status 2).
"""

import argparse
import sys
from pathlib import Path

from ...boards.registry import BOARDS
from ..ir.kinds.dense import MAX_LANES
from ..ir.network import MAX_TIMESTEPS
from ..ir.neuron import MAX_SPIKE_BITS
from .measure import OBJECTIVES, RESOURCE_MODES, SYNTHESIZED

__all__ = ["add_parser", "run", "SCHEDULER_HELP"]

SCHEDULER_HELP = ("'local' (default) starts a Dask LocalCluster, one single-threaded worker "
                  "per core (--workers to choose); 'serial' runs every task in this process; "
                  "a scheduler's address (tcp://host:8786) joins that cluster")
DEFAULT_OBJECTIVES = ("accuracy", "latency", "luts", "energy")


def _list_of(parse, allowed: str):
    """An argparse type: a non-empty comma-separated list, each item through `parse`."""
    def parse_list(text: str) -> tuple:
        items = [item.strip() for item in text.split(",")]
        try:
            if not all(items):
                raise ValueError
            values = [parse(item) for item in items]
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a comma-separated list of {allowed}, "
                                             f"not {text!r}") from None
        return tuple(dict.fromkeys(values))
    return parse_list


def _int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        value = int(text)
        if not lo <= value <= hi:
            raise ValueError
        return value
    return parse


def _weight(text: str) -> str:
    from .space import parse_weight_format
    parse_weight_format(text)
    return text


def _objective(text: str) -> str:
    if text not in OBJECTIVES:
        raise ValueError
    return text


def _lanes(text: str):
    if text == "auto":
        return "auto"
    return _list_of(_int_in(1, MAX_LANES), f"integers in [1, {MAX_LANES}]")(text)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], not {text!r}")
    return value


def add_parser(sub, *, outputs: tuple, positive):
    """Declare `explore` on the subparsers `sub`; `outputs`: the result file patterns."""
    from .search import SAMPLERS
    from .space import WEIGHTS_HELP
    p = sub.add_parser("explore", help="design-space exploration: Pareto front of accuracy, "
                                       "latency, resources and energy")
    p.add_argument("source", metavar="FLOAT.json|MODEL.pt|NET.json",
                   help="a float description or QCFS checkpoint (quantized per candidate), or "
                        "an integer description (only --timesteps and --lanes vary)")
    p.add_argument("--data", required=True, metavar="X.npy",
                   help="inputs (batch, T, n) or (batch, n); constant over T to explore T")
    p.add_argument("--labels", required=True, metavar="y.npy")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--board", choices=list(BOARDS), default="ulx3s")
    p.add_argument("--timesteps", type=_list_of(_int_in(1, MAX_TIMESTEPS),
                                                f"integers in [1, {MAX_TIMESTEPS}]"),
                   help="T values (default: the source's)")
    p.add_argument("--weights", type=_list_of(_weight, f"weight formats {WEIGHTS_HELP}"),
                   help=f"weight formats, {WEIGHTS_HELP} (default pot4)")
    p.add_argument("--spike-bits", type=_list_of(_int_in(1, MAX_SPIKE_BITS),
                                                 f"integers in [1, {MAX_SPIKE_BITS}]"),
                   help="spike bits of every spiking layer (default: the source's)")
    p.add_argument("--lanes", type=_lanes, default="auto",
                   help="'auto' (powers of two up to each layer's neurons) or a list tried "
                        "for every layer (1,4,16)")
    p.add_argument("--objectives", type=_list_of(_objective, ", ".join(OBJECTIVES)),
                   default=DEFAULT_OBJECTIVES, help=f"of {', '.join(OBJECTIVES)} "
                                                    f"(default {','.join(DEFAULT_OBJECTIVES)})")
    p.add_argument("--resources", choices=RESOURCE_MODES, default="estimate",
                   help="LUT/FF/BRAM/DSP from the fit estimate (seconds), Yosys synthesis "
                        "or nextpnr place and route with Fmax (minutes per candidate)")
    p.add_argument("--min-accuracy", type=_fraction, default=0.0,
                   help="prune candidates below this accuracy before any synthesis")
    p.add_argument("--trials", type=positive, default=32,
                   help="trials the study holds when done (more extends a finished study)")
    p.add_argument("--batch", type=positive, default=8,
                   help="trials asked and measured together (the study depends on it, not on "
                        "the cluster)")
    p.add_argument("--sampler", choices=SAMPLERS, default="nsga2")
    p.add_argument("--seed", type=_int_in_option(0, 2**31 - 1))
    p.add_argument("--study", metavar="FILE", help="the SQLite study (default DIR/study.db); "
                                                   "run again to resume or extend it")
    p.add_argument("--scheduler", default="local", help=SCHEDULER_HELP)
    p.add_argument("--workers", type=positive, help="workers of --scheduler local")
    p.add_argument("--input-bits", type=_int_in_option(1, 16), default=4,
                   help="a checkpoint's input bits")
    p.add_argument("--input-shape", type=_shape, metavar="C,H,W",
                   help="a convolutional checkpoint's input map (default: its first "
                        "nn.Unflatten)")
    p.set_defaults(run=run, outputs=[("output", "-o", outputs), ("study", "--study", "file")])
    return p


def _shape(text: str) -> tuple:
    parts = text.split(",")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"must be three positive integers C,H,W (1,28,28), "
                                         f"not {text!r}")
    return tuple(int(p) for p in parts)


def _int_in_option(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            return _int_in(lo, hi)(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo}, {hi}], "
                                             f"not {text!r}") from None
    return parse


def _space(args, source):
    from .space import Candidate, Space, auto_lanes
    if source.kind == "integer":
        for option, value in (("--weights", args.weights), ("--spike-bits", args.spike_bits)):
            if value is not None:
                raise ValueError(f"{option} {','.join(map(str, value))}: SOURCE "
                                 f"{args.source!r} is an integer description, whose weights and "
                                 f"spikes are fixed; only --timesteps and --lanes vary (give a "
                                 f"float description or a QCFS checkpoint to vary {option})")
    if source.kind == "checkpoint":
        if args.timesteps is None:
            raise ValueError("--timesteps is required for a PyTorch checkpoint")
        if ints := [w for w in args.weights or () if not w.startswith("pot")]:
            raise ValueError(f"--weights {','.join(ints)}: a QCFS checkpoint converts with PoT "
                             f"weights only; give pot2 to pot6")
    weights = None if source.kind == "integer" else tuple(args.weights or ("pot4",))
    timesteps = tuple(args.timesteps or (source.timesteps(),))
    reference = Candidate(timesteps=timesteps[0], weights=(weights or [None])[0],
                          spike_bits=(args.spike_bits or [None])[0], lanes=())
    lanes = []
    for most in source.lane_limits(reference):
        choices = auto_lanes(most) if args.lanes == "auto" else \
            sorted({min(v, most) for v in args.lanes})
        lanes.append(tuple(choices))
    return Space(timesteps=timesteps, weights=weights,
                 spike_bits=args.spike_bits, lanes=tuple(lanes))


def _data(args, source, space):
    from ...sim.golden import check_inputs
    from ..ir.files import load_array
    from .measure import Data, inputs_for
    from .space import Candidate
    x = load_array(args.data, "--data")
    labels = load_array(args.labels, "--labels")
    if labels.shape != (len(x),) or labels.dtype.kind not in "iu":
        raise ValueError(f"--labels must be integers of shape ({len(x)},) like --data, not "
                         f"{labels.dtype} of shape {labels.shape}")
    for t in space.timesteps:
        candidate = Candidate(timesteps=t, weights=(space.weights or [None])[0],
                              spike_bits=(space.spike_bits or [None])[0], lanes=())
        net = source.network(candidate)
        try:
            check_inputs(net, inputs_for(x, t))
        except (ValueError, TypeError) as error:
            raise ValueError(f"--data {args.data!r}: {error}") from None
        if labels.min() < 0 or labels.max() >= net.n_out:
            bad = int(labels[(labels < 0) | (labels >= net.n_out)][0])
            raise ValueError(f"--labels must be classes in [0, {net.n_out - 1}] (the "
                             f"network's outputs), not {bad}")
    return Data.of(x, labels)


def run(args) -> int:
    """Check everything, run the study on the cluster, write the results."""
    import distributed  # noqa: F401  (a missing extra is named before any work)
    import matplotlib  # noqa: F401
    import optuna  # noqa: F401

    from .cluster import open_executor
    from .results import write_results
    from .search import Settings, check_study, explore
    from .source import load_source
    for key, option in (("ffs", "--objectives ffs"),):
        if key in args.objectives and args.resources == "estimate" and key in SYNTHESIZED:
            raise ValueError(f"{option} needs --resources yosys or nextpnr (the fit estimate "
                             f"counts no flip-flops)")
    if args.resources == "nextpnr" and BOARDS[args.board].flow != "open":
        raise ValueError(f"--resources nextpnr needs an open-flow board (ulx3s, icebreaker), "
                         f"not --board {args.board}; use --resources yosys")
    source = load_source(args.source, input_bits=args.input_bits, input_shape=args.input_shape)
    space = _space(args, source)
    data = _data(args, source, space)
    settings = Settings(source=source, data=data, space=space, objectives=args.objectives,
                        board=args.board, resources=args.resources, sampler=args.sampler,
                        seed=args.seed, batch=args.batch, min_accuracy=args.min_accuracy)
    study_path = Path(args.study) if args.study else Path(args.output) / "study.db"
    check_study(settings, study_path)
    with open_executor(args.scheduler, workers=args.workers) as executor:
        print(f"exploring {space.size} candidates ({args.trials} trials, batches of "
              f"{args.batch}) on {executor.workers} worker(s); study {study_path}",
              file=sys.stderr)
        study = explore(settings, study_path, args.trials, executor,
                        progress=True)
    summary = write_results(args.output, study, settings)
    print((Path(args.output) / "pareto.md").read_text(), end="")
    print(f"wrote {Path(args.output) / 'pareto.md'}, pareto.json, "
          f"{len(summary['pareto'])} candidate descriptions and "
          f"{sum(f.endswith('.png') for f in summary['files'])} plots")
    return 0

