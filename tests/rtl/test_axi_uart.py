"""The AXI wrapper (cocotbext-axi) and the UART host link, as generated Verilog, against the
golden model."""

import numpy as np
import pytest

from spikeshift import predict
from spikeshift.gen.flow.verilog import AXI_TOPLEVEL, UART_TOPLEVEL, accelerator_verilog
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.synthetic import direct_network, random_inputs, random_network
from spikeshift.sim.rtl_run import CocotbBench

pytestmark = pytest.mark.cocotb


def run_cocotb(tmp_path, verilog: str, toplevel: str, module: str, **job):
    (tmp_path / f"{toplevel}.v").write_text(verilog)
    bench = CocotbBench(tmp_path / f"{toplevel}.v", toplevel, module, tmp_path)
    return bench.run(**job)["outputs"]


@pytest.mark.parametrize("seed, per_packet", [(0, 1), (1, 3)])
def test_axi_wrapper_returns_golden_results_in_packets(tmp_path, seed, per_packet):
    rng = np.random.default_rng(6000 + seed)
    net = random_network(rng)
    x = random_inputs(rng, net, 2 * per_packet)
    expected = predict(net, x)[0]
    got = run_cocotb(tmp_path, accelerator_verilog(plan(net), wrapper="axi"),
                     AXI_TOPLEVEL, "spikeshift.sim.tb_axi", inputs=x, expected=expected,
                     samples_per_packet=per_packet, seed=seed)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_uart_link_loops_host_frames_through_the_generated_design(tmp_path, seed):
    rng = np.random.default_rng(7000 + seed)
    net = random_network(rng, max_size=12, max_timesteps=4)
    x = random_inputs(rng, net, 3)
    expected = predict(net, x)[0]
    divisor = 4
    got = run_cocotb(tmp_path, accelerator_verilog(plan(net), wrapper="uart",
                                                   divisor=divisor),
                     UART_TOPLEVEL, "spikeshift.sim.tb_uart", inputs=x, expected=expected,
                     divisor=divisor)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("wrapper", ["axi", "uart"])
def test_wrappers_take_each_sample_of_a_direct_network_once(tmp_path, wrapper):
    # Sent T times, a direct network's sample would be read as T samples: results differ.
    rng = np.random.default_rng(8000)
    net = direct_network(random_network(rng, max_size=12, max_timesteps=4))
    assert net.timesteps > 1
    x = random_inputs(rng, net, 4)
    expected = predict(net, x)[0]
    if wrapper == "axi":
        got = run_cocotb(tmp_path, accelerator_verilog(plan(net), wrapper="axi"),
                         AXI_TOPLEVEL, "spikeshift.sim.tb_axi", inputs=x, expected=expected,
                         samples_per_packet=2, seed=0, direct=1)
    else:
        got = run_cocotb(tmp_path, accelerator_verilog(plan(net), wrapper="uart", divisor=4),
                         UART_TOPLEVEL, "spikeshift.sim.tb_uart", inputs=x, expected=expected,
                         divisor=4, direct=1)
    np.testing.assert_array_equal(got, expected)
