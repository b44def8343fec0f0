"""The host link protocol over a byte stream (UART), defined once for hardware and host.

Host to board, one frame per input value (``INPUT_FRAME_BYTES`` bytes)::

    0xA5  flags  index_lo  index_hi  value_lo  value_hi  check        flags bit 0: last
                                                                      flags bit 1: status request

A frame with the status request flag carries no input value: the board answers it with one
status frame, sent between result frames::

    0x5C  counter_0 (4 bytes, little endian, unsigned) ...  check      counters: STATUS_COUNTERS

Board to host, one frame per sample::

    0x5A  count_lo  count_hi  value_0 (4 bytes, little endian, signed) ...  check

``check`` makes the sum of every byte after the sync byte 0 modulo 256. A timestep's values
follow DESIGN §4's input stream (non-zero values, ``last`` on its final one, an empty
timestep as one frame with index 0, value 0, last; for ``input.encoding`` ``"direct"`` a
sample is its first timestep alone); the board drops a frame whose check fails and counts it.

The input stage defends itself against bad input beats (README "Bad input"): within one
timestep, beat number ``input.size`` onwards (``extra_beats``), an index at or beyond
``input.size`` (``bad_indices``), an index that already had a beat (``duplicates``) and a
value above the input format's maximum (``bad_values``) are dropped, checked in that order,
and counted in `DROP_COUNTERS`; `last` closes the timestep even on a dropped beat. Counters are
`COUNTER_BITS` wide and saturate.

The AXI interface of the Zynq flow is defined here too: input words (uint32) hold ``index``
in bits 15:0, ``value`` in 30:16 and ``last`` in bit 31, and `AXI_REGISTERS` maps the AXI4-Lite
register names to byte addresses (see `spikeshift.hdl.axi`).
"""

import numpy as np

__all__ = ["TOPLEVEL", "AXI_TOPLEVEL", "UART_TOPLEVEL", "INPUT_SYNC", "RESULT_SYNC",
           "STATUS_SYNC", "INPUT_FRAME_BYTES", "RESULT_VALUE_BYTES", "FRAME_INDEX_BITS",
           "FRAME_VALUE_BITS", "FLAG_LAST", "FLAG_STATUS", "COUNTER_BITS", "DROP_COUNTERS",
           "INPUT_STAGE_LATENCY",
           "STATUS_COUNTERS", "result_frame_bytes", "status_frame_bytes", "status_request",
           "encode_events", "axi_words", "decode_status",
           "AXI_INDEX_BITS", "AXI_VALUE_BITS", "AXI_ID", "AXI_REGISTERS", "AXI_PORTS",
           "input_events",
           "checksum", "encode_inputs", "decode_results", "axi_input_words", "LinkError"]

#: Verilog module names of the accelerator's stream top, its AXI wrapper and its UART link.
TOPLEVEL = "spikeshift_top"
AXI_TOPLEVEL = "spikeshift_axi"
UART_TOPLEVEL = "spikeshift_uart"

INPUT_SYNC = 0xA5
RESULT_SYNC = 0x5A
STATUS_SYNC = 0x5C
INPUT_FRAME_BYTES = 7
RESULT_VALUE_BYTES = 4
FRAME_INDEX_BITS = 16                     # index_lo, index_hi
FRAME_VALUE_BITS = 16                     # value_lo, value_hi
FLAG_LAST = 0x01
FLAG_STATUS = 0x02

COUNTER_BITS = 32
#: Cycles from the accept of a timestep's beat with `last` to the first cycle core 0 can start
#: that timestep: the input stage reads a row of its duplicate flags in a beat's accept cycle,
#: the flag in the next, and writes the beat (and commits the timestep) in the third; the first
#: spike buffer shows it full in the one after.
INPUT_STAGE_LATENCY = 3
#: The input stage's drop counters, in the order a bad beat is classified.
DROP_COUNTERS = ("extra_beats", "bad_indices", "duplicates", "bad_values")
#: The counters of a UART status frame, in frame order: the link's own, then the input stage's.
STATUS_COUNTERS = ("bad_frames", "overruns") + DROP_COUNTERS

AXI_INDEX_BITS = 16
AXI_VALUE_BITS = 15
AXI_ID = 0x53504B31                       # "SPK1"
AXI_REGISTERS = {"ID": 0x00, "STATUS": 0x04, "INPUT_SIZE": 0x08, "OUTPUT_SIZE": 0x0C,
                 "TIMESTEPS": 0x10, "SAMPLES_PER_PACKET": 0x14, "SAMPLES_DONE": 0x18,
                 "CYCLES": 0x1C,
                 **{name.upper(): 0x20 + 4 * i for i, name in enumerate(DROP_COUNTERS)}}


#: The AXI wrapper's ports besides clk and rst, Vivado-named: (name, "input"/"output", width).
AXI_PORTS = (
    ("s_axis_tdata", "input", 32), ("s_axis_tvalid", "input", 1),
    ("s_axis_tready", "output", 1), ("s_axis_tlast", "input", 1),
    ("m_axis_tdata", "output", 32), ("m_axis_tvalid", "output", 1),
    ("m_axis_tready", "input", 1), ("m_axis_tlast", "output", 1),
    ("s_axil_awaddr", "input", 6), ("s_axil_awvalid", "input", 1),
    ("s_axil_awready", "output", 1), ("s_axil_wdata", "input", 32),
    ("s_axil_wstrb", "input", 4), ("s_axil_wvalid", "input", 1),
    ("s_axil_wready", "output", 1), ("s_axil_bresp", "output", 2),
    ("s_axil_bvalid", "output", 1), ("s_axil_bready", "input", 1),
    ("s_axil_araddr", "input", 6), ("s_axil_arvalid", "input", 1),
    ("s_axil_arready", "output", 1), ("s_axil_rdata", "output", 32),
    ("s_axil_rresp", "output", 2), ("s_axil_rvalid", "output", 1),
    ("s_axil_rready", "input", 1),
)


class LinkError(ValueError):
    """A malformed frame from the board."""


def result_frame_bytes(n_out: int) -> int:
    """Bytes of one result frame: sync, two count bytes, the values, the check byte."""
    return 3 + RESULT_VALUE_BYTES * n_out + 1


def status_frame_bytes() -> int:
    """Bytes of one status frame: sync, 4 bytes per counter, the check byte."""
    return 1 + COUNTER_BITS // 8 * len(STATUS_COUNTERS) + 1


def checksum(body: bytes) -> int:
    """The byte that makes ``sum(body) + check`` a multiple of 256."""
    return (-sum(body)) & 0xFF


def _frame(flags: int, index: int, value: int) -> bytes:
    body = bytes([flags, index & 0xFF, index >> 8, value & 0xFF, value >> 8])
    return bytes([INPUT_SYNC]) + body + bytes([checksum(body)])


def _check_field(name: str, value: int, bits: int) -> int:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} must be in [0, {(1 << bits) - 1}], not {value!r}")
    return value


def status_request() -> bytes:
    """The frame asking the board for one status frame."""
    return _frame(FLAG_STATUS, 0, 0)


def input_events(x: np.ndarray, *, direct: bool = False):
    """The input stream of samples `x` (batch, T, n), DESIGN §4: for each timestep its
    non-zero values in index order, `last` on the final one, or one empty beat (0, 0, last).
    `direct` (``input.encoding`` ``"direct"``: the same values every timestep): each sample's
    first timestep only, which the accelerator holds for all T.

    Yields ``(sample, t, index, value, last)``.
    """
    x = np.asarray(x)
    for sample, frames in enumerate(x[:, :1] if direct else x):
        for t, frame in enumerate(frames):
            nz = np.flatnonzero(frame)
            if not nz.size:
                yield sample, t, 0, 0, True
            for k, index in enumerate(nz):
                yield sample, t, int(index), int(frame[index]), k == nz.size - 1


def encode_events(events) -> bytes:
    """Input frames for `events`, ``(index, value, last)`` beats sent as they are."""
    return b"".join(_frame(FLAG_LAST if last else 0,
                           _check_field("index", int(index), FRAME_INDEX_BITS),
                           _check_field("value", int(value), FRAME_VALUE_BITS))
                    for index, value, last in events)


def encode_inputs(x: np.ndarray, *, direct: bool = False) -> bytes:
    """Input frames for samples `x` of shape (batch, T, n) (`direct`: see `input_events`)."""
    return encode_events((index, value, last)
                         for _, _, index, value, last in input_events(x, direct=direct))


def axi_words(events) -> np.ndarray:
    """AXI4-Stream input words (uint32: index 15:0, value 30:16, last 31) for `events`,
    ``(index, value, last)`` beats sent as they are."""
    last_bit = AXI_INDEX_BITS + AXI_VALUE_BITS
    return np.array([_check_field("index", int(index), AXI_INDEX_BITS)
                     | (_check_field("value", int(value), AXI_VALUE_BITS) << AXI_INDEX_BITS)
                     | (int(last) << last_bit)
                     for index, value, last in events], dtype=np.uint32)


def axi_input_words(x: np.ndarray, *, direct: bool = False) -> np.ndarray:
    """The AXI4-Stream input words for samples `x` of shape (batch, T, n) (`direct`: see
    `input_events`)."""
    return axi_words((index, value, last)
                     for _, _, index, value, last in input_events(x, direct=direct))


def decode_status(frame: bytes) -> dict[str, int]:
    """The counters of one status frame, by `STATUS_COUNTERS` name; raises `LinkError` on a
    bad frame."""
    if len(frame) != status_frame_bytes():
        raise LinkError(f"a status frame has {status_frame_bytes()} bytes, not {len(frame)}")
    if frame[0] != STATUS_SYNC:
        raise LinkError(f"status frame starts with {frame[0]:#04x}, not {STATUS_SYNC:#04x}")
    if sum(frame[1:]) & 0xFF:
        raise LinkError("status frame fails its checksum")
    values = np.frombuffer(frame[1:-1], dtype=f"<u{COUNTER_BITS // 8}")
    return {name: int(v) for name, v in zip(STATUS_COUNTERS, values)}


def decode_results(data: bytes, n_out: int) -> np.ndarray:
    """(samples, n_out) values from result frames; raises `LinkError` on a bad frame."""
    size = result_frame_bytes(n_out)
    if len(data) % size:
        raise LinkError(f"received {len(data)} bytes, not a whole number of {size}-byte frames")
    out = []
    for start in range(0, len(data), size):
        frame = data[start:start + size]
        if frame[0] != RESULT_SYNC:
            raise LinkError(f"frame at byte {start} starts with {frame[0]:#04x}, not "
                            f"{RESULT_SYNC:#04x}")
        if sum(frame[1:]) & 0xFF:
            raise LinkError(f"frame at byte {start} fails its checksum")
        count = frame[1] | (frame[2] << 8)
        if count != n_out:
            raise LinkError(f"frame at byte {start} holds {count} values, not {n_out}")
        values = np.frombuffer(frame[3:-1], dtype="<i4").astype(np.int64)
        out.append(values)
    return np.array(out, dtype=np.int64).reshape(-1, n_out)
