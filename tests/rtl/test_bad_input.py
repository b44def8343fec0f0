"""Bad input beats (README "Bad input") on the generated Verilog: the bare accelerator, the AXI
wrapper and the UART link drop duplicate, out-of-range and extra beats, count each kind
exactly, and compute what the golden and cycle models give for the input they keep."""

import numpy as np
import pytest

from spikeshift.gen.flow.verilog import AXI_TOPLEVEL, UART_TOPLEVEL, accelerator_verilog
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.link import (
    AXI_INDEX_BITS,
    AXI_VALUE_BITS,
    DROP_COUNTERS,
    FRAME_INDEX_BITS,
    FRAME_VALUE_BITS,
    axi_words,
    encode_events,
)
from spikeshift.gen.ir.synthetic import random_inputs, random_network
from spikeshift.sim.cycles import layer_inputs, schedule, step_cycles
from spikeshift.sim.golden import predict, trace
from spikeshift.sim.rtl_run import CocotbBench, RtlSimulation

from ..bad_input import bad_stream

pytestmark = pytest.mark.cocotb

BARE_KINDS = ("extra_beats", "bad_indices", "duplicates")   # a bare value field holds no more


def network(seed: int, layers: int, **options):
    """A random network of `layers` layers whose input size is not a power of two (so that
    the index field can hold an index beyond it)."""
    rng = np.random.default_rng(seed)
    while True:
        net = random_network(rng, max_layers=layers, **options)
        size = net.input.size
        if len(net.layers) == layers and size > 2 and size & (size - 1):
            return net, rng


def stream(rng, net, x, kinds, *, index_limit: int, value_limit: int):
    return bad_stream(rng, x, timesteps=net.timesteps, kinds=kinds, index_limit=index_limit,
                      value_max=net.input.format.max, value_limit=value_limit)


@pytest.fixture(scope="module", params=[1, 2], ids=["one-layer", "two-layer"])
def bare(request, tmp_path_factory):
    net, _ = network(8100 + request.param, request.param)
    design = plan(net)
    build = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    (build / "top.v").write_text(accelerator_verilog(design))
    return design, RtlSimulation(design, build / "top.v", build / "sim")


@pytest.mark.parametrize("kinds", [(kind,) for kind in BARE_KINDS] + [BARE_KINDS],
                         ids=[*BARE_KINDS, "all"])
def test_bare_accelerator_drops_bad_beats_at_model_cycles(bare, kinds):
    design, sim = bare
    net = design.network
    rng = np.random.default_rng(len(kinds) + 10 * BARE_KINDS.index(kinds[0]))
    x = random_inputs(rng, net, 4)
    first = design.layers[0]
    events, ref = stream(rng, net, x, kinds, index_limit=1 << first.in_index_bits,
                         value_limit=1 << first.in_value.bits)
    rows = [(s, i, v, last) for s, (i, v, last) in zip(ref.samples, events)]
    rtl = sim.run(x, events=rows)
    golden = trace(net, ref.x)
    np.testing.assert_array_equal(rtl.outputs, golden.outputs)
    assert rtl.drops == ref.drops
    inputs = layer_inputs(ref.x, golden)
    np.testing.assert_array_equal(rtl.step_cycles, step_cycles(design, inputs))
    # a dropped beat costs its accept cycle, like a zero value: the beats sent set the schedule
    np.testing.assert_array_equal(rtl.latency, schedule(design, inputs, ref.beats).latency)


def test_bare_accelerator_drops_bad_beats_under_gaps_and_backpressure(bare):
    design, sim = bare
    net = design.network
    rng = np.random.default_rng(77)
    x = random_inputs(rng, net, 4)
    first = design.layers[0]
    events, ref = stream(rng, net, x, BARE_KINDS, index_limit=1 << first.in_index_bits,
                         value_limit=1 << first.in_value.bits)
    rows = [(s, i, v, last) for s, (i, v, last) in zip(ref.samples, events)]
    rtl = sim.run(x, events=rows, seed=5)
    golden = trace(net, ref.x)
    np.testing.assert_array_equal(rtl.outputs, golden.outputs)
    assert rtl.drops == ref.drops
    np.testing.assert_array_equal(rtl.step_cycles,
                                  step_cycles(design, layer_inputs(ref.x, golden)))


def wrapper_case(seed: int, kinds, *, index_limit: int, value_limit: int, batch: int, **net):
    net, rng = network(seed, 2, **net)
    x = random_inputs(rng, net, batch)
    events, ref = stream(rng, net, x, kinds, index_limit=index_limit, value_limit=value_limit)
    return net, x, events, ref


@pytest.mark.parametrize("kinds", [(kind,) for kind in DROP_COUNTERS] + [DROP_COUNTERS],
                         ids=[*DROP_COUNTERS, "all"])
def test_axi_wrapper_drops_bad_words_and_counts_them_in_registers(tmp_path, kinds):
    net, x, events, ref = wrapper_case(8200 + len(kinds) + DROP_COUNTERS.index(kinds[0]), kinds,
                                       index_limit=1 << AXI_INDEX_BITS,
                                       value_limit=1 << AXI_VALUE_BITS, batch=3)
    expected = predict(net, ref.x)[0]
    (tmp_path / "axi.v").write_text(accelerator_verilog(plan(net), wrapper="axi"))
    bench = CocotbBench(tmp_path / "axi.v", AXI_TOPLEVEL, "spikeshift.sim.tb_axi", tmp_path)
    got = bench.run(inputs=x, expected=expected, samples_per_packet=1, seed=1,
                    words=axi_words(events),
                    drops=np.array([ref.drops[name] for name in DROP_COUNTERS]))["outputs"]
    np.testing.assert_array_equal(got, expected)


def test_uart_link_drops_bad_frames_and_reports_them_in_its_status_frame(tmp_path):
    net, x, events, ref = wrapper_case(8300, DROP_COUNTERS, index_limit=1 << FRAME_INDEX_BITS,
                                       value_limit=1 << FRAME_VALUE_BITS, batch=2, max_size=12,
                                       max_timesteps=3)
    expected = predict(net, ref.x)[0]
    divisor = 4
    (tmp_path / "uart.v").write_text(accelerator_verilog(plan(net), wrapper="uart",
                                                         divisor=divisor))
    bench = CocotbBench(tmp_path / "uart.v", UART_TOPLEVEL, "spikeshift.sim.tb_uart", tmp_path)
    frames = np.frombuffer(encode_events(events), np.uint8)
    got = bench.run(inputs=x, expected=expected, divisor=divisor, frames=frames,
                    drops=np.array([ref.drops[name] for name in DROP_COUNTERS]))["outputs"]
    np.testing.assert_array_equal(got, expected)
