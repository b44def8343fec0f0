"""spikeshift: quantized spiking neural networks to verified FPGA accelerators.

The Python interface of DESIGN.md §7: load a network description, run the golden model,
generate the accelerator and verify its Verilog against the golden model.
"""

from .gen.ir.network import Network
from .sim.golden import Trace, predict, trace

__all__ = ["Network", "Trace", "predict", "trace", "generate", "verify"]


def generate(net, out_dir, *, lanes=None):
    """Generate Verilog, memory images and reports for `net` into `out_dir`."""
    from .gen.flow.generator import generate as _generate
    return _generate(net, out_dir, lanes=lanes)


def verify(net, x, *, lanes=None, simulator="auto", build_dir=None, **options):
    """Run the generated Verilog on inputs `x` and compare it with the golden and cycle models
    (`simulator`: "auto", "icarus" or "verilator"; "auto" takes Verilator when it pays)."""
    from .gen.flow.verify import verify as _verify
    return _verify(net, x, lanes=lanes, simulator=simulator, build_dir=build_dir, **options)
