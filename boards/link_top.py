"""The accelerator on a board with a UART host link (open flows: ULX3S, iCEBreaker)."""

from amaranth import Cat, Elaboratable, Module
from amaranth.build import ResourceError
from amaranth.lib import io

from ..gen.ir.design import Design
from ..gen.ir.link import STATUS_COUNTERS
from ..hdl.host_link import UartAccelerator

__all__ = ["LinkBoardTop", "DEFAULT_BAUD"]

DEFAULT_BAUD = 115_200


class LinkBoardTop(Elaboratable):
    """UART frames in and out (spikeshift.gen.ir.link); LED 0: a layer is busy, LED 1: a bad
    frame or a lost byte was seen."""

    def __init__(self, design: Design, *, baud: int = DEFAULT_BAUD):
        self.design, self.baud = design, baud

    def elaborate(self, platform):
        m = Module()
        divisor = round(platform.default_clk_frequency / self.baud)
        m.submodules.link = link = UartAccelerator(self.design, divisor=divisor)
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx = rx = io.Buffer("i", uart.rx)
        m.submodules.tx = tx = io.Buffer("o", uart.tx)
        m.d.comb += [link.rx.eq(rx.i), tx.o.eq(link.tx)]
        try:
            enable = platform.request("uart_tx_enable", 0, dir="-")   # ULX3S level shifter
            m.submodules.tx_enable = buffer = io.Buffer("o", enable)
            m.d.comb += buffer.o.eq(1)
        except ResourceError:
            pass
        # LED 1: anything the status frame counts (bad frames, overruns, dropped beats)
        trouble = Cat(*(getattr(link, name) != 0 for name in STATUS_COUNTERS)).any()
        for i, value in enumerate([link.busy, trouble]):
            m.submodules[f"led_{i}"] = led = io.Buffer("o", platform.request("led", i, dir="-"))
            m.d.comb += led.o.eq(value)
        return m
