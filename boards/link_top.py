"""The accelerator on a board with a UART host link (open flows: ULX3S, iCEBreaker)."""

from amaranth import Elaboratable, Module
from amaranth.build import ResourceError

from ..gen.network import Network
from ..gen.plan import NetworkPlan
from ..hdl.host_link import UartAccelerator

__all__ = ["LinkBoardTop", "DEFAULT_BAUD"]

DEFAULT_BAUD = 115_200


class LinkBoardTop(Elaboratable):
    """UART frames in and out (spikeshift.gen.link); LED 0: a layer is busy, LED 1: a bad
    frame or a lost byte was seen."""

    def __init__(self, net: Network, plan: NetworkPlan, *, baud: int = DEFAULT_BAUD):
        self.net, self.plan, self.baud = net, plan, baud

    def elaborate(self, platform):
        m = Module()
        divisor = round(platform.default_clk_frequency / self.baud)
        m.submodules.link = link = UartAccelerator(self.net, self.plan, divisor=divisor)
        uart = platform.request("uart", 0)
        m.d.comb += [link.rx.eq(uart.rx.i), uart.tx.o.eq(link.tx)]
        try:
            m.d.comb += platform.request("uart_tx_enable", 0).o.eq(1)   # ULX3S level shifter
        except ResourceError:
            pass
        leds = [platform.request("led", i) for i in range(2)]
        m.d.comb += [leds[0].o.eq(link.busy),
                     leds[1].o.eq((link.bad_frames != 0) | (link.overruns != 0))]
        return m
