# amaranth: UnusedElaboratable=no
"""The UART link never drops, duplicates or reorders a frame, a value or a byte.

- InputDeframer: the environment sends well-formed frames (spikeshift.gen.ir.link), with any
  noise bytes between them and any pace; the n-th input frame's whole fields (16-bit index and
  value, ``last``) are the n-th event out, each status request frame pulses `status_request`
  once instead, no frame is reported bad, at most one event waits inside (and no byte is taken
  meanwhile), and the events obey the stream rules.
- ResultFramer: the bytes out parse as result frames: sync and count, every value's four
  little-endian bytes in order (the n-th value in is the n-th value out), a check byte that
  makes the frame's sum 0; the bytes obey the stream rules.
- UartTx into UartRx (one divisor): every byte sent is the next byte received, with no
  error or overrun, when the receiver's consumer takes each byte within a few bit times.
"""

import pytest
from amaranth import Cat, Module, Mux, Signal
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume

from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.link import (
    FLAG_LAST,
    FLAG_STATUS,
    INPUT_FRAME_BYTES,
    INPUT_SYNC,
    RESULT_SYNC,
    RESULT_VALUE_BYTES,
    result_frame_bytes,
)
from spikeshift.hdl.host_link import InputDeframer, ResultFramer
from spikeshift.hdl.uart import UartRx, UartTx

from .prove import bound, prove, refute
from .streams import Scoreboard, StreamMutant, obeys_stream_rules, sink, source


def deframer_harness(dut) -> Module:
    m = Module()
    m.submodules.dut = dut
    i, o = dut.i_stream, dut.o_stream
    pos = Signal(range(INPUT_FRAME_BYTES))              # byte of the frame being sent
    body = [Signal(8, name=f"sent_{k}") for k in range(INPUT_FRAME_BYTES - 2)]
    check = Signal(8)
    m.d.comb += check.eq(-sum(body[1:], body[0]))
    # any bytes, except that a frame's last byte is its check; bytes between frames that are
    # not the sync byte are noise
    source(m, i.valid, i.ready, i.payload, name="bytes",
           value=Mux(pos == INPUT_FRAME_BYTES - 1, check, AnySeq(8)))
    sink(m, o.ready)
    obeys_stream_rules(m, o.valid, o.ready, o.payload)
    accept = i.valid & i.ready
    byte = i.payload
    with m.If(accept):
        with m.If(pos == 0):
            with m.If(byte == INPUT_SYNC):
                m.d.sync += pos.eq(1)
        with m.Elif(pos == INPUT_FRAME_BYTES - 1):
            m.d.sync += pos.eq(0)
        with m.Else():
            m.d.sync += pos.eq(pos + 1)
            for k, reg in enumerate(body):
                with m.If(pos == k + 1):
                    m.d.sync += reg.eq(byte)
    frame_done = accept & (pos == INPUT_FRAME_BYTES - 1)
    flags, index_lo, index_hi, value_lo, value_hi = body
    status = (flags & FLAG_STATUS) != 0
    board = Scoreboard(m, put=frame_done & ~status,
                       put_data=Cat((flags & FLAG_LAST) != 0, index_lo, index_hi, value_lo,
                                    value_hi),
                       get=o.valid & o.ready,
                       get_data=Cat(o.payload.last, o.payload.index, o.payload.value), bits=3)
    requested = Signal()
    m.d.sync += requested.eq(frame_done & status)
    # at most one event inside, and no byte taken while it waits
    m.d.comb += [Assert(~dut.bad_frame), Assert(board.in_flight <= 1),
                 Assert(~i.ready | (board.puts == board.gets)),
                 Assert(dut.status_request == requested)]
    return m


DEFRAMER_DEPTH = bound(9, 11)   # one frame and its event; the checksum makes each step costly


def _deframer():
    return InputDeframer()


def test_deframer_turns_every_good_frame_into_its_event_in_order(tmp_path):
    prove(deframer_harness(_deframer()), tmp_path, depth=DEFRAMER_DEPTH)


DEFRAMER_MUTANTS = {
    "drops-index-5": dict(drop=lambda p: p.index == 5),
    "drops-index-above-255": dict(drop=lambda p: p.index[8:] != 0),
    "withdraws-valid": dict(withdraw=True),
}


@pytest.mark.parametrize("name", DEFRAMER_MUTANTS)
def test_deframer_proof_catches_mutant(name, tmp_path):
    dut = StreamMutant(_deframer(), "o_stream", **DEFRAMER_MUTANTS[name])
    refute(deframer_harness(dut), tmp_path, depth=DEFRAMER_DEPTH)


COUNT, RESULT = 2, IntFormat(bits=6)
FRAME = result_frame_bytes(COUNT)


def framer_harness(dut) -> Module:
    m = Module()
    m.submodules.dut = dut
    i, o = dut.i_stream, dut.o_stream
    source(m, i.valid, i.ready, i.payload, name="values")
    sink(m, o.ready)
    obeys_stream_rules(m, o.valid, o.ready, o.payload)
    accept = i.valid & i.ready
    slot = Signal(range(COUNT))                          # neuron of the next value in
    with m.If(i.valid):
        m.d.comb += Assume(i.payload.last == (slot == COUNT - 1))
    with m.If(accept):
        m.d.sync += slot.eq(slot + 1)
        with m.If(slot == COUNT - 1):
            m.d.sync += slot.eq(0)

    n = AnyConst(3)
    puts, gets = Signal(4), Signal(4)
    m.d.comb += Assume(~puts[3])
    captured = Signal(8 * RESULT_VALUE_BYTES)
    m.d.sync += puts.eq(puts + accept)
    with m.If(accept & (puts == n)):
        m.d.sync += captured.eq(i.payload.value.as_signed())

    sent = o.valid & o.ready
    pos = Signal(range(FRAME))                          # byte of the frame being received
    part = Signal(range(RESULT_VALUE_BYTES))            # byte of the value being received
    total = Signal(8)
    with m.If(sent):
        m.d.sync += [pos.eq(pos + 1), total.eq(total + o.payload)]
        with m.If(pos == 0):
            m.d.comb += Assert(o.payload == RESULT_SYNC)
            m.d.sync += total.eq(0)
        with m.Elif(pos == 1):
            m.d.comb += Assert(o.payload == COUNT & 0xFF)
        with m.Elif(pos == 2):
            m.d.comb += Assert(o.payload == COUNT >> 8)
        with m.Elif(pos == FRAME - 1):
            m.d.comb += Assert((total + o.payload)[:8] == 0)
            m.d.sync += pos.eq(0)
        with m.Else():
            m.d.comb += Assert(gets < puts)
            m.d.sync += part.eq(part + 1)
            with m.If(part == RESULT_VALUE_BYTES - 1):
                m.d.sync += [part.eq(0), gets.eq(gets + 1)]
            with m.If(gets == n):
                m.d.comb += Assert(o.payload == captured.word_select(part, 8))
    return m


FRAMER_DEPTH = bound(14, 30)


def _framer():
    return ResultFramer(fmt=RESULT, count=COUNT)


def test_framer_sends_every_value_once_in_well_formed_frames(tmp_path):
    prove(framer_harness(_framer()), tmp_path, depth=FRAMER_DEPTH)


FRAMER_MUTANTS = {
    "drops-0xff": dict(drop=lambda p: p == 0xFF),
    "withdraws-valid": dict(withdraw=True),
}


@pytest.mark.parametrize("name", FRAMER_MUTANTS)
def test_framer_proof_catches_mutant(name, tmp_path):
    dut = StreamMutant(_framer(), "o_stream", **FRAMER_MUTANTS[name])
    refute(framer_harness(dut), tmp_path, depth=FRAMER_DEPTH)


DIVISOR = 4
UART_DEPTH = bound(64, 100)               # one byte through the line (about 50 steps)
PATIENCE = 3 * DIVISOR                     # cycles the receiver's consumer may stall


def uart_harness(tx, rx) -> Module:
    m = Module()
    m.submodules.tx, m.submodules.rx = tx, rx
    m.d.comb += rx.rx.eq(tx.tx)
    i, o = tx.i_stream, rx.o_stream
    source(m, i.valid, i.ready, i.payload, name="tx_bytes")
    m.d.comb += o.ready.eq(AnySeq(1))
    waited = Signal(range(PATIENCE + 1))
    with m.If(o.valid & ~o.ready):
        m.d.sync += waited.eq(waited + 1)
    with m.Else():
        m.d.sync += waited.eq(0)
    m.d.comb += Assume(waited < PATIENCE)
    obeys_stream_rules(m, o.valid, o.ready, o.payload)
    Scoreboard(m, put=i.valid & i.ready, put_data=i.payload, get=o.valid & o.ready,
               get_data=o.payload, bits=2)
    m.d.comb += [Assert(~rx.error), Assert(~rx.overrun)]
    return m


def test_uart_receives_every_byte_sent_in_order(tmp_path):
    prove(uart_harness(UartTx(divisor=DIVISOR), UartRx(divisor=DIVISOR)), tmp_path,
          depth=UART_DEPTH)


UART_MUTANTS = {
    "receiver-bit-time": lambda: (UartTx(divisor=DIVISOR), UartRx(divisor=DIVISOR + 1)),
}


@pytest.mark.parametrize("name", UART_MUTANTS)
def test_uart_proof_catches_mutant(name, tmp_path):
    refute(uart_harness(*UART_MUTANTS[name]()), tmp_path, depth=UART_DEPTH)
