"""The main job: digits -> QCFS/PoT training -> SNN -> golden model -> RTL verification -> report.

Run with ``make demo`` (or ``python examples/digits/demo.py --out build/demo``).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).parent))
from qcfs_numpy import QcfsMlp, accuracy, train  # noqa: E402

import spikeshift  # noqa: E402
from spikeshift.gen.flow.report import format_report  # noqa: E402
from spikeshift.gen.frontends.convert import qcfs_mlp_to_network  # noqa: E402
from spikeshift.sim.rtl_run import TestbenchFailed  # noqa: E402

INPUT_BITS = 4


def load_data(seed: int = 0):
    """Digits (8x8, 0..16) as 4-bit integers, split 80/20 with a fixed seed."""
    digits = load_digits()
    x = np.minimum(digits.data, (1 << INPUT_BITS) - 1).astype(np.int64)
    return train_test_split(x, digits.target, test_size=0.2, random_state=seed,
                            stratify=digits.target)


def float_description(model: QcfsMlp, *, timesteps: int, name: str) -> dict:
    """The trained model as the float description the converted SNN stands for (IF, θ = λ,
    v_init = λ/2, a spike worth λ, integrator read-out): what `spikeshift quantize` and
    `spikeshift explore` quantize again for other weight formats and timesteps."""
    layers, unit = [], model.input_scale
    for index, (w, b) in enumerate(zip(model.weights, model.biases)):
        last = index == len(model.weights) - 1
        neuron = {"model": "integrator"} if last else {
            "model": "if", "threshold": model.clips[index], "v_init": model.clips[index] / 2,
            "reset": "subtract", "spike_bits": 1}
        layers.append({"kind": "dense", "size": w.shape[0], "weights": (w * unit).tolist(),
                       "bias": b.tolist() if b.any() else None, "neuron": neuron})
        unit = None if last else model.clips[index]
    return {"format": "spikeshift-float-network", "version": 1, "name": name,
            "timesteps": timesteps, "input": {"size": model.weights[0].shape[1],
                                              "bits": INPUT_BITS, "encoding": "direct"},
            "layers": layers, "output": {"mode": "membrane"}}


def build_network(*, hidden: int = 64, levels: int = 8, timesteps: int = 8, e_max: int = 7,
                  epochs: int = 30, verbose: bool = True, float_out: Path | None = None):
    """Train and convert; returns (network, data, accuracies). With `float_out`, the float
    description of the trained model is written there too."""
    x_train, x_test, y_train, y_test = load_data()
    model = QcfsMlp.create([x_train.shape[1], hidden, 10], levels=levels,
                           input_scale=1 / ((1 << INPUT_BITS) - 1), e_max=e_max)
    train(model, x_train, y_train, epochs=epochs, desc="float QCFS training")
    float_acc = accuracy(model, x_test, y_test)
    model.quantize = True
    train(model, x_train, y_train, epochs=epochs // 2, lr=1e-3, seed=1,
          desc="PoT quantization-aware training")
    pot_acc = accuracy(model, x_test, y_test)
    net, errors = qcfs_mlp_to_network(model.weights, model.biases, model.clips,
                                      input_bits=INPUT_BITS, timesteps=timesteps, e_max=e_max,
                                      name="digits-mlp")
    if float_out is not None:
        description = float_description(model, timesteps=timesteps, name="digits-mlp")
        Path(float_out).write_text(json.dumps(description) + "\n")
    if verbose:
        for index, e in enumerate(errors):
            print(f"layer {index}: scale 2^{int(np.log2(e.scale))}, weight RMS error "
                  f"{e.weight_rms_error:.3f}, weights zeroed {e.zeroed:.1%}, "
                  f"threshold rounding {e.threshold_error:.2%}")
    return net, (x_train, x_test, y_train, y_test), {"float": float_acc, "pot": pot_acc}


def direct_input(x: np.ndarray, timesteps: int) -> np.ndarray:
    """Direct encoding: the same integer pixels every timestep, shape (batch, T, 64); the
    network says so (``input.encoding: "direct"``), so the hardware receives each image once."""
    return np.repeat(x[:, None, :], timesteps, axis=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/demo"))
    parser.add_argument("--rtl-samples", type=int, default=20)
    args = parser.parse_args(argv)
    start = time.time()
    args.out.mkdir(parents=True, exist_ok=True)

    net, (_, x_test, _, y_test), acc = build_network(float_out=args.out / "digits-mlp-float.json")
    net.save(args.out / "digits-mlp.json")
    x = direct_input(x_test, net.timesteps)
    np.save(args.out / "digits-test-inputs.npy", x)
    np.save(args.out / "digits-test-labels.npy", y_test)
    _, classes = spikeshift.predict(net, x)
    print("\naccuracy on the digits test split "
          f"({len(y_test)} images):")
    print(f"  float QCFS ANN        {acc['float']:.2%}")
    print(f"  PoT QCFS ANN          {acc['pot']:.2%}")
    for t in (1, 2, 4, 8, 16):
        net_t = spikeshift.Network(name=net.name, timesteps=t, input=net.input,
                                   layers=net.layers, output=net.output)
        _, c = spikeshift.predict(net_t, direct_input(x_test, t))
        marker = "  <- generated" if t == net.timesteps else ""
        print(f"  golden SNN, T = {t:<2}    {float((c == y_test).mean()):.2%}{marker}")

    n = args.rtl_samples
    print(f"\nverifying the generated Verilog (Icarus, cocotb) on {n} test images ...")
    try:
        result = spikeshift.verify(net, x[:n], build_dir=args.out / "verify")
    except TestbenchFailed as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    if not result.ok:
        print(f"MISMATCH: {result.first_difference}", file=sys.stderr)
        return 1
    rtl_acc = float((result.classes == y_test[:n]).mean())
    golden_acc = float((classes[:n] == y_test[:n]).mean())
    print("RTL == golden on every output, every layer-timestep cycle count and every latency")
    print(f"accuracy on these {n} images: RTL {rtl_acc:.2%}, golden {golden_acc:.2%}")
    print(f"mean latency {result.latency.mean():.0f} cycles per image\n")
    print(format_report(result.report), end="")
    print(f"\nwrote {args.out}/digits-mlp.json, digits-mlp-float.json and the generated design in "
          f"{args.out}/verify/rtl ({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
