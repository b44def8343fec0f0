# amaranth: UnusedElaboratable=no
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from amaranth import Elaboratable, Module
from amaranth.lib import io

from spikeshift import predict
from spikeshift.boards.flow import ToolMissing, run_step
from spikeshift.boards.zcu104 import ZCU104Platform
from spikeshift.gen.ir import link
from spikeshift.gen.ir.synthetic import direct_network, random_inputs, random_network

FAKE_PYNQ = Path(__file__).parent / "pynq_sim"      # a simulated pynq and its device testbench

# The vendor's names and pins (ZCU104 user guide UG1267 and its master XDC).
VENDOR_XDC = {
    "clk125_0__p": "F23", "clk125_0__n": "E23",
    "led_0__io": "D5", "led_1__io": "D6", "led_2__io": "A5", "led_3__io": "B5",
    "button_0__io": "B4", "button_1__io": "C4", "button_2__io": "B3", "button_3__io": "C3",
    "switch_0__io": "E4", "switch_1__io": "D4", "switch_2__io": "F5", "switch_3__io": "F4",
    "uart_0__rx__io": "A20", "uart_0__tx__io": "C19",
}


class UsesEveryPin(Elaboratable):
    def elaborate(self, platform):
        m = Module()
        for i in range(4):
            led = m.submodules[f"led{i}"] = io.Buffer("o", platform.request("led", i, dir="-"))
            button = m.submodules[f"button{i}"] = io.Buffer(
                "i", platform.request("button", i, dir="-"))
            switch = m.submodules[f"switch{i}"] = io.Buffer(
                "i", platform.request("switch", i, dir="-"))
            m.d.comb += led.o.eq(button.i ^ switch.i)
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx = rx = io.Buffer("i", uart.rx)
        m.submodules.tx = tx = io.Buffer("o", uart.tx)
        m.d.sync += tx.o.eq(rx.i)                    # uses the default 125 MHz clock
        return m


def test_zcu104_pins_match_the_vendor_xdc():
    xdc = ZCU104Platform().prepare(UsesEveryPin(), name="top").files["top.xdc"]
    for port, pin in VENDOR_XDC.items():
        assert f'set_property LOC {pin} [get_ports "{port}"]' in xdc, port
    assert 'set_property IOSTANDARD "LVDS" [get_ports "clk125_0__p"]' in xdc
    assert 'set_property IOSTANDARD "LVCMOS18" [get_ports "uart_0__rx__io"]' in xdc
    assert "-period 8.0" in xdc
    assert ZCU104Platform()._part == "xczu7ev-ffvc1156-2-e"


@pytest.fixture(scope="module")
def zcu104_build(tmp_path_factory):
    rng = np.random.default_rng(3)
    net = random_network(rng)
    out = tmp_path_factory.mktemp("zcu104")
    run_step("verilog", net, "zcu104", out)
    with pytest.raises(ToolMissing, match=r"^vivado is not on PATH: the complete Vivado project "
                                          r"is in .*vivado and the PYNQ driver in .*deploy"):
        run_step("bitstream", net, "zcu104", out)
    return net, out


def test_zcu104_without_vivado_leaves_a_complete_build_folder(zcu104_build):
    net, out = zcu104_build
    names = sorted(p.name for p in (out / "vivado").iterdir())
    assert names == ["build.sh", "create_project.tcl", "spikeshift_axi.v",
                     "spikeshift_axi_ip.v"]
    assert sorted(p.name for p in (out / "deploy").iterdir()) == [
        "README.md", "network.json", "spikeshift_link.py", "spikeshift_pynq.py"]
    assert (out / "verilog.json").exists()


@pytest.mark.cocotb
def test_zcu104_ip_wrapper_and_core_compile_together(zcu104_build, tmp_path):
    _, out = zcu104_build
    vivado = out / "vivado"
    subprocess.run(["iverilog", "-g2012", "-s", "spikeshift_axi_ip", "-o", str(tmp_path / "a"),
                    str(vivado / "spikeshift_axi.v"), str(vivado / "spikeshift_axi_ip.v")],
                   check=True)


def test_zcu104_project_script_is_valid_tcl_calling_the_expected_vivado_commands(zcu104_build):
    _, out = zcu104_build
    stub = """
set calls {}
proc unknown {args} { global calls; lappend calls [lindex $args 0]; return "" }
proc get_property {args} { return "100%" }
rename file _file
proc file {command args} {
    global calls
    if {$command in {copy mkdir}} { lappend calls "file_$command"; return "" }
    return [uplevel 1 [list _file $command {*}$args]]
}
source [lindex $argv 0]
puts [lsort -unique $calls]
"""
    result = subprocess.run(["tclsh", "/dev/stdin", str(out / "vivado" / "create_project.tcl")],
                            input=stub, capture_output=True, text=True, check=True)
    called = set(result.stdout.split())
    assert {"create_project", "create_bd_design", "create_bd_cell", "apply_bd_automation",
            "make_wrapper", "launch_runs", "wait_on_run", "report_utilization",
            "file_copy"} <= called
    script = (out / "vivado" / "create_project.tcl").read_text()
    for needle in ("xilinx.com:ip:zynq_ultra_ps_e", "xilinx.com:ip:axi_dma",
                   "-reference spikeshift_axi_ip", "-to_step write_bitstream",
                   "spikeshift_bd.hwh", "-part xczu7ev-ffvc1156-2-e"):
        assert needle in script


# Stands in for the user's session on the board: the deploy README's lines verbatim, then the
# same batch again in chunks.
BOARD_SESSION = """
import re
import sys
from pathlib import Path
import numpy as np
x = np.load(sys.argv[1])
exec(re.search(r"```python\\n(.*?)```", Path("README.md").read_text(), re.S).group(1))
chunked, chunked_classes = acc.run(x, chunk=2)
np.savez(sys.argv[2], outputs=outputs, classes=classes, chunked=chunked,
         chunked_classes=chunked_classes, cycles=acc.cycles, replays=acc.overlay.device.replays,
         modules=[sys.modules[m].__file__ for m in ("spikeshift_pynq", "spikeshift_link")])
"""


@pytest.mark.cocotb
@pytest.mark.parametrize("direct", [False, True], ids=["per_timestep", "direct"])
def test_pynq_driver_in_the_deploy_folder_returns_golden_results_from_the_simulated_board(
        tmp_path, direct):
    """The deploy folder's driver, the very file the package ships, imported as on the board
    and called as its README says, against a simulated PYNQ whose DMA and registers reach the
    generated AXI IP under cocotb: the batch of 5 in one packet, then in chunks of 2, 2 and 1
    (SAMPLES_PER_PACKET reprogrammed), with negative membranes for the sign. A direct network's
    samples are sent once each (sent T times, they would be read as T samples)."""
    rng = np.random.default_rng(11)
    net = random_network(rng, max_size=12)
    if direct:
        net = direct_network(net)
        assert net.timesteps > 1
    x = random_inputs(rng, net, 5)
    expected, classes = predict(net, x)
    assert net.output.mode == "membrane" and (expected < 0).any() and len(set(classes)) > 1
    out = tmp_path / "build"
    run_step("verilog", net, "zcu104", out)
    with pytest.raises(ToolMissing):
        run_step("bitstream", net, "zcu104", out)
    device = tmp_path / "device.v"           # the two sources the Vivado project adds
    device.write_text((out / "vivado" / "spikeshift_axi.v").read_text() +
                      (out / "vivado" / "spikeshift_axi_ip.v").read_text())
    script = out / "vivado" / "create_project.tcl"
    assert "spikeshift_axi_ip spikeshift\n" in script.read_text()      # the cells pynq.py names
    assert "xilinx.com:ip:axi_dma dma\n" in script.read_text()
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "SPIKESHIFT_PYNQ_VERILOG": str(device),
           "SPIKESHIFT_PYNQ_BUILD": str(tmp_path / "sim"),
           "PYTHONPATH": os.pathsep.join([str(FAKE_PYNQ), *filter(None, [
               os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-c", BOARD_SESSION, str(tmp_path / "x.npy"),
                             str(tmp_path / "result.npz")], cwd=out / "deploy", env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    got = np.load(tmp_path / "result.npz")
    assert got["modules"].tolist() == [str(out / "deploy" / "spikeshift_pynq.py"),
                                       str(out / "deploy" / "spikeshift_link.py")]
    shipped = resources.files("spikeshift.boards") / "deploy" / "spikeshift_pynq.py"
    assert (out / "deploy" / "spikeshift_pynq.py").read_bytes() == shipped.read_bytes()
    assert (out / "deploy" / "spikeshift_link.py").read_bytes() == \
        Path(link.__file__).read_bytes()
    for outputs, found in (("outputs", "classes"), ("chunked", "chunked_classes")):
        np.testing.assert_array_equal(got[outputs], expected)
        np.testing.assert_array_equal(got[found], classes)
    assert got["cycles"] > 0 and got["replays"] == 6      # ID, one packet, three, CYCLES
