"""The generated UART design under cocotb as a board on a serial port: a pseudo-terminal whose
other end is the simulation (`spikeshift.sim.tb_uart_pty`)."""

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..gen.ir.link import UART_TOPLEVEL
from .rtl_run import CocotbBench, TestbenchFailed

__all__ = ["UartPtyBoard", "PtySession"]


@dataclass
class PtySession:
    """One simulated power-on of the board: `port` is the pty to open; once the session has
    ended, `result` holds ``bad_frames``, ``overruns``, ``rx_bytes`` and ``tx_bytes``."""

    port: str
    result: dict = field(default_factory=dict)


class UartPtyBoard:
    """Generated ``spikeshift_uart`` Verilog (built for `divisor` clock cycles per bit), served
    on a fresh pty by each `session`.

    A host opens ``session.port`` with pyserial as it would a board's serial port (any baud
    rate: the bench paces bits by the design's divisor). The design starts from reset in each
    session.
    """

    def __init__(self, verilog: Path, build_dir: Path, *, divisor: int):
        self._build_dir = Path(build_dir)
        self._divisor = divisor
        self._bench = CocotbBench(verilog, UART_TOPLEVEL, "spikeshift.sim.tb_uart_pty",
                                  self._build_dir)
        self._sessions = 0

    @contextmanager
    def session(self, *, corrupt_rx: int = -1, corrupt_tx: int = -1, tx_limit: int = -1,
                wall_limit: float = 300.0, start_timeout: float = 60.0):
        """Yield a `PtySession` while the simulation runs; on leaving, stop it and fill in
        ``result``. The faults are those of `spikeshift.sim.tb_uart_pty`.

        Raises `TestbenchFailed` when the simulation fails or never opens its pty.
        """
        self._sessions += 1
        pty_file = self._build_dir / f"pty_{self._sessions}.txt"
        stop_file = self._build_dir / f"stop_{self._sessions}"
        for path in (pty_file, stop_file):
            path.unlink(missing_ok=True)
        outcome = {}

        def simulate():
            try:
                outcome["result"] = self._bench.run(
                    divisor=self._divisor, corrupt_rx=corrupt_rx, corrupt_tx=corrupt_tx,
                    tx_limit=tx_limit, wall_limit=wall_limit, pty_file=str(pty_file),
                    stop_file=str(stop_file))
            except TestbenchFailed as error:
                outcome["error"] = error

        thread = threading.Thread(target=simulate, name="uart-pty-board", daemon=True)
        thread.start()
        deadline = time.monotonic() + start_timeout
        while not pty_file.exists():
            if not thread.is_alive() or time.monotonic() > deadline:
                stop_file.touch()
                thread.join()
                raise outcome.get("error") or TestbenchFailed(
                    f"the UART simulation opened no pty within {start_timeout} s")
            time.sleep(0.05)
        session = PtySession(port=pty_file.read_text())
        try:
            yield session
        finally:
            stop_file.touch()
            thread.join()
        if "error" in outcome:
            raise outcome["error"]
        session.result.update({key: int(value) for key, value in outcome["result"].items()})
