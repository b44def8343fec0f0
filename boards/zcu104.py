"""Xilinx ZCU104 (Zynq UltraScale+ MPSoC XCZU7EV-2FFVC1156E) as an Amaranth platform.

Pins are those of the vendor's documentation, the ZCU104 Evaluation Board User Guide (UG1267:
the 125 MHz LVDS user clock CLK_125 on bank 65, the GPIO LEDs, push buttons and DIP switches on
3.3 V bank 88, and the PL-side USB-UART channel UART2 on 1.8 V bank 28) and its master XDC.
They were cross-checked pin by pin against an independent board file, litex-boards
``litex_boards/platforms/xilinx_zcu104.py`` (``clk125`` F23/E23 LVDS, ``user_led`` D5 D6 A5 B5,
``user_btn`` B4 C4 B3 C3, ``user_dip`` E4 D4 F5 F4, ``serial`` rx A20 tx C19 cts A19 rts C18
LVCMOS18). The accelerator itself is reached through the processing system (AXI), see
`spikeshift.boards.vivado_flow`; these resources serve designs that use the PL directly.
"""

from amaranth.build import Attrs, Clock, DiffPairs, Resource
from amaranth.vendor import XilinxPlatform
from amaranth_boards.resources import (
    ButtonResources,
    LEDResources,
    SwitchResources,
    UARTResource,
)

__all__ = ["ZCU104Platform", "VENDOR_PINS"]

#: Vendor net name (UG1267 / master XDC) -> package pin, as this platform uses them.
VENDOR_PINS = {
    "CLK_125_P": "F23", "CLK_125_N": "E23",
    "GPIO_LED_0_LS": "D5", "GPIO_LED_1_LS": "D6", "GPIO_LED_2_LS": "A5", "GPIO_LED_3_LS": "B5",
    "GPIO_PB_SW0": "B4", "GPIO_PB_SW1": "C4", "GPIO_PB_SW2": "B3", "GPIO_PB_SW3": "C3",
    "GPIO_DIP_SW0": "E4", "GPIO_DIP_SW1": "D4", "GPIO_DIP_SW2": "F5", "GPIO_DIP_SW3": "F4",
    "UART2_TXD_O_FPGA_RXD": "A20", "UART2_RXD_I_FPGA_TXD": "C19",
}


class ZCU104Platform(XilinxPlatform):
    device = "xczu7ev"
    package = "ffvc1156"
    speed = "2-e"
    default_clk = "clk125"
    resources = [
        Resource("clk125", 0, DiffPairs(VENDOR_PINS["CLK_125_P"], VENDOR_PINS["CLK_125_N"],
                                        dir="i"), Clock(125e6), Attrs(IOSTANDARD="LVDS")),
        *LEDResources(pins=" ".join(VENDOR_PINS[f"GPIO_LED_{i}_LS"] for i in range(4)),
                      attrs=Attrs(IOSTANDARD="LVCMOS33")),
        *ButtonResources(pins=" ".join(VENDOR_PINS[f"GPIO_PB_SW{i}"] for i in range(4)),
                         attrs=Attrs(IOSTANDARD="LVCMOS33")),
        *SwitchResources(pins=" ".join(VENDOR_PINS[f"GPIO_DIP_SW{i}"] for i in range(4)),
                         attrs=Attrs(IOSTANDARD="LVCMOS33")),
        UARTResource(0, rx=VENDOR_PINS["UART2_TXD_O_FPGA_RXD"],
                     tx=VENDOR_PINS["UART2_RXD_I_FPGA_TXD"],
                     attrs=Attrs(IOSTANDARD="LVCMOS18")),
    ]
    connectors = []
