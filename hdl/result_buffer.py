"""Holds the last layer's results of one sample and streams them out, one value per beat."""

from amaranth import Array, Module, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..gen.ir.formats import IntFormat
from .layouts import result_layout

__all__ = ["result_write_signature", "ResultBuffer"]


def result_write_signature(lanes: int, chunks: int, fmt: IntFormat) -> wiring.Signature:
    """Last core's side: `free`, then per chunk `en` with `values`, and `commit` at the end."""
    return wiring.Signature({
        "free": In(1),
        "en": Out(1),
        "chunk": Out(range(chunks)),
        "values": Out(signed(fmt.bits)).array(lanes),
        "commit": Out(1),
    })


class ResultBuffer(wiring.Component):
    """`size` result registers, written a chunk of `lanes` at a time, read as a stream.

    After `commit` the buffer streams values 0 .. size - 1 (``last`` on the final one) and is
    `free` again once the last beat is accepted. Backpressure only delays the stream.

    Members
    -------
    w : ``In(result_write_signature(lanes, chunks, fmt))``
    o_stream : ``Out(stream.Signature(result_layout(fmt)))``
    """

    def __init__(self, *, size: int, lanes: int, fmt: IntFormat):
        self._size, self._lanes, self._fmt = size, lanes, fmt
        self._chunks = -(-size // lanes)
        super().__init__({
            "w": In(result_write_signature(lanes, self._chunks, fmt)),
            "o_stream": Out(stream.Signature(result_layout(fmt))),
        })

    def elaborate(self, platform):
        m = Module()
        values = [Signal(signed(self._fmt.bits), name=f"value_{j}")
                  for j in range(self._chunks * self._lanes)]
        full = Signal()
        index = Signal(range(self._size))
        with m.If(self.w.en):
            for c in range(self._chunks):
                with m.If(self.w.chunk == c):
                    m.d.sync += [values[c * self._lanes + p].eq(self.w.values[p])
                                 for p in range(self._lanes)]
        last = index == self._size - 1
        m.d.comb += [
            self.w.free.eq(~full),
            self.o_stream.valid.eq(full),
            self.o_stream.payload.value.eq(Array(values)[index]),
            self.o_stream.payload.last.eq(last),
        ]
        with m.If(self.w.commit):
            m.d.sync += full.eq(1)
        with m.If(self.o_stream.valid & self.o_stream.ready):
            m.d.sync += index.eq(0 if self._size == 1 else index + 1)
            with m.If(last):
                m.d.sync += [index.eq(0), full.eq(0)]
        return m
