"""The host link protocol over a byte stream (UART), defined once for hardware and host.

Host to board, one frame per input value (``INPUT_FRAME_BYTES`` bytes)::

    0xA5  flags  index_lo  index_hi  value_lo  value_hi  check        flags bit 0: last

Board to host, one frame per sample::

    0x5A  count_lo  count_hi  value_0 (4 bytes, little endian, signed) ...  check

``check`` makes the sum of every byte after the sync byte 0 modulo 256. A timestep's values
follow DESIGN §4's input stream (non-zero values, ``last`` on its final one, an empty
timestep as one frame with index 0, value 0, last); the board drops a frame whose check
fails and counts it.
"""

import numpy as np

__all__ = ["INPUT_SYNC", "RESULT_SYNC", "INPUT_FRAME_BYTES", "RESULT_VALUE_BYTES",
           "checksum", "encode_inputs", "decode_results", "LinkError"]

INPUT_SYNC = 0xA5
RESULT_SYNC = 0x5A
INPUT_FRAME_BYTES = 7
RESULT_VALUE_BYTES = 4


class LinkError(ValueError):
    """A malformed frame from the board."""


def checksum(body: bytes) -> int:
    """The byte that makes ``sum(body) + check`` a multiple of 256."""
    return (-sum(body)) & 0xFF


def _input_frame(index: int, value: int, last: bool) -> bytes:
    body = bytes([int(last), index & 0xFF, index >> 8, value & 0xFF, value >> 8])
    return bytes([INPUT_SYNC]) + body + bytes([checksum(body)])


def encode_inputs(x: np.ndarray) -> bytes:
    """Input frames for samples `x` of shape (batch, T, n)."""
    frames = []
    for sample in np.asarray(x):
        for frame in sample:
            nz = np.flatnonzero(frame)
            pairs = [(int(i), int(frame[i])) for i in nz] or [(0, 0)]
            for k, (index, value) in enumerate(pairs):
                frames.append(_input_frame(index, value, k == len(pairs) - 1))
    return b"".join(frames)


def decode_results(data: bytes, n_out: int) -> np.ndarray:
    """(samples, n_out) values from result frames; raises `LinkError` on a bad frame."""
    size = 3 + RESULT_VALUE_BYTES * n_out + 1
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
