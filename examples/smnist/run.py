"""Row-sequential MNIST on a recurrent SNN: snnTorch trains it, spikeshift imports it.

    python examples/smnist/run.py                 # make example-smnist

Each image is 28 timesteps of one 28-pixel row (4-bit integer pixels 0..15, direct input),
from the MNIST subset the other examples use. The network is Linear(28, H) -> RLeaky (IF
neurons, reset by subtraction, all-to-all recurrent weights) -> Linear(H, 10) -> a Leaky
read-out that never fires, whose final membrane is the class score.

Training is quantization-aware: every weight and bias is ``s * round(w / s)`` on a
power-of-two grid ``s`` per layer, clamped to ``--weight-bits`` signed integers, with the
straight-through gradient, and the hidden threshold is 1 (``1 / s`` integer units). snnTorch's
own float simulation of the trained network is then exact integer arithmetic, which is what
makes its NIR export import exactly (snntorch preset). The table gives float, quantized
(snnTorch), golden (spikeshift) and RTL accuracy, and checks that the quantized network and
the imported one classify every test image alike.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import snntorch as snn
import torch
from snntorch import utils
from snntorch.export_nir import export_to_nir
from torch.nn.utils import parametrize
from tqdm import tqdm

import spikeshift
from spikeshift.gen.frontends.nir import PRESETS, import_nir
from spikeshift.sim import plots

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datasets import load_rows  # noqa: E402  (examples/datasets.py)

ROWS = COLUMNS = 28
INPUT_BITS = 4
#: The grid of each layer's weights and biases: 2^-8 for the input and recurrent weights (one
#: neuron unit, so one grid), 2^-6 for the read-out.
GRID_SHIFTS = (8, 6)
NEVER = 2.0 ** 20            # the read-out's threshold: far above any membrane it reaches


class Grid(torch.nn.Module):
    """Fake quantization to ``step * round(w / step)`` within `bits` signed integers, with the
    straight-through gradient."""

    def __init__(self, step: float, bits: int):
        super().__init__()
        self.step, self.limit = step, ((1 << (bits - 1)) - 1) * step

    def quantize(self, w):
        return torch.clamp(torch.round(w / self.step) * self.step, -self.limit, self.limit)

    def forward(self, w):
        return w + (self.quantize(w) - w).detach()


def build(hidden: int) -> torch.nn.Sequential:
    torch.manual_seed(0)
    rleaky = snn.RLeaky(beta=torch.ones(hidden), threshold=torch.ones(hidden),
                        linear_features=hidden, reset_mechanism="subtract", init_hidden=True)
    readout = snn.Leaky(beta=torch.ones(10), threshold=torch.full((10,), NEVER),
                        reset_mechanism="none", init_hidden=True, output=True)
    net = torch.nn.Sequential(torch.nn.Linear(COLUMNS, hidden), rleaky,
                              torch.nn.Linear(hidden, 10), readout)
    with torch.no_grad():
        net[0].weight.mul_(1 / 15)           # inputs are integer pixels up to 15
    return net


def quantized_modules(net):
    """(module, grid shift) of every weight layer: input and recurrent weights share one."""
    return [(net[0], GRID_SHIFTS[0]), (net[1].recurrent, GRID_SHIFTS[0]),
            (net[2], GRID_SHIFTS[1])]


def enable_qat(net, bits: int):
    for module, shift in quantized_modules(net):
        for name in ("weight", "bias"):
            parametrize.register_parametrization(module, name, Grid(2.0 ** -shift, bits))


def freeze_quantized(net, bits: int):
    """Replace each parametrized weight by its exact grid value (for the export)."""
    for module, shift in quantized_modules(net):
        for name in ("weight", "bias"):
            parametrize.remove_parametrizations(module, name, leave_parametrized=True)
            with torch.no_grad():
                getattr(module, name).copy_(Grid(2.0 ** -shift, bits).quantize(
                    getattr(module, name)))


def scores(net, x: torch.Tensor) -> torch.Tensor:
    """The read-out's final membranes for rows `x` (batch, 28, 28), simulated by snnTorch."""
    utils.reset(net)
    for t in range(ROWS):
        _, mem = net(x[:, t])
    return mem


def fit(net, x, y, *, epochs, lr, desc):
    torch.manual_seed(1)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    for _ in tqdm(range(epochs), desc=desc, unit="epoch"):
        for idx in torch.randperm(len(xt)).split(128):
            opt.zero_grad()
            logits = scores(net, xt[idx]) / 8
            torch.nn.functional.cross_entropy(logits, yt[idx]).backward()
            opt.step()
        sched.step()


def predict(net, x) -> np.ndarray:
    with torch.no_grad():
        return scores(net, torch.tensor(x, dtype=torch.float32)).argmax(1).numpy()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--weight-bits", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--qat-epochs", type=int, default=6)
    parser.add_argument("--rtl-samples", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("build/smnist"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()

    rows_train, rows_test, y_train, y_test = load_rows()
    net = build(args.hidden)
    fit(net, rows_train, y_train, epochs=args.epochs, lr=2e-3, desc="float training")
    results = {"float SNN (snnTorch)": float((predict(net, rows_test) == y_test).mean())}
    tqdm.write(f"float SNN (snnTorch): {results['float SNN (snnTorch)']:.2%}")
    enable_qat(net, args.weight_bits)
    fit(net, rows_train, y_train, epochs=args.qat_epochs, lr=5e-4, desc="integer QAT")
    freeze_quantized(net, args.weight_bits)
    quantized = predict(net, rows_test)
    results[f"int{args.weight_bits} SNN (snnTorch)"] = float((quantized == y_test).mean())
    tqdm.write(f"int{args.weight_bits} SNN (snnTorch): {(quantized == y_test).mean():.2%}")

    imported = import_nir(export_to_nir(net, torch.zeros(COLUMNS)),
                          conventions=PRESETS["snntorch"], timesteps=ROWS,
                          input_bits=INPUT_BITS, output="membrane", name="smnist")
    network = imported.network
    network.save(args.out / "smnist.json")
    np.save(args.out / "test_inputs.npy", rows_test)
    _, golden = spikeshift.predict(network, rows_test)
    results["golden (spikeshift)"] = float((golden == y_test).mean())
    agree = int((golden == quantized).sum())
    tqdm.write(f"golden (spikeshift): {results['golden (spikeshift)']:.2%}, the same class as "
               f"snnTorch for {agree} of {len(y_test)} test images")
    verification = spikeshift.verify(network, rows_test[:args.rtl_samples],
                                     build_dir=args.out / "verify")
    results["RTL"] = {"samples": args.rtl_samples, "equal_to_golden": verification.ok,
                      "accuracy": float((verification.classes ==
                                         y_test[:args.rtl_samples]).mean()),
                      "mean_latency_cycles": float(verification.latency.mean())}

    trace = spikeshift.trace(network, rows_test[:1])
    plots.spike_raster(trace, args.out / "spike_raster.png", title="smnist: sample 0")
    plots.membrane_traces(network, trace, args.out / "membranes.png", neurons=range(6))

    rows = [f"| {key} | {value:.2%} |" for key, value in results.items()
            if not isinstance(value, dict)]
    rtl = results["RTL"]
    rows.append(f"| RTL, {rtl['samples']} test sequences | {rtl['accuracy']:.2%} "
                f"({'equal to golden' if rtl['equal_to_golden'] else 'MISMATCH'}) |")
    table = "\n".join([(f"row-sequential MNIST, 28 x 28-pixel rows, H = {args.hidden} "
                       f"({len(y_test)} test images)"), "", "| stage | accuracy |",
                       "| ----- | -------- |"] + rows)
    print("\n" + table)
    print(f"golden and quantized snnTorch classify {agree} of {len(y_test)} test images alike")
    print(imported.text())
    (args.out / "results.md").write_text(table + "\n")
    (args.out / "results.json").write_text(json.dumps({**results, "agree": agree}, indent=1))
    print(f"wrote {args.out} ({time.time() - started:.0f} s)")
    return 0 if verification.ok and agree == len(y_test) else 1


if __name__ == "__main__":
    sys.exit(main())
