"""8N1 UART receiver and transmitter with byte streams."""

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

__all__ = ["UartTx", "UartRx"]


def _check_divisor(divisor):
    if not isinstance(divisor, int) or divisor < 4:
        raise ValueError(f"divisor (clock cycles per bit) must be an integer of at least 4, "
                         f"not {divisor!r}")


class UartTx(wiring.Component):
    """Sends each accepted byte as start bit, 8 data bits (LSB first), stop bit.

    Members
    -------
    i_stream : ``In(stream.Signature(8))``
        Accepted only while idle: one byte per ``10 * divisor`` cycles.
    tx : ``Out(1, init=1)``
    """

    def __init__(self, *, divisor: int):
        _check_divisor(divisor)
        self._divisor = divisor
        super().__init__({"i_stream": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        shift = Signal(10, init=0x3FF)
        bits = Signal(range(11))
        timer = Signal(range(self._divisor))
        m.d.comb += [self.tx.eq(shift[0]), self.i_stream.ready.eq(bits == 0)]
        with m.If(self.i_stream.valid & self.i_stream.ready):
            m.d.sync += [shift.eq(Cat(0, self.i_stream.payload, 1)), bits.eq(10),
                         timer.eq(self._divisor - 1)]
        with m.Elif(bits != 0):
            with m.If(timer == 0):
                m.d.sync += [shift.eq(Cat(shift[1:], 1)), bits.eq(bits - 1),
                             timer.eq(self._divisor - 1)]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m


class UartRx(wiring.Component):
    """Receives 8N1 bytes; samples each bit in its middle.

    A byte not yet accepted when the next one completes is dropped and `overrun` pulses; a
    missing stop bit drops the byte and pulses `error`.

    Members
    -------
    rx : ``In(1, init=1)``
    o_stream : ``Out(stream.Signature(8))``
    overrun, error : ``Out(1)``
    """

    def __init__(self, *, divisor: int):
        _check_divisor(divisor)
        self._divisor = divisor
        super().__init__({"rx": In(1, init=1), "o_stream": Out(stream.Signature(8)),
                          "overrun": Out(1), "error": Out(1)})

    def elaborate(self, platform):
        m = Module()
        rx = Signal(init=1)
        m.submodules.sync_rx = FFSynchronizer(self.rx, rx, init=1)
        timer = Signal(range(self._divisor + self._divisor // 2 + 1))
        bits = Signal(range(10))
        data = Signal(8)
        busy = Signal()
        with m.If(self.o_stream.ready):
            m.d.sync += self.o_stream.valid.eq(0)
        m.d.sync += [self.overrun.eq(0), self.error.eq(0)]
        with m.If(~busy):
            with m.If(~rx):
                # first data bit is sampled 1.5 bit times after the falling edge
                m.d.sync += [busy.eq(1), bits.eq(0),
                             timer.eq(self._divisor + self._divisor // 2 - 1)]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Elif(bits < 8):
            m.d.sync += [data.eq(Cat(data[1:], rx)), bits.eq(bits + 1),
                         timer.eq(self._divisor - 1)]
        with m.Else():
            m.d.sync += busy.eq(0)
            with m.If(~rx):
                m.d.sync += self.error.eq(1)
            with m.Elif(self.o_stream.valid & ~self.o_stream.ready):
                m.d.sync += self.overrun.eq(1)
            with m.Else():
                m.d.sync += [self.o_stream.payload.eq(data), self.o_stream.valid.eq(1)]
        return m
