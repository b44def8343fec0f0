"""Host side of the UART link: stream a data set through a board and compare with the golden
model (``spikeshift run --board ulx3s --port /dev/ttyUSB0``)."""

import numpy as np
from tqdm import tqdm

from ..gen.ir.link import (
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


def run_on_board(net: Network, x, port, *, chunk: int = 16) -> dict:
    """Send `x` through `port` (a pyserial port or anything with write/read) chunk by chunk,
    decode the result frames and compare every value with the golden model; ``status`` holds
    the board's counters after the run (`board_status`)."""
    x = check_inputs(net, x)
    frame_bytes = result_frame_bytes(net.n_out)
    outputs = []
    for start in tqdm(range(0, len(x), chunk), desc="board", unit="chunk"):
        part = x[start:start + chunk]
        port.write(encode_inputs(part))
        data = port.read(frame_bytes * len(part))
        if len(data) != frame_bytes * len(part):
            raise TimeoutError(f"the board answered {len(data)} of "
                               f"{frame_bytes * len(part)} bytes for samples {start}.."
                               f"{start + len(part) - 1}")
        outputs.append(decode_results(data, net.n_out))
    got = np.concatenate(outputs)
    expected = predict(net, x)[0]
    mismatches = np.argwhere(got != expected)
    return {"outputs": got, "classes": np.argmax(got, axis=1), "ok": not mismatches.size,
            "status": board_status(port),
            "first_difference": None if not mismatches.size else
            (f"sample {mismatches[0][0]}, neuron {mismatches[0][1]}: board "
             f"{got[tuple(mismatches[0])]}, golden {expected[tuple(mismatches[0])]}")}
