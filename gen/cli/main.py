"""The ``spikeshift`` command line (DESIGN.md §7)."""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["main"]


def _lanes(text: str):
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--lanes must be an integer or a comma-separated list of integers, "
            f"not {text!r}") from None
    return parts[0] if len(parts) == 1 else parts


def _save_npz(path: Path, **arrays) -> None:
    """Write an .npz atomically: a failed run leaves no half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_inputs(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"INPUTS {path!r} is not a readable .npy array: {error}") from None


def _measured_counts(net, inputs):
    """Input spikes per layer and timestep of the golden model on `inputs` (None: no data)."""
    if not inputs:
        return None
    from ...sim.cycles import input_spike_counts
    from ...sim.golden import trace
    x = _load_inputs(inputs)
    return input_spike_counts(x, trace(net, x))


def _cmd_generate(args):
    from ..flow.generator import generate
    from ..ir.network import Network
    net = Network.load(args.net)
    counts = _measured_counts(net, args.inputs)
    out = generate(net, args.output, lanes=args.lanes, counts=counts)
    print((out.out_dir / "report.txt").read_text(), end="")
    print(f"wrote {out.verilog}, {out.out_dir / 'mem'}, {out.out_dir / 'report.json'}")
    return 0


def _cmd_predict(args):
    from ...sim.golden import trace
    from ..ir.network import Network
    net = Network.load(args.net)
    x = _load_inputs(args.inputs)
    result = trace(net, x)
    arrays = {"outputs": result.outputs, "classes": result.classes}
    if args.trace:
        for index, (spikes, membranes) in enumerate(zip(result.spikes, result.membranes)):
            arrays[f"layer{index}_spikes"] = spikes
            arrays[f"layer{index}_membranes"] = membranes
    _save_npz(args.output, **arrays)
    print(f"{len(x)} samples -> {args.output} (classes: {np.bincount(result.classes).tolist()})")
    return 0


def _cmd_verify(args):
    from ...sim.rtl_run import TestbenchFailed
    from ..flow.verify import verify
    from ..ir.network import Network
    net = Network.load(args.net)
    x = _load_inputs(args.inputs)
    try:
        result = verify(net, x, lanes=args.lanes, simulator=args.simulator,
                        build_dir=args.build_dir, seed=args.seed)
    except TestbenchFailed as error:
        # A failed check is a verification failure (exit 1), not a usage error (exit 2).
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    if args.output:
        _save_npz(args.output, outputs=result.outputs, classes=result.classes,
                  last_flags=result.last_flags, step_cycles=result.step_cycles,
                  latency=result.latency, expected_outputs=result.expected_outputs,
                  expected_last_flags=result.expected_last_flags,
                  expected_step_cycles=result.expected_step_cycles,
                  expected_latency=result.expected_latency, ok=result.ok)
    if not result.ok:
        print(f"MISMATCH: {result.first_difference}", file=sys.stderr)
        print(f"{len(result.mismatches)} differences shown of the first found", file=sys.stderr)
        return 1
    print(f"OK: {len(x)} samples, every output ({result.outputs.size} values) and its `last` "
          f"flag, every layer-timestep cycle count ({result.step_cycles.size}) "
          + ("" if args.seed is not None else f"and every latency ({result.latency.size}) ")
          + "equal the golden and cycle models")
    print(f"mean latency {result.latency.mean():.1f} cycles per sample")
    return 0


def _cmd_report(args):
    from ..flow.report import build_report, format_report
    from ..ir.design import plan
    from ..ir.network import Network
    net = Network.load(args.net)
    counts = _measured_counts(net, args.inputs)
    report = build_report(plan(net, args.lanes), counts=counts)
    if args.flow:
        from ..flow.report import add_flow_results
        report = add_flow_results(report, args.flow)
    print(json.dumps(report, indent=1) if args.json else format_report(report), end="")
    return 0


def _cmd_import(args):
    from ..frontends.nir import PRESETS, Conventions, import_nir
    base = PRESETS[args.preset]
    fields = {"dt": base.dt, "reset": base.reset, "reset_delay": base.reset_delay,
              "fire": base.fire, "infinite_tau_gain": base.infinite_tau_gain}
    for key in ("dt", "reset", "reset_delay", "fire"):
        if getattr(args, key) is not None:
            fields[key] = getattr(args, key)
    result = import_nir(args.model, conventions=Conventions(**fields), timesteps=args.timesteps,
                        input_bits=args.input_bits, weights=args.weights, lossy=args.lossy,
                        weight_bits=args.weight_bits, output=args.output_mode,
                        name=Path(args.model).stem)
    result.network.save(args.output)
    if result.notes:
        print(result.text())
    print(f"wrote {args.output}: {len(result.network.layers)} layers, "
          f"{[layer.size for layer in result.network.layers]} neurons")
    return 0


def _cmd_quantize(args):
    source = Path(args.source)
    x = _load_inputs(args.data) if args.data else None
    labels = np.load(args.labels) if args.labels else None
    if source.suffix in (".pt", ".pth"):
        import torch

        from ..frontends.torch_qcfs import sequential_to_network
        from ..ir.weights import PotWeights
        if args.timesteps is None:
            raise ValueError("--timesteps is required for a PyTorch checkpoint")
        model = torch.load(source, weights_only=False)
        if args.weights != "pot":
            raise ValueError("a QCFS checkpoint converts with PoT weights; --weights must be "
                             "'pot', not 'int'")
        net, errors = sequential_to_network(model, input_bits=args.input_bits,
                                            timesteps=args.timesteps,
                                            e_max=PotWeights.e_max_for_bits(args.bits),
                                            name=source.stem)
        from ..frontends.quantize import QuantizationReport
        report = QuantizationReport(layers=[
            {"layer": i, "weight_rms_error": round(e.weight_rms_error, 4),
             "zeroed": f"{e.zeroed:.1%}", "threshold_error": f"{e.threshold_error:.3%}"}
            for i, e in enumerate(errors)])
        if x is not None and labels is not None:
            from ...sim.golden import predict
            report.accuracy["quantized accuracy"] = float((predict(net, x)[1] == labels).mean())
    else:
        from ..frontends.quantize import load_float_network, quantize_network
        float_net = load_float_network(source)
        if args.timesteps is not None:
            float_net = type(float_net)(**{**float_net.__dict__, "timesteps": args.timesteps})
        net, report = quantize_network(float_net, weights=args.weights, bits=args.bits)
        if x is not None:
            from ..flow.evaluate import evaluate_quantization
            evaluate_quantization(float_net, net, report, x, labels)
    text = report.text()
    net.save(args.output)
    print(text)
    if args.report:
        report_path = Path(args.report)
        report_path.write_text(json.dumps(report.to_json(), indent=1) + "\n"
                               if report_path.suffix == ".json" else text + "\n")
    print(f"wrote {args.output}")
    return 0


def _cmd_plot(args):
    from ...sim import plots
    from ...sim.golden import trace
    from ..ir.network import Network
    net = Network.load(args.net)
    x = _load_inputs(args.inputs)
    if not 0 <= args.sample < len(x):
        raise ValueError(f"--sample must be in [0, {len(x) - 1}], not {args.sample}")
    result = trace(net, x[args.sample:args.sample + 1])
    out = Path(args.output)
    written = [plots.spike_raster(result, out / "spike_raster.png",
                                  title=f"{net.name}: sample {args.sample}"),
               plots.weight_histograms(net, out / "weights.png")]
    for index in range(len(net.layers)):
        written.append(plots.membrane_traces(net, result, out / f"membranes_layer{index}.png",
                                             layer=index, neurons=args.neurons,
                                             title=f"layer {index}, sample {args.sample}"))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _cmd_build(args):
    from ...boards.flow import ToolMissing, run_step
    from ..ir.network import Network
    net = Network.load(args.net)
    try:
        report = run_step(args.step, net, args.board, args.output, lanes=args.lanes,
                          inputs=args.inputs, network_path=str(args.net))
    except ToolMissing as error:
        print(f"spikeshift build: stopped: {error}", file=sys.stderr)
        return 3
    shown = {k: v for k, v in report.items() if k not in ("fit_estimate",)}
    print(json.dumps(shown, indent=1))
    return 0


def _positive(kind: type, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {what}, not {text!r}")
        return value
    return parse


def _cmd_run(args):
    import serial

    from ...boards.host import run_on_board
    from ...boards.link_top import DEFAULT_BAUD
    from ..ir.link import LinkError
    from ..ir.network import Network
    net = Network.load(args.net)
    x = _load_inputs(args.inputs)
    baud = args.baud or DEFAULT_BAUD

    def failed(message: str) -> int:
        print(f"spikeshift run: error: {message}", file=sys.stderr)
        return 2

    try:
        port = serial.serial_for_url(args.port, baudrate=baud, timeout=args.timeout)
    except (serial.SerialException, ValueError) as error:
        return failed(f"--port {args.port!r} cannot be opened ({error}); pass the board's "
                      f"serial port (python -m serial.tools.list_ports lists them) or a "
                      f"pyserial URL")
    try:
        with port:
            result = run_on_board(net, x, port, chunk=args.chunk)
    except (TimeoutError, LinkError) as error:
        return failed(f"--port {args.port!r} at --baud {baud} with --timeout {args.timeout} s: "
                      f"{error}")
    except serial.SerialException as error:
        return failed(f"--port {args.port!r} failed during the run ({error}); check the "
                      f"board's connection and run again")
    if args.output:
        _save_npz(args.output, outputs=result["outputs"], classes=result["classes"])
    if not result["ok"]:
        print(f"MISMATCH: {result['first_difference']} (with the board's LED 1 lit, it "
              f"dropped an input frame: the link, not the accelerator)", file=sys.stderr)
        return 1
    chunks = -(-len(x) // args.chunk)
    resent = f" ({result['resent']} of {chunks} chunks sent again after a corrupted answer)" \
        if result["resent"] else ""
    print(f"OK: {len(x)} samples on the {args.board} equal the golden model{resent}")
    return 0


def _parser() -> argparse.ArgumentParser:
    from ...boards.flow import STEPS
    from ...boards.registry import BOARDS
    from ...sim.rtl_run import SIMULATORS
    from ..frontends.nir import FIRE_RULES, PRESETS, RESET_RULES
    from ..ir.design import LANES_HELP
    from ..ir.network import OUTPUT_MODES
    from ..ir.weights import WEIGHT_FORMATS
    parser = argparse.ArgumentParser(prog="spikeshift", description=(
        "Quantized spiking neural networks to verified FPGA accelerators."))
    sub = parser.add_subparsers(dest="command", required=True)
    lanes_help = LANES_HELP

    p = sub.add_parser("generate", help="Verilog top, memory images and report")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--lanes", type=_lanes, help=lanes_help)
    p.add_argument("--inputs", metavar="INPUTS.npy", help="add measured activity to the report")
    p.set_defaults(run=_cmd_generate)

    p = sub.add_parser("predict", help="run the golden model")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("inputs", metavar="INPUTS.npy", help="integers, shape (batch, T, input.size)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.npz")
    p.add_argument("--trace", action="store_true", help="store every layer's spikes and "
                                                        "membranes per timestep")
    p.set_defaults(run=_cmd_predict)

    p = sub.add_parser("verify", help="simulate the generated Verilog and compare with the "
                                      "golden and cycle models")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("inputs", metavar="INPUTS.npy")
    p.add_argument("-o", "--output", metavar="OUT.npz")
    p.add_argument("--simulator", default="icarus", choices=SIMULATORS)
    p.add_argument("--lanes", type=_lanes, help=lanes_help)
    p.add_argument("--seed", type=int, help="random input gaps and output backpressure")
    p.add_argument("--build-dir", type=Path, help="keep the Verilog and simulation files here")
    p.set_defaults(run=_cmd_verify)

    p = sub.add_parser("import", help="NIR graph -> network description (exact, or refused)")
    p.add_argument("model", metavar="MODEL.nir")
    p.add_argument("-o", "--output", required=True, metavar="NET.json")
    p.add_argument("--preset", required=True, choices=list(PRESETS),
                   help="the exporting framework's conventions")
    p.add_argument("--timesteps", required=True, type=int)
    p.add_argument("--input-bits", type=int, default=1)
    p.add_argument("--dt", type=float, help="seconds per timestep (overrides the preset)")
    p.add_argument("--reset", choices=RESET_RULES, help="reset rule")
    p.add_argument("--reset-delay", action=argparse.BooleanOptionalAction, default=None,
                   help="the reset takes effect one timestep late (snnTorch's default)")
    p.add_argument("--fire", choices=FIRE_RULES, help="comparison with the threshold")
    p.add_argument("--weights", choices=list(WEIGHT_FORMATS), default="int")
    p.add_argument("--weight-bits", type=int, default=8, help="with --lossy: int weight range")
    p.add_argument("--lossy", action="store_true",
                   help="quantize what cannot be exact (reported) instead of refusing")
    p.add_argument("--output-mode", choices=OUTPUT_MODES)
    p.set_defaults(run=_cmd_import)

    p = sub.add_parser("build", help="one named step of a board flow: verilog, sim, "
                                      "estimate, bitstream")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("--board", required=True, choices=list(BOARDS))
    p.add_argument("--step", required=True, choices=STEPS)
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--lanes", type=_lanes, help=lanes_help)
    p.add_argument("--inputs", metavar="INPUTS.npy", help="samples for the sim step")
    p.set_defaults(run=_cmd_build)

    p = sub.add_parser("run", help="stream inputs through a board over its UART link and "
                                    "compare with the golden model")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("inputs", metavar="INPUTS.npy")
    p.add_argument("--board", required=True,
                   choices=[name for name, board in BOARDS.items() if board.flow == "open"])
    p.add_argument("--port", required=True, help="serial port or pyserial URL")
    p.add_argument("--baud", type=_positive(int, "integer"),
                   help="the board's link rate (default: the flows' rate)")
    p.add_argument("--timeout", type=_positive(float, "number of seconds"), default=10.0,
                   help="seconds to wait for a chunk's results")
    p.add_argument("--chunk", type=_positive(int, "integer"), default=16,
                   help="samples sent before their results are read")
    p.add_argument("-o", "--output", metavar="OUT.npz")
    p.set_defaults(run=_cmd_run)

    p = sub.add_parser("quantize", help="float description or PyTorch QCFS checkpoint -> "
                                         "network description, with an error report")
    p.add_argument("source", metavar="FLOAT.json|MODEL.pt")
    p.add_argument("-o", "--output", required=True, metavar="NET.json")
    p.add_argument("--weights", choices=list(WEIGHT_FORMATS), default="pot")
    p.add_argument("--bits", type=int, default=4,
                   help="weight code bits (PoT: sign + exponent field with a zero code)")
    p.add_argument("--timesteps", type=int)
    p.add_argument("--input-bits", type=int, default=4, help="PyTorch checkpoints: input bits")
    p.add_argument("--data", metavar="INPUTS.npy", help="inputs for accuracy and headroom")
    p.add_argument("--labels", metavar="LABELS.npy")
    p.add_argument("--report", metavar="FILE", help="also write the report here (JSON when "
                                                     "FILE ends in .json)")
    p.set_defaults(run=_cmd_quantize)

    p = sub.add_parser("plot", help="spike raster, membrane traces, weight histograms (PNG)")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("inputs", metavar="INPUTS.npy")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--sample", type=int, default=0)
    p.add_argument("--neurons", type=lambda t: [int(v) for v in t.split(",")],
                   default=[0, 1, 2, 3], help="membrane traces of these neurons (0,1,2)")
    p.set_defaults(run=_cmd_plot)

    p = sub.add_parser("report", help="estimates without synthesis")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("--lanes", type=_lanes, help=lanes_help)
    p.add_argument("--inputs", metavar="INPUTS.npy", help="add measured activity")
    p.add_argument("--flow", metavar="DIR", help="add a board flow's resources and Fmax "
                                                 "(build/<board>)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_report)
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as error:
        print(f"spikeshift {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
