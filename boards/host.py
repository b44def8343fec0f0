"""Host side of the UART link: stream a data set through a board and compare with the golden
model (``spikeshift run --board ulx3s --port /dev/ttyUSB0``).

What the host can see of a faulty link, and what it does:

- a result frame that fails its checks (sync, count, checksum: a byte corrupted on its way
  to the host): the board is still in step, having answered every sample, so the chunk is
  sent again, up to `retries` times, then `LinkError`;
- fewer result bytes than samples sent within the port's timeout: the board dropped an input
  frame (its checksum failed on the way in: the board counts it and lights LED 1), lost bytes,
  or stopped. A dropped frame that ended a timestep leaves the board waiting for the rest of
  a sample, out of step with the host, so this is not retried: `TimeoutError`.

A dropped frame inside a timestep loses one input value; the board then answers in time but
may differ from the golden model, which the comparison reports.
"""

import numpy as np
from tqdm import tqdm

from ..gen.ir.link import (
    LinkError,
    decode_results,
    decode_status,
    encode_inputs,
    result_frame_bytes,
    status_frame_bytes,
    status_request,
)
from ..gen.ir.network import Network
from ..sim.golden import check_inputs, predict

__all__ = ["run_on_board", "board_status"]


def board_status(port) -> dict[str, int]:
    """The board's counters (`STATUS_COUNTERS`: bad frames, FIFO overruns and the input beats
    it dropped, by reason), asked with a status request frame. Call it with no result frame
    in flight."""
    port.write(status_request())
    frame = port.read(status_frame_bytes())
    if len(frame) != status_frame_bytes():
        raise TimeoutError(f"the board answered {len(frame)} of {status_frame_bytes()} bytes "
                           f"of a status frame")
    return decode_status(frame)


def _samples(start: int, count: int) -> str:
    return f"sample {start}" if count == 1 else f"samples {start}..{start + count - 1}"


def _exchange(port, part: np.ndarray, start: int, frame_bytes: int, direct: bool) -> bytes:
    expected = frame_bytes * len(part)
    port.write(encode_inputs(part, direct=direct))
    data = port.read(expected)
    if len(data) == expected:
        return data
    if not data and not start:
        raise TimeoutError(
            f"the board sent nothing back for {_samples(start, len(part))}; check that it "
            f"runs this network's bitstream and that the baud rate matches its link")
    if not data:
        raise TimeoutError(
            f"the board answered the samples before {start} but sent nothing back for "
            f"{_samples(start, len(part))}; check its power and cable, reprogram it and run "
            f"again")
    raise TimeoutError(
        f"the board sent {len(data)} of {expected} bytes ({len(data) // frame_bytes} of "
        f"{len(part)} result frames) for {_samples(start, len(part))}: it dropped an input "
        f"frame (LED 1 lit) or stopped, and is out of step now; reprogram the board and run "
        f"again")


def run_on_board(net: Network, x, port, *, chunk: int = 16, retries: int = 1) -> dict:
    """Send `x` through `port` (a pyserial port or anything with write/read) `chunk` samples
    at a time, decode the result frames and compare every value with the golden model. A
    direct network's samples are sent once each (their first timestep; `x` may then be
    (batch, input.size)).

    Returns ``outputs``, ``classes``, ``ok``, ``first_difference``, ``resent`` (chunks sent
    again after a bad result frame) and ``status``: the board's counters after the run
    (`board_status`). Raises `TimeoutError` when the board answers short and
    `LinkError` when a chunk's result frames are still bad after `retries` resends.
    """
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, not {chunk!r}")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, not {retries!r}")
    x = check_inputs(net, x)
    frame_bytes = result_frame_bytes(net.n_out)
    outputs, resent = [], 0
    for start in tqdm(range(0, len(x), chunk), desc="board", unit="chunk", disable=None):
        part = x[start:start + chunk]
        for attempt in range(retries + 1):
            data = _exchange(port, part, start, frame_bytes, net.input.direct)
            try:
                outputs.append(decode_results(data, net.n_out))
                break
            except LinkError as error:
                if attempt == retries:
                    tries = f", also when sent {retries + 1} times" if retries else ""
                    raise LinkError(f"{_samples(start, len(part))}: {error}{tries}; the line "
                                    f"is noisy or the baud rate does not match the "
                                    f"board's") from None
                resent += 1
                if hasattr(port, "reset_input_buffer"):
                    port.reset_input_buffer()
    got = np.concatenate(outputs)
    expected = predict(net, x)[0]
    mismatches = np.argwhere(got != expected)
    return {"outputs": got, "classes": np.argmax(got, axis=1), "ok": not mismatches.size,
            "resent": resent,
            "status": board_status(port),
            "first_difference": None if not mismatches.size else
            (f"sample {mismatches[0][0]}, neuron {mismatches[0][1]}: board "
             f"{got[tuple(mismatches[0])]}, golden {expected[tuple(mismatches[0])]}")}
