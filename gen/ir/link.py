"""The host link protocol over a byte stream (UART), defined once for hardware and host.

Host to board, one frame per input value (``INPUT_FRAME_BYTES`` bytes)::

    0xA5  flags  index_lo  index_hi  value_lo  value_hi  check        flags bit 0: last

Board to host, one frame per sample::

    0x5A  count_lo  count_hi  value_0 (4 bytes, little endian, signed) ...  check

``check`` makes the sum of every byte after the sync byte 0 modulo 256. A timestep's values
follow DESIGN §4's input stream (non-zero values, ``last`` on its final one, an empty
timestep as one frame with index 0, value 0, last); the board drops a frame whose check
fails and counts it.

The AXI interface of the Zynq flow is defined here too: input words (uint32) hold ``index``
in bits 15:0, ``value`` in 30:16 and ``last`` in bit 31, and `AXI_REGISTERS` maps the AXI4-Lite
register names to byte addresses (see `spikeshift.hdl.axi`).
"""

import numpy as np

__all__ = ["TOPLEVEL", "AXI_TOPLEVEL", "UART_TOPLEVEL", "INPUT_SYNC", "RESULT_SYNC",
           "INPUT_FRAME_BYTES", "RESULT_VALUE_BYTES", "result_frame_bytes",
           "AXI_INDEX_BITS", "AXI_VALUE_BITS", "AXI_ID", "AXI_REGISTERS", "AXI_PORTS",
           "input_events",
           "checksum", "encode_inputs", "decode_results", "axi_input_words", "LinkError"]

#: Verilog module names of the accelerator's stream top, its AXI wrapper and its UART link.
TOPLEVEL = "spikeshift_top"
AXI_TOPLEVEL = "spikeshift_axi"
UART_TOPLEVEL = "spikeshift_uart"

INPUT_SYNC = 0xA5
RESULT_SYNC = 0x5A
INPUT_FRAME_BYTES = 7
RESULT_VALUE_BYTES = 4

AXI_INDEX_BITS = 16
AXI_VALUE_BITS = 15
AXI_ID = 0x53504B31                       # "SPK1"
AXI_REGISTERS = {"ID": 0x00, "STATUS": 0x04, "INPUT_SIZE": 0x08, "OUTPUT_SIZE": 0x0C,
                 "TIMESTEPS": 0x10, "SAMPLES_PER_PACKET": 0x14, "SAMPLES_DONE": 0x18,
                 "CYCLES": 0x1C}


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


def checksum(body: bytes) -> int:
    """The byte that makes ``sum(body) + check`` a multiple of 256."""
    return (-sum(body)) & 0xFF


def _input_frame(index: int, value: int, last: bool) -> bytes:
    body = bytes([int(last), index & 0xFF, index >> 8, value & 0xFF, value >> 8])
    return bytes([INPUT_SYNC]) + body + bytes([checksum(body)])


def input_events(x: np.ndarray):
    """The input stream of samples `x` (batch, T, n), DESIGN §4: for each timestep its
    non-zero values in index order, `last` on the final one, or one empty beat (0, 0, last).

    Yields ``(sample, t, index, value, last)``.
    """
    for sample, frames in enumerate(np.asarray(x)):
        for t, frame in enumerate(frames):
            nz = np.flatnonzero(frame)
            if not nz.size:
                yield sample, t, 0, 0, True
            for k, index in enumerate(nz):
                yield sample, t, int(index), int(frame[index]), k == nz.size - 1


def encode_inputs(x: np.ndarray) -> bytes:
    """Input frames for samples `x` of shape (batch, T, n)."""
    return b"".join(_input_frame(index, value, last)
                    for _, _, index, value, last in input_events(x))


def axi_input_words(x: np.ndarray) -> np.ndarray:
    """The AXI4-Stream input words (uint32: index 15:0, value 30:16, last 31) for `x`."""
    last_bit = AXI_INDEX_BITS + AXI_VALUE_BITS
    return np.array([index | (value << AXI_INDEX_BITS) | (int(last) << last_bit)
                     for _, _, index, value, last in input_events(x)], dtype=np.uint32)


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
