"""Verilog of the accelerator: the Amaranth top converted once, by one function."""

import re

from amaranth.back import verilog as amaranth_verilog

from .network import Network
from .plan import NetworkPlan

__all__ = ["TOPLEVEL", "accelerator_verilog"]

TOPLEVEL = "spikeshift_top"

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


def accelerator_verilog(net: Network, plan: NetworkPlan) -> str:
    """The Verilog of the whole accelerator, top module `TOPLEVEL`."""
    from ..hdl.top import Accelerator
    top = Accelerator(net, plan)
    text = amaranth_verilog.convert(top, name=TOPLEVEL, emit_src=False)
    return _retrigger_at_time_zero(text)
