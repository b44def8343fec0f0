"""Verilog of the accelerator: the Amaranth top converted once, by one function."""

import re

from amaranth.back import verilog as amaranth_verilog

from ..ir.design import Design
from ..ir.link import AXI_TOPLEVEL, TOPLEVEL, UART_TOPLEVEL

__all__ = ["TOPLEVEL", "AXI_TOPLEVEL", "UART_TOPLEVEL", "accelerator_verilog",
           "component_verilog"]


_AUTO_TRIGGER = re.compile(r"^(\s*)reg (\\\$auto\$verilog_backend\S+)\s*=\s*0;$", re.MULTILINE)


def _retrigger_at_time_zero(text: str) -> str:
    # FIXME: amaranth-lang/amaranth#1629. Yosys makes every `always @*` block sensitive to an
    # auto register initialised to 0 so that simulators evaluate it at time 0; Icarus applies
    # the initialiser before the blocks wait, so a block whose inputs never change stays X.
    # Toggling the register once after time 0 evaluates every block; synthesis tools define
    # SYNTHESIS and skip it.
    def add_toggle(match):
        indent, name = match.group(1), match.group(2)
        return (f"{match.group(0)}\n`ifndef SYNTHESIS\n"
                f"{indent}initial #1 {name}  = 1;\n`endif")
    return _AUTO_TRIGGER.sub(add_toggle, text)


def component_verilog(component, name: str) -> str:
    """Verilog of any top-level component, simulable by Icarus from time 0."""
    text = amaranth_verilog.convert(component, name=name, emit_src=False)
    return _retrigger_at_time_zero(text)


def accelerator_verilog(design: Design, *, wrapper: str = "stream",
                        divisor: int = 4) -> str:
    """The Verilog of the whole accelerator: its streams (top module `TOPLEVEL`), the AXI
    wrapper (`AXI_TOPLEVEL`) or the UART host link with `divisor` cycles per bit
    (`UART_TOPLEVEL`)."""
    if wrapper == "stream":
        from ...hdl.top import Accelerator
        return component_verilog(Accelerator(design), TOPLEVEL)
    if wrapper == "axi":
        from ...hdl.axi import AxiAccelerator
        return component_verilog(AxiAccelerator(design), AXI_TOPLEVEL)
    if wrapper == "uart":
        from ...hdl.host_link import UartAccelerator
        return component_verilog(UartAccelerator(design, divisor=divisor), UART_TOPLEVEL)
    raise ValueError(f"wrapper must be 'stream', 'axi' or 'uart', not {wrapper!r}")
