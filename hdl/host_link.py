"""Frames of the host link protocol (spikeshift.gen.ir.link) to and from the accelerator streams."""

from amaranth import Cat, Module, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..gen.ir.design import Design
from ..gen.ir.formats import IntFormat
from ..gen.ir.link import (
    COUNTER_BITS,
    DROP_COUNTERS,
    FLAG_LAST,
    FLAG_STATUS,
    FRAME_INDEX_BITS,
    FRAME_VALUE_BITS,
    INPUT_FRAME_BYTES,
    INPUT_SYNC,
    RESULT_SYNC,
    RESULT_VALUE_BYTES,
    STATUS_COUNTERS,
    STATUS_SYNC,
)
from .layouts import input_event_layout, result_layout
from .top import Accelerator
from .uart import UartRx, UartTx

__all__ = ["InputDeframer", "ResultFramer", "UartAccelerator"]


class InputDeframer(wiring.Component):
    """Bytes to input events: finds the sync byte, checks the frame's sum, drops bad frames.

    Events carry the frame's whole index and value fields (`FRAME_INDEX_BITS`,
    `FRAME_VALUE_BITS`), so the input stage sees out-of-range ones. A good frame with the
    status request flag is not an event: it pulses `status_request` instead.

    Members
    -------
    i_stream : ``In(stream.Signature(8))``
    o_stream : ``Out(stream.Signature(input_event_layout(FRAME_INDEX_BITS, FRAME_VALUE_BITS)))``
    bad_frame : ``Out(1)``, pulses for each dropped frame
    status_request : ``Out(1)``, pulses for each status request frame
    """

    def __init__(self):
        super().__init__({
            "i_stream": In(stream.Signature(8)),
            "o_stream": Out(stream.Signature(input_event_layout(FRAME_INDEX_BITS,
                                                                FRAME_VALUE_BITS))),
            "bad_frame": Out(1),
            "status_request": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        body = [Signal(8, name=f"body_{i}") for i in range(INPUT_FRAME_BYTES - 1)]
        count = Signal(range(INPUT_FRAME_BYTES))
        total = Signal(8)
        byte = self.i_stream.payload
        m.d.sync += [self.bad_frame.eq(0), self.status_request.eq(0)]
        with m.FSM():
            with m.State("Sync"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid & (byte == INPUT_SYNC)):
                    m.d.sync += [count.eq(0), total.eq(0)]
                    m.next = "Body"
            with m.State("Body"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid):
                    for i, reg in enumerate(body):
                        with m.If(count == i):
                            m.d.sync += reg.eq(byte)
                    m.d.sync += [count.eq(count + 1), total.eq(total + byte)]
                    with m.If(count == len(body) - 1):
                        with m.If(((total + byte) & 0xFF) != 0):
                            m.d.sync += self.bad_frame.eq(1)
                            m.next = "Sync"
                        with m.Elif(body[0] & FLAG_STATUS):
                            m.d.sync += self.status_request.eq(1)
                            m.next = "Sync"
                        with m.Else():
                            m.next = "Emit"
            with m.State("Emit"):
                event = self.o_stream.payload
                m.d.comb += [
                    self.o_stream.valid.eq(1),
                    event.last.eq((body[0] & FLAG_LAST) != 0),
                    event.index.eq(Cat(body[1], body[2])),
                    event.value.eq(Cat(body[3], body[4])),
                ]
                with m.If(self.o_stream.ready):
                    m.next = "Sync"
        return m


class ResultFramer(wiring.Component):
    """Result values to one frame per sample (sync, count, 4 bytes per value, check), and a
    status frame (sync, the counters, check) after each pulse of `status_request`.

    A status frame is sent between result frames, never inside one: a request waits for the
    current result frame to end and is served before the next one. Its counters are sampled
    when the frame starts. Requests arriving while one is pending are merged.

    Members
    -------
    i_stream : ``In(stream.Signature(result_layout(fmt)))``
    o_stream : ``Out(stream.Signature(8))``
    status_request : ``In(1)``
    counters : ``In(COUNTER_BITS).array(len(STATUS_COUNTERS))``, in `STATUS_COUNTERS` order
    """

    def __init__(self, *, fmt: IntFormat, count: int):
        if fmt.bits > 8 * RESULT_VALUE_BYTES:
            raise ValueError(f"result values must fit {8 * RESULT_VALUE_BYTES} bits, "
                             f"not {fmt.bits}")
        self._fmt, self._count = fmt, count
        super().__init__({"i_stream": In(stream.Signature(result_layout(fmt))),
                          "o_stream": Out(stream.Signature(8)),
                          "status_request": In(1),
                          "counters": In(COUNTER_BITS).array(len(STATUS_COUNTERS))})

    def elaborate(self, platform):
        m = Module()
        value = Signal(8 * RESULT_VALUE_BYTES)
        last = Signal()
        index = Signal(range(RESULT_VALUE_BYTES))
        total = Signal(8)
        out = self.o_stream
        header = [RESULT_SYNC, self._count & 0xFF, self._count >> 8]
        step = Signal(range(len(header)))
        sent = out.valid & out.ready
        pending = Signal()
        snapshot = Signal(COUNTER_BITS * len(STATUS_COUNTERS))
        status_bytes = len(snapshot) // 8
        status_index = Signal(range(status_bytes))
        with m.FSM():
            with m.State("Idle"):
                with m.If(pending):
                    m.d.sync += [pending.eq(0), snapshot.eq(Cat(*self.counters))]
                    m.next = "Status sync"
                with m.Elif(self.i_stream.valid):
                    m.next = "Header"
            with m.State("Header"):
                m.d.comb += out.valid.eq(1)
                for i, b in enumerate(header):
                    with m.If(step == i):
                        m.d.comb += out.payload.eq(b)
                with m.If(sent):
                    with m.If(step != 0):
                        m.d.sync += total.eq(total + out.payload)
                    with m.If(step == len(header) - 1):
                        m.d.sync += step.eq(0)
                        m.next = "Load"
                    with m.Else():
                        m.d.sync += step.eq(step + 1)
            with m.State("Load"):
                m.d.comb += self.i_stream.ready.eq(1)
                with m.If(self.i_stream.valid):
                    m.d.sync += [value.eq(self.i_stream.payload.value.as_signed()),
                                 last.eq(self.i_stream.payload.last), index.eq(0)]
                    m.next = "Value"
            # bytes leave from the low end of shift registers, not through a byte select
            with m.State("Value"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(value[:8])]
                with m.If(sent):
                    m.d.sync += [total.eq(total + out.payload), index.eq(index + 1),
                                 value.eq(value >> 8)]
                    with m.If(index == RESULT_VALUE_BYTES - 1):
                        m.next = "Check"
                        with m.If(~last):
                            m.next = "Load"
            with m.State("Check"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(-total)]
                with m.If(sent):
                    m.d.sync += total.eq(0)
                    m.next = "Idle"
            with m.State("Status sync"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(STATUS_SYNC)]
                with m.If(sent):
                    m.d.sync += [total.eq(0), status_index.eq(0)]
                    m.next = "Status body"
            with m.State("Status body"):
                m.d.comb += [out.valid.eq(1), out.payload.eq(snapshot[:8])]
                with m.If(sent):
                    m.d.sync += [total.eq(total + out.payload),
                                 status_index.eq(status_index + 1),
                                 snapshot.eq(snapshot >> 8)]
                    with m.If(status_index == status_bytes - 1):
                        m.next = "Check"
        with m.If(self.status_request):
            m.d.sync += pending.eq(1)
        return m


def _registered(m, name: str, source, sink):
    """Connect the stream `source` to `sink` through a FIFO of two entries, whose output is
    a register (`SyncFIFOBuffered`); nothing is lost or reordered."""
    fifo = m.submodules[name] = SyncFIFOBuffered(width=len(Value.cast(source.payload)), depth=2)
    m.d.comb += [
        fifo.w_data.eq(source.payload), fifo.w_en.eq(source.valid), source.ready.eq(fifo.w_rdy),
        sink.payload.eq(fifo.r_data), sink.valid.eq(fifo.r_rdy), fifo.r_en.eq(sink.ready),
    ]


class UartAccelerator(wiring.Component):
    """The accelerator behind a UART: frames in on `rx`, result frames out on `tx`.

    Received bytes wait in a FIFO of `fifo_depth` bytes (and two more), so the host may send
    while the first layer is busy; result frames are sent at the UART's pace (backpressure on the
    accelerator, nothing dropped). `bad_frames` counts frames dropped for their checksum,
    `overruns` bytes lost because the FIFO was full; with the input stage's drop counters they
    make the status frame sent for each status request frame (`STATUS_COUNTERS`).

    Members
    -------
    rx : ``In(1, init=1)``
    tx : ``Out(1, init=1)``
    bad_frames, overruns, extra_beats, bad_indices, duplicates, bad_values : ``Out(COUNTER_BITS)``
        Saturating counters since reset.
    busy : ``Out(1)``, any layer core busy
    """

    def __init__(self, design: Design, *, divisor: int,
                 fifo_depth: int = 2048):
        self._design = design
        self._divisor, self._fifo_depth = divisor, fifo_depth
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), "busy": Out(1),
                          **{name: Out(COUNTER_BITS) for name in STATUS_COUNTERS}})

    def elaborate(self, platform):
        m = Module()
        m.submodules.uart_rx = rx = UartRx(divisor=self._divisor)
        m.submodules.uart_tx = tx = UartTx(divisor=self._divisor)
        m.submodules.rx_fifo = fifo = SyncFIFOBuffered(width=8, depth=self._fifo_depth)
        m.submodules.deframer = deframer = InputDeframer()
        m.submodules.accelerator = acc = Accelerator(self._design, index_bits=FRAME_INDEX_BITS,
                                                     value_bits=FRAME_VALUE_BITS)
        m.submodules.framer = framer = ResultFramer(fmt=self._design.result,
                                                    count=self._design.network.n_out)
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx), self.busy.eq(acc.busy.any())]
        wiring.connect(m, uart=rx.o_stream, fifo=fifo.w_stream)
        # Registers between the blocks: the receive FIFO's block RAM (its long clock-to-out)
        # no longer feeds the deframer's checksum, nor the deframer's state the input
        # stage's checks.
        _registered(m, "rx_register", fifo.r_stream, deframer.i_stream)
        _registered(m, "event_register", deframer.o_stream, acc.i_stream)
        wiring.connect(m, accelerator=acc.o_stream, framer=framer.i_stream)
        wiring.connect(m, framer=framer.o_stream, uart=tx.i_stream)
        saturated = (1 << COUNTER_BITS) - 1
        with m.If(deframer.bad_frame & (self.bad_frames != saturated)):
            m.d.sync += self.bad_frames.eq(self.bad_frames + 1)
        with m.If(rx.overrun & (self.overruns != saturated)):
            m.d.sync += self.overruns.eq(self.overruns + 1)
        m.d.comb += [getattr(self, name).eq(getattr(acc, name)) for name in DROP_COUNTERS]
        m.d.comb += [framer.status_request.eq(deframer.status_request),
                     *(framer.counters[i].eq(getattr(self, name))
                       for i, name in enumerate(STATUS_COUNTERS))]
        return m
