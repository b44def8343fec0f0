# amaranth: UnusedElaboratable=no
import subprocess
import sys

import numpy as np
import pytest
from amaranth import Elaboratable, Module
from amaranth.lib import io

from spikeshift.boards.flow import ToolMissing, run_step
from spikeshift.boards.zcu104 import ZCU104Platform
from spikeshift.gen.ir.link import axi_input_words
from spikeshift.gen.ir.synthetic import random_inputs, random_network

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


def test_pynq_driver_packs_inputs_like_the_verified_axi_testbench(zcu104_build):
    net, out = zcu104_build
    x = random_inputs(np.random.default_rng(0), net, 3)
    code = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]); "
            "import spikeshift_pynq, spikeshift_link; "
            "x = np.load(sys.argv[2]); print(spikeshift_link.axi_input_words(x).tolist())")
    np.save(out / "x.npy", x)
    result = subprocess.run([sys.executable, "-c", code, str(out / "deploy"),
                             str(out / "x.npy")], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == str(axi_input_words(x).tolist())
