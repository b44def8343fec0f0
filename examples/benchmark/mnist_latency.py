"""Benchmark: per-image latency and streamed cycles of a network at several lane counts, from
the cycle model and the network's own inputs (README "Cycle model", the MNIST latency table).

    python examples/benchmark/mnist_latency.py build/mnist-784-128-10/mnist-784-128-10.json \\
        build/mnist-784-128-10/test_inputs.npy --lanes 16,10 64,10 --fmax 16,10=100.0

Latency is one image alone, first input beat to last result (mean over `--latency-images`);
streamed cycles are per image with the whole batch back to back. Both for the network as given
and for its other input encoding (direct or per timestep), when its inputs allow.
"""

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

import spikeshift
from spikeshift.gen.ir.design import plan
from spikeshift.sim.cycles import input_beats, layer_inputs, schedule


def figures(net, x, lanes, latency_images: int) -> tuple[float, float]:
    """(mean latency of one image alone, streamed cycles per image)."""
    design = plan(net, lanes)
    inputs = layer_inputs(x, spikeshift.trace(net, x))
    beats = input_beats(x, direct=net.input.direct)
    streamed = schedule(design, inputs, beats).total / len(x)
    alone = [schedule(design, tuple(v[i:i + 1] for v in inputs), beats[i:i + 1]).latency[0]
             for i in range(min(latency_images, len(x)))]
    return float(np.mean(alone)), float(streamed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("net", type=Path)
    parser.add_argument("inputs", type=Path, help="(batch, T, size) .npy")
    parser.add_argument("--lanes", nargs="+", default=["16,10", "64,10"])
    parser.add_argument("--fmax", nargs="*", default=[], metavar="LANES=MHZ",
                        help="measured Fmax of a lane count, for µs per image")
    parser.add_argument("--latency-images", type=int, default=200)
    args = parser.parse_args()
    net = spikeshift.Network.load(args.net)
    x = np.load(args.inputs)
    fmax = dict(item.split("=") for item in args.fmax)
    encodings = {net.input.encoding: net}
    other = "per_timestep" if net.input.direct else "direct"
    if other == "per_timestep" or (x == x[:, :1]).all():
        encodings[other] = net.with_encoding(other)
    print(f"| lanes | {' | '.join(f'{e}: latency / streamed cycles' for e in encodings)} "
          f"| µs per image alone ({net.input.encoding}) |")
    print("| --- " * (len(encodings) + 2) + "|")
    for lanes in tqdm(args.lanes, desc="lanes"):
        cells = []
        for variant in encodings.values():
            latency, streamed = figures(variant, x, [int(p) for p in lanes.split(",")],
                                        args.latency_images)
            cells.append(f"{latency:,.1f} / {streamed:,.1f}")
            if variant is net:
                alone = latency
        us = (f"{alone / float(fmax[lanes]):.1f} at {fmax[lanes]} MHz" if lanes in fmax
              else "")
        print(f"| {lanes} | {' | '.join(cells)} | {us} |")


if __name__ == "__main__":
    main()
