"""Benchmark: exploration throughput on 1 and 2 Dask workers (``make bench``).

Explores the digits MLP's float description (timesteps x weight formats x lanes) with the same
seed on a LocalCluster of one worker and of two, each in a fresh study, checks that both
studies are identical, and prints trials per second and their ratio: with the cheap
measurements only (golden-model accuracy on the test images, or on them repeated, cycle
model, fit estimate, energy), then with Yosys synthesis of every candidate. The cluster's
start is not timed.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "digits"))

from spikeshift.gen.explore.cluster import open_executor  # noqa: E402
from spikeshift.gen.explore.measure import Data  # noqa: E402
from spikeshift.gen.explore.search import Settings, explore  # noqa: E402
from spikeshift.gen.explore.source import load_source  # noqa: E402
from spikeshift.gen.explore.space import Candidate, Space, auto_lanes  # noqa: E402

DEMO_FLOAT = Path("build/demo/digits-mlp-float.json")


def measure(settings: Settings, trials: int, samples: int) -> dict:
    """Trials per second on 1 and 2 workers, each in a fresh study of the same seed."""
    rates, studies = {}, {}
    with tempfile.TemporaryDirectory(prefix="spikeshift-bench-") as tmp:
        for workers in (1, 2):
            with open_executor("local", workers=workers) as executor:
                start = time.perf_counter()
                study = explore(settings, Path(tmp) / f"w{workers}.db", trials, executor,
                                progress=False)
                seconds = time.perf_counter() - start
            rates[workers] = trials / seconds
            studies[workers] = [(t.number, t.params, t.values) for t in study.trials]
            print(f"{samples} samples per candidate, resources {settings.resources}, "
                  f"{workers} worker(s): {trials} trials in "
                  f"{seconds:.1f} s, {rates[workers]:.1f} trials/s")
    if studies[1] != studies[2]:
        raise SystemExit("the studies on 1 and 2 workers differ")
    ratio = rates[2] / rates[1]
    print(f"{samples} samples per candidate, resources {settings.resources}: exploration "
          f"throughput, 2 workers / 1 worker: {ratio:.2f} (identical studies)")
    return {"samples": samples, "resources": settings.resources, "trials": trials,
            "trials_per_second": rates, "ratio": ratio}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--repeat", type=int, nargs="+", default=[1, 10],
                        help="data sets: the test images repeated this many times")
    parser.add_argument("--synthesis-trials", type=int, default=8,
                        help="trials of the run with Yosys synthesis (0: none)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from demo import build_network, direct_input, load_data
    if not DEMO_FLOAT.exists():
        build_network(verbose=False, float_out=args.out / "digits-mlp-float.json")
    source = load_source(DEMO_FLOAT if DEMO_FLOAT.exists() else
                         args.out / "digits-mlp-float.json")
    _, x_test, _, y_test = load_data()
    reference = Candidate(timesteps=8, weights="pot4", spike_bits=None, lanes=())
    space = Space(timesteps=(1, 2, 4, 8), weights=("pot3", "pot4", "int4", "int6"),
                  spike_bits=None, lanes=tuple(tuple(auto_lanes(most))
                                               for most in source.lane_limits(reference)))
    results = []
    for repeat in args.repeat:
        x, y = np.tile(x_test, (repeat, 1)), np.tile(y_test, repeat)
        settings = Settings(source=source, data=Data.of(direct_input(x, 8), y), space=space,
                            objectives=("accuracy", "latency", "luts", "energy"),
                            board="ulx3s", seed=0, batch=8)
        results.append(measure(settings, args.trials, len(y)))
    if args.synthesis_trials:
        small = Space(timesteps=space.timesteps, weights=space.weights, spike_bits=None,
                      lanes=((1, 2, 4, 8), (1, 2, 4, 8)))
        settings = Settings(source=source, data=Data.of(direct_input(x_test, 8), y_test),
                            space=small, objectives=("accuracy", "latency", "luts", "energy"),
                            board="ulx3s", resources="yosys", seed=0,
                            batch=args.synthesis_trials)
        results.append(measure(settings, args.synthesis_trials, len(y_test)))
    (args.out / "explore.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out / 'explore.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
