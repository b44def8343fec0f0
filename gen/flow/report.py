"""The generation report (DESIGN.md §8): per layer sizes, memories, lanes, cycles, operations.

Energy figures are first-order estimates from published 45 nm numbers (Horowitz, ISSCC 2014),
not a measurement of any FPGA: each synaptic event of the SNN costs one addition and the
read of its weight code; each synapse of the equivalent ANN layer costs one multiply, one
addition and the read of an 8-bit weight. Without measured activity the SNN figure is its
worst case (every input non-zero at every timestep).
"""

import numpy as np

from ...sim.cycles import input_beats
from ..ir.blocks import BLOCK_BITS, blocks_minimum
from ..ir.design import Design
from ..ir.neuron import Neuron, ShiftLeak, SubtractLeak, value_range

__all__ = ["build_report", "add_flow_results", "format_report", "ENERGY_PJ"]

#: pJ per operation, 45 nm (Horowitz 2014): 32-bit int add and multiply, and one bit of a
#: 64-bit read from an 8 KB SRAM (10 pJ / 64).
ENERGY_PJ = {"add32": 0.1, "mul32": 3.1, "sram_bit": 10.0 / 64}
ANN_WEIGHT_BITS = 8
#: the report rows' weight memories (`LayerPlan.report_row`)
WEIGHT_MEMORIES = ("weight_memory", "recurrent_memory")


def _read_bound(entry: dict, memory: dict) -> str:
    """Why a weight memory takes more blocks than its bits need: a cycle's reads."""
    if memory.get("read_blocks", 0) <= memory["minimum_blocks"]:
        return ""
    reads = f"{entry['entries_per_cycle']} x " if entry["entries_per_cycle"] > 1 else ""
    return f" ({memory['read_blocks']} to read {reads}{memory['width']} bits a cycle)"


def build_report(design: Design, *, inputs=None, rtl_cycles: np.ndarray | None = None) -> dict:
    """Report data; `inputs` (per layer the (batch, T, event_size) values it receives,
    `spikeshift.sim.cycles.layer_inputs`) adds measured figures.

    Each row holds the fields every kind has, then the kind's own (`LayerPlan.report_row`).
    """
    net = design.network
    layers = []
    for index, (layer, lp) in enumerate(design.pairs()):
        every_input = np.ones(lp.event_size, np.int64)   # the worst case: no input silent
        entry = {
            "index": index, "kind": layer.kind, "neurons": lp.size, "lanes": lp.lanes,
            "accumulator_bits": lp.accumulator.bits, "input_value_bits": lp.in_value.bits,
            "entries_per_cycle": lp.entries_per_cycle,
            **lp.report_row(layer),
            "memories": [{"name": m.name, "depth": m.depth, "width": m.width, "bits": m.bits}
                         for m in lp.memories],
            **({} if layer.neuron is None else {"neuron": _neuron_entry(layer.neuron)}),
            "cycle_formula": lp.cycle_formula,
            "worst_case_cycles_per_timestep": int(lp.step_cycles(every_input)),
            "multipliers": lp.multipliers,
            "worst_case_sops_per_inference": int(lp.synaptic_events(
                np.ones((net.timesteps, lp.event_size), np.int64)).sum()),
        }
        if inputs is not None:
            values = inputs[index]
            events = lp.synaptic_events(values).sum(axis=1).mean()
            entry["mean_input_spikes_per_timestep"] = float(
                np.count_nonzero(values[..., :lp.in_size], axis=-1).mean())
            if lp.event_size > lp.in_size:
                entry["mean_fed_back_spikes_per_timestep"] = float(
                    np.count_nonzero(values[..., lp.in_size:], axis=-1).mean())
            entry["sops_per_inference"] = float(events)
            entry["model_cycles_per_inference"] = float(lp.step_cycles(values).sum(axis=1)
                                                        .mean())
            # every lane adds `entries_per_cycle` products per cycle
            entry["ideal_cycles_per_inference"] = float(events / (lp.lanes
                                                                  * lp.entries_per_cycle))
            entry["lane_utilisation"] = (entry["ideal_cycles_per_inference"]
                                         / entry["model_cycles_per_inference"])
            if rtl_cycles is not None:
                entry["rtl_cycles_per_inference"] = float(rtl_cycles[..., index].sum(axis=1)
                                                          .mean())
        for name in WEIGHT_MEMORIES:
            if name in entry:       # every block bit used
                entry[name]["minimum_blocks"] = blocks_minimum(entry[name]["minimum_bits"])
        layers.append(entry)
    measured = inputs is not None
    # Host traffic: the input beats of an inference (a direct sample's once).
    x = inputs[0][..., :net.input.size] if measured else np.ones((1, net.timesteps,
                                                                   net.input.size), np.int64)
    beats = float(input_beats(x, direct=net.input.direct).sum(axis=1).mean())
    key = "sops_per_inference" if measured else "worst_case_sops_per_inference"
    sops = sum(e[key] for e in layers)
    snn_pj = sum(e[key] * (ENERGY_PJ["add32"]
                           + e.get("weight_code_bits", 0) * ENERGY_PJ["sram_bit"])
                 for e in layers)
    ann_pj = sum(e.get("synapses", 0) + e.get("recurrent_synapses", 0) for e in layers) * (
        ENERGY_PJ["mul32"] + ENERGY_PJ["add32"] + ANN_WEIGHT_BITS * ENERGY_PJ["sram_bit"])
    report = {
        "network": net.name, "timesteps": net.timesteps, "input_size": net.input.size,
        "input_bits": net.input.bits, "input_encoding": net.input.encoding,
        "output_mode": net.output.mode,
        "result_bits": design.result.bits, "layers": layers,
        "totals": {
            **{f"weight_memory_{key}": sum(e[name][key] for e in layers
                                           for name in WEIGHT_MEMORIES if name in e)
               for key in ("bits", "minimum_bits", "blocks", "minimum_blocks")},
            "memory_bits": sum(m["bits"] for e in layers for m in e["memories"]),
            "multipliers": sum(e["multipliers"] for e in layers),
            "sops_per_inference": sops,
            "input_beats_per_inference": beats,
            "activity": "measured" if measured else "worst case",
            "energy_pj_per_inference": round(snn_pj, 1),
            "ann_mac_energy_pj": round(ann_pj, 1),
        },
        "energy_model": "45 nm first-order (Horowitz 2014): per synaptic event a 32-bit add "
                        "and its weight-code read; ANN: per synapse a 32-bit multiply, add and "
                        "8-bit weight read",
    }
    if inputs is not None:
        report["totals"]["measured_on_samples"] = int(inputs[0].shape[0])
        slowest = max(e["model_cycles_per_inference"] for e in layers)
        slots = [e["lanes"] * e["entries_per_cycle"] for e in layers]
        report["totals"]["streamed_lane_utilisation"] = sum(
            e["ideal_cycles_per_inference"] * s for e, s in zip(layers, slots)) / (
                sum(slots) * slowest)
    return report


def _value_entry(value):
    """A per-neuron value: the integer itself, or its range over the neurons."""
    if not isinstance(value, np.ndarray):
        return int(value)
    lo, hi = value_range(value)
    return {"per_neuron": True, "min": lo, "max": hi}


def _neuron_entry(n: Neuron) -> dict:
    entry = {"model": n.model, "summary": n.summary(), "v_bits": n.v.bits,
             "v_init": _value_entry(n.v_init)}
    if n.fires:
        entry |= {"threshold": _value_entry(n.threshold), "reset": n.reset,
                  "spike_bits": n.spike_bits}
    if isinstance(n.leak, ShiftLeak):
        entry["leak_shift"] = _value_entry(n.leak.shift)
    elif isinstance(n.leak, SubtractLeak):
        entry["leak_subtract"] = _value_entry(n.leak.amount)
    return entry


def add_flow_results(report: dict, flow_dir, design: Design) -> dict:
    """Add the resource counts and Fmax that a board flow's steps wrote to `flow_dir`; results
    made from another design (network or lanes) are refused, never attached."""
    import json
    from pathlib import Path
    flow = {}
    if not Path(flow_dir).is_dir():
        raise ValueError(f"--flow {str(flow_dir)!r} is not a folder")
    for step in ("estimate", "bitstream"):
        path = Path(flow_dir) / f"{step}.json"
        if path.exists():
            try:
                data = json.loads(path.read_text())
                made = data["made_from"]["design"]
            except (OSError, ValueError, KeyError, TypeError):
                raise ValueError(f"--flow {str(flow_dir)!r}: {path.name} is not a step record "
                                 f"of this version; build the step again") from None
            if made != design.fingerprint:
                other = data["made_from"]
                same_names = (other.get("network") == design.network.name
                              and other.get("lanes") == list(design.lanes))
                what = (f"a description of the same name and lanes whose contents differ "
                        f"(fingerprint {str(made)[:12]}, this one {design.fingerprint[:12]})"
                        if same_names else f"network {other.get('network')!r}, lanes "
                        f"{other.get('lanes')}, not {design.network.name!r} with lanes "
                        f"{list(design.lanes)}")
                raise ValueError(f"--flow {str(flow_dir)!r}: {path.name} was made from another "
                                 f"design ({what}); build this design's flow first")
            keep = ("board", "device", "command", "cells", "fmax_mhz", "fmax_mhz_by_seed",
                    "critical_path", "clock_mhz", "meets_clock", "utilisation", "bitstream")
            flow[step] = {k: v for k, v in data.items() if k in keep}
    if not flow:
        raise ValueError(f"--flow {str(flow_dir)!r} holds no estimate.json or bitstream.json")
    return {**report, "flow": flow}


def format_report(report: dict) -> str:
    """The report as a readable table."""
    title = (f"spikeshift report: {report['network']}  (T = {report['timesteps']}, input "
             f"{report['input_size']} x {report['input_bits']} bit, output "
             f"{report['output_mode']})")
    lines = [title, ""]
    head = (f"{'layer':>5} {'kind':>9} {'neurons':>7} {'synapses':>9} {'weights':>8} "
            f"{'mem bits':>10} {'lanes':>5} {'acc':>4} {'cycles per timestep':>24} "
            f"{'SOPs/inf':>10} {'mult':>4}")
    lines += [head, "-" * len(head)]
    for e in report["layers"]:
        sops = e.get("sops_per_inference", e["worst_case_sops_per_inference"])
        weights = (f"{e['weight_format']}{e['weight_code_bits']}" if "weight_format" in e
                   else "-")
        memory_bits = sum(m["bits"] for m in e["memories"])
        lanes = (e["lanes"] if e["entries_per_cycle"] == 1       # a paired core: "10x2"
                 else f"{e['lanes']}x{e['entries_per_cycle']}")
        lines.append(f"{e['index']:>5} {e['kind']:>9} {e['neurons']:>7} "
                     f"{e.get('synapses', '-'):>9} {weights:>8} {memory_bits:>10} {lanes:>5} "
                     f"{e['accumulator_bits']:>4} {e['cycle_formula']:>24} {sops:>10.0f} "
                     f"{e['multipliers']:>4}")
    t = report["totals"]
    lines += ["", (f"weight memory: {t['weight_memory_bits']} bits, the minimum "
                   f"{t['weight_memory_minimum_bits']} (every weight at its code width; all "
                   f"memories {t['memory_bits']}); multipliers (DSP): {t['multipliers']}"),
              (f"estimated energy per inference ({t['activity']} activity): "
               f"{t['energy_pj_per_inference']} pJ; the equivalent ANN: "
               f"{t['ann_mac_energy_pj']} pJ"),
              (f"weight memory in block RAM: {t['weight_memory_blocks']} blocks of "
               f"{BLOCK_BITS // 1024} Kbit as laid out, the minimum "
               f"{t['weight_memory_minimum_blocks']} (per layer: "
               + ", ".join(f"{e['index']}{' recurrent' if name == 'recurrent_memory' else ''}"
                           f": {e[name]['blocks']} vs {e[name]['minimum_blocks']}"
                           + _read_bound(e, e[name])
                           for e in report["layers"] for name in WEIGHT_MEMORIES if name in e)
               + ")"),
              f"  energy model: {report['energy_model']}",
              (f"host traffic ({t['activity']} activity): {t['input_beats_per_inference']:.1f} "
               f"input beats per inference (input.encoding {report['input_encoding']})")]
    lines += [f"layer {e['index']} neuron: {e['neuron']['summary']}" for e in report["layers"]
              if "neuron" in e]
    for e in report["layers"]:
        if "recurrent_memory" in e:
            lines.append(f"layer {e['index']}: recurrent weights "
                         f"{e['recurrent_weight_format']}{e['recurrent_weight_code_bits']}, "
                         f"{e['recurrent_synapses']} synapses, "
                         f"{e['recurrent_memory']['bits']} bits; fed-back spike list "
                         f"{e['fed_back_memory_bits']} bits")
    for e in report["layers"]:
        if "model_cycles_per_inference" in e:
            rtl = e.get("rtl_cycles_per_inference")
            fed = e.get("mean_fed_back_spikes_per_timestep")
            lines.append(f"layer {e['index']}: {e['mean_input_spikes_per_timestep']:.1f} input "
                         + (f"and {fed:.1f} fed-back " if fed is not None else "")
                         + f"spikes per timestep; cycles per inference: ideal "
                         f"{e['ideal_cycles_per_inference']:.0f}, model "
                         f"{e['model_cycles_per_inference']:.0f}"
                         + (f", RTL {rtl:.0f}" if rtl is not None else "")
                         + f"; lanes busy {e['lane_utilisation']:.0%} of its cycles")
    if "streamed_lane_utilisation" in t:
        lines.append(f"streamed, every lane of the network busy "
                     f"{t['streamed_lane_utilisation']:.0%} of the slowest layer's cycles")
    flow = report.get("flow", {})
    if "estimate" in flow:
        e = flow["estimate"]
        cells = ", ".join(f"{k} {v:g}" for k, v in e["cells"].items())
        lines.append(f"{e['board']} resources ({e['command']}): {cells}")
    if "bitstream" in flow:
        b = flow["bitstream"]
        if "fmax_mhz" in b:
            used = ", ".join(f"{k} {v['used']}/{v['available']}"
                             for k, v in b.get("utilisation", {}).items())
            seeds = b.get("fmax_mhz_by_seed", {})
            median = (f", median of seeds {', '.join(f'{s}: {f}' for s, f in seeds.items())}"
                      if len(seeds) > 1 else "")
            lines.append(f"{b['board']} bitstream: Fmax {b['fmax_mhz']} MHz{median} (board "
                         f"clock {b['clock_mhz']} MHz); {used}")
            if path := b.get("critical_path"):
                lines.append(f"critical path ({path['delay_ns']} ns): {path['from']} -> "
                             f"{path['to']}; through {', '.join(path['sources'])}")
        else:
            lines.append(f"{b['board']} bitstream: {b.get('bitstream', 'see the flow folder')}")
    return "\n".join(lines) + "\n"
