"""Soak: the demo network's generated Verilog streams the digits test set through the AXI
wrapper (random pauses on both streams) and the UART link (random idle time between bytes)
for at least `cycles` clock cycles; every sample's results arrive once, in order, equal to the
golden model, and no valid beat is dropped. ``make soak`` runs the 10^6-cycle cases; the
default run keeps the first three, bounded ones (conftest: `slow` keeps 3 cases), well under
a minute together."""

import sys
from pathlib import Path

import numpy as np
import pytest

from spikeshift.gen.flow.verilog import AXI_TOPLEVEL, UART_TOPLEVEL, accelerator_verilog
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.link import INPUT_FRAME_BYTES, input_events
from spikeshift.gen.ir.network import Network
from spikeshift.sim.cycles import input_beats, layer_inputs, schedule
from spikeshift.sim.golden import predict, trace
from spikeshift.sim.rtl_run import CocotbBench

pytestmark = [pytest.mark.cocotb, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "build" / "demo" / "digits-mlp.json"
DIVISOR = 4
BYTE_BITS = 10                                # 8N1


@pytest.fixture(scope="module")
def demo():
    """The demo network (`make demo`'s, else trained here by the same code) and its test set
    in direct encoding."""
    sys.path.insert(0, str(ROOT / "examples" / "digits"))
    from demo import build_network, direct_input, load_data
    net = Network.load(DEMO) if DEMO.exists() else build_network(verbose=False)[0]
    x_test = load_data()[1]
    return net, direct_input(x_test, net.timesteps)


def samples_for(x: np.ndarray, cycles_per_sample: float, cycles: int, *,
                multiple: int = 1) -> np.ndarray:
    """The first samples of `x`, repeated as needed, enough for `cycles` cycles with a margin,
    a multiple of `multiple` of them."""
    count = -(-int(np.ceil(1.3 * cycles / cycles_per_sample)) // multiple) * multiple
    return x[np.arange(count) % len(x)]


def run(tmp_path, net, toplevel: str, module: str, x, **job) -> dict:
    wrapper = "axi" if toplevel == AXI_TOPLEVEL else "uart"
    options = {"divisor": DIVISOR} if wrapper == "uart" else {}
    (tmp_path / "top.v").write_text(accelerator_verilog(plan(net), wrapper=wrapper, **options))
    bench = CocotbBench(tmp_path / "top.v", toplevel, module, tmp_path,
                        simulator=job.pop("simulator"))
    return bench.run(inputs=x, **job)


CASES = [pytest.param("axi", 10_000, "icarus", 0.3, id="axi-10k"),
         pytest.param("uart", 60_000, "icarus", 0.3, id="uart-60k"),
         pytest.param("axi", 10_000, "icarus", 0.6, id="axi-10k-busy"),
         pytest.param("axi", 1_000_000, "verilator", 0.3, id="axi-1M"),
         pytest.param("uart", 1_000_000, "verilator", 0.3, id="uart-1M")]


@pytest.mark.parametrize("link, cycles, simulator, pause", CASES)
def test_soak_every_result_arrives_once_and_equals_golden(tmp_path, demo, link, cycles,
                                                          simulator, pause):
    """`pause`: the probability that the AXI source or sink pauses in a cycle."""
    net, x_all = demo
    direct = net.input.direct                       # each sample sent once
    beats = np.mean([sum(1 for _ in input_events(x_all[i:i + 1], direct=direct))
                     for i in range(20)])
    if link == "axi":
        # gap-free cycles from the cycle model, or the source's pace
        head = x_all[:20]
        model = schedule(plan(net), layer_inputs(head, trace(net, head)),
                         input_beats(head, direct=direct)).total / len(head)
        per_packet = 4
        x = samples_for(x_all, max(model, beats / (1 - pause)), cycles, multiple=per_packet)
        expected = predict(net, x)[0]
        result = run(tmp_path, net, AXI_TOPLEVEL, "spikeshift.sim.tb_axi", x, expected=expected,
                     samples_per_packet=per_packet, seed=cycles, pause=pause, simulator=simulator,
                     direct=int(direct))
    else:
        gap = 2                                           # idle bit times, uniform in [0, gap]
        per_sample = beats * INPUT_FRAME_BYTES * DIVISOR * (BYTE_BITS + gap / 2)
        x = samples_for(x_all, per_sample, cycles)
        expected = predict(net, x)[0]
        result = run(tmp_path, net, UART_TOPLEVEL, "spikeshift.sim.tb_uart", x,
                     expected=expected, divisor=DIVISOR, seed=cycles, gap=gap,
                     simulator=simulator, direct=int(direct))
    # the benches check values, packets, SAMPLES_DONE / status frames and zero drops themselves
    np.testing.assert_array_equal(result["outputs"], expected)
    print(f"{link}: {len(x)} samples, {int(result['cycles'])} cycles")
    assert int(result["cycles"]) >= cycles, f"ran {int(result['cycles'])} cycles, not {cycles}"
