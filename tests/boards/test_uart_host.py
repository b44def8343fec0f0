"""``spikeshift run`` against the generated UART design under cocotb, reached through a
pseudo-terminal as through a board's serial port, and the host's error paths."""

import os
import subprocess
import sys

import numpy as np
import pytest

from spikeshift import predict
from spikeshift.gen.cli.main import main
from spikeshift.gen.flow.verilog import UART_TOPLEVEL, accelerator_verilog
from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.link import (
    encode_inputs,
    result_frame_bytes,
    status_frame_bytes,
    status_request,
)
from spikeshift.gen.ir.synthetic import random_inputs, random_network
from spikeshift.sim.uart_pty import UartPtyBoard

DIVISOR = 4                                   # clock cycles per bit: seconds per run, not hours
CHUNK = 2


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """A network whose results cover negative membranes and several classes, five samples
    (chunks of 2, 2, 1), and its UART design built once for every session."""
    rng = np.random.default_rng(7001)
    net = random_network(rng, max_size=12, max_timesteps=4)
    x = random_inputs(rng, net, 5)
    expected, classes = predict(net, x)
    assert net.output.mode == "membrane" and (expected < 0).any() and len(set(classes)) > 1
    tmp = tmp_path_factory.mktemp("uart_pty")
    net.save(tmp / "net.json")
    np.save(tmp / "x.npy", x)
    verilog = tmp / f"{UART_TOPLEVEL}.v"
    verilog.write_text(accelerator_verilog(plan(net), wrapper="uart", divisor=DIVISOR))
    return net, x, tmp, UartPtyBoard(verilog, tmp / "sim", divisor=DIVISOR)


def spikeshift_run(tmp, port, *args):
    """The installed command line, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "spikeshift", "run",
                           str(tmp / "net.json"), str(tmp / "x.npy"), "--board", "ulx3s",
                           "--port", port, "--chunk", str(CHUNK), *args],
                          capture_output=True, text=True, timeout=300)


def assert_one_clean_error(result, *needles):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spikeshift run: error: --port '"), lines
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.cocotb
def test_spikeshift_run_through_a_pty_gets_golden_results_from_the_simulated_uart_design(board):
    net, x, tmp, uart = board
    with uart.session() as session:
        result = spikeshift_run(tmp, session.port, "--timeout", "60", "-o",
                                str(tmp / "out.npz"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK: 5 samples on the ulx3s equal the golden model"
    expected, classes = predict(net, x)
    out = np.load(tmp / "out.npz")
    np.testing.assert_array_equal(out["outputs"], expected)
    np.testing.assert_array_equal(out["classes"], classes)
    # the inputs and, after the run, one status request; the results and one status frame
    assert session.result == {"bad_frames": 0, "overruns": 0,
                              "rx_bytes": len(encode_inputs(x)) + len(status_request()),
                              "tx_bytes": len(x) * result_frame_bytes(net.n_out)
                              + status_frame_bytes()}


@pytest.mark.cocotb
def test_input_frame_dropped_by_the_design_ends_the_run_with_exit_2_naming_the_samples(board):
    """The check byte of the first chunk's final frame is corrupted: the design drops that
    frame (the end of sample 1's last timestep) and counts it, so sample 1 never completes."""
    net, x, tmp, uart = board
    offset = len(encode_inputs(x[:CHUNK])) - 1
    with uart.session(corrupt_rx=offset) as session:
        result = spikeshift_run(tmp, session.port, "--timeout", "4")
    frame = result_frame_bytes(net.n_out)
    assert_one_clean_error(
        result, "with --timeout 4.0 s", f"the board sent {frame} of {2 * frame} bytes (1 of 2 "
        f"result frames) for samples 0..1: it dropped an input frame (LED 1 lit) or stopped, "
        f"and is out of step now; reprogram the board and run again")
    assert session.result["bad_frames"] == 1
    assert session.result["rx_bytes"] == offset + 1          # the host stopped after chunk 0
    assert session.result["tx_bytes"] == frame


@pytest.mark.cocotb
def test_result_frame_corrupted_on_its_way_to_the_host_is_sent_again_and_run_succeeds(board):
    net, x, tmp, uart = board
    frame = result_frame_bytes(net.n_out)
    with uart.session(corrupt_tx=frame + 3) as session:         # sample 1's first value byte
        result = spikeshift_run(tmp, session.port, "--timeout", "60", "-o",
                                str(tmp / "resent.npz"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("OK: 5 samples on the ulx3s equal the golden model "
                                     "(1 of 3 chunks sent again after a corrupted answer)")
    np.testing.assert_array_equal(np.load(tmp / "resent.npz")["outputs"], predict(net, x)[0])
    assert session.result["bad_frames"] == 0
    assert session.result["rx_bytes"] == (len(encode_inputs(x)) + len(encode_inputs(x[:CHUNK]))
                                          + len(status_request()))
    assert session.result["tx_bytes"] == (len(x) + CHUNK) * frame + status_frame_bytes()


@pytest.mark.cocotb
def test_board_that_stops_answering_times_out_with_exit_2_and_no_traceback(board):
    net, x, tmp, uart = board
    frame = result_frame_bytes(net.n_out)
    with uart.session(tx_limit=CHUNK * frame) as session:      # answers chunk 0, then silence
        result = spikeshift_run(tmp, session.port, "--timeout", "4")
    assert_one_clean_error(
        result, "the board answered the samples before 2 but sent nothing back for samples "
        "2..3; check its power and cable, reprogram it and run again")
    assert session.result["tx_bytes"] == 2 * CHUNK * frame     # it did answer chunk 1


def test_run_on_a_port_that_never_answers_fails_with_exit_2_and_what_to_do(tmp_path, capsys):
    rng = np.random.default_rng(5)
    net = random_network(rng, max_size=8, max_timesteps=2)
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", random_inputs(rng, net, 1))
    master, slave = os.openpty()               # a serial port with nothing on the other end
    try:
        port = os.ttyname(slave)
        code = main(["run", str(tmp_path / "net.json"), str(tmp_path / "x.npy"),
                     "--board", "icebreaker", "--port", port, "--timeout", "0.2"])
    finally:
        os.close(master)
        os.close(slave)
    assert code == 2
    assert capsys.readouterr().err == (
        f"spikeshift run: error: --port {port!r} at --baud 115200 with --timeout 0.2 s: the "
        f"board sent nothing back for sample 0; check that it runs this network's bitstream "
        f"and that the baud rate matches its link\n")


def test_run_on_a_missing_port_fails_with_exit_2_naming_the_port(tmp_path, capsys):
    rng = np.random.default_rng(5)
    net = random_network(rng, max_size=8, max_timesteps=2)
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", random_inputs(rng, net, 1))
    port = str(tmp_path / "ttyUSB9")
    code = main(["run", str(tmp_path / "net.json"), str(tmp_path / "x.npy"),
                 "--board", "ulx3s", "--port", port])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spikeshift run: error: --port {port!r} cannot be opened (")
    assert "No such file or directory" in err
    assert err.endswith("); pass the board's serial port (python -m serial.tools.list_ports "
                        "lists them) or a pyserial URL\n")
    assert err.count("\n") == 1


@pytest.mark.parametrize("option, value, what", [
    ("--timeout", "0", "number of seconds"), ("--chunk", "-3", "integer"),
    ("--baud", "fast", "integer")])
def test_run_refuses_options_that_are_not_positive(tmp_path, capsys, option, value, what):
    with pytest.raises(SystemExit) as stop:
        main(["run", "net.json", "x.npy", "--board", "ulx3s", "--port", "/dev/null",
              option, value])
    assert stop.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"error: argument {option}: must be a positive {what}, not {value!r}\n")


def test_port_that_echoes_the_host_fails_its_frame_checks_twice_then_exit_2(tmp_path, capsys):
    """pyserial's ``loop://`` sends every byte back, as a port with rx and tx shorted does:
    the host reads its own input frames where result frames belong."""
    rng = np.random.default_rng(5)
    net = random_network(rng, max_size=8, max_timesteps=2)
    x = random_inputs(rng, net, 1)
    assert len(encode_inputs(x)) >= result_frame_bytes(net.n_out)     # a full answer's worth
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", x)
    code = main(["run", str(tmp_path / "net.json"), str(tmp_path / "x.npy"),
                 "--board", "ulx3s", "--port", "loop://", "--timeout", "0.5"])
    assert code == 2
    assert capsys.readouterr().err == (
        "spikeshift run: error: --port 'loop://' at --baud 115200 with --timeout 0.5 s: "
        "sample 0: frame at byte 0 starts with 0xa5, not 0x5a, also when sent 2 times; the "
        "line is noisy or the baud rate does not match the board's\n")


def test_port_lost_during_the_run_fails_with_exit_2_naming_the_port(tmp_path, capsys,
                                                                    monkeypatch):
    import serial

    class Unplugged:
        """An opened port whose device disappears on the first write."""

        def __enter__(self):
            return self

        def __exit__(self, *_):
            return False

        def write(self, data):
            raise serial.SerialException("write failed: [Errno 5] Input/output error")

    monkeypatch.setattr(serial, "serial_for_url", lambda *_, **__: Unplugged())
    rng = np.random.default_rng(5)
    net = random_network(rng, max_size=8, max_timesteps=2)
    net.save(tmp_path / "net.json")
    np.save(tmp_path / "x.npy", random_inputs(rng, net, 1))
    code = main(["run", str(tmp_path / "net.json"), str(tmp_path / "x.npy"),
                 "--board", "ulx3s", "--port", "/dev/ttyUSB0"])
    assert code == 2
    assert capsys.readouterr().err == (
        "spikeshift run: error: --port '/dev/ttyUSB0' failed during the run (write failed: "
        "[Errno 5] Input/output error); check the board's connection and run again\n")


def test_run_sends_each_sample_of_a_direct_network_once(tmp_path):
    """A port standing in for the board: it answers each sample of the frames it reads (one
    timestep per sample) with the golden result frame, so sending T timesteps would fail."""
    from spikeshift.boards.host import run_on_board
    from spikeshift.gen.ir.link import INPUT_FRAME_BYTES, checksum
    from spikeshift.gen.ir.synthetic import direct_network

    rng = np.random.default_rng(9)
    net = direct_network(random_network(rng, max_size=8, max_timesteps=4))
    assert net.timesteps > 1
    x = random_inputs(rng, net, 3)

    class Board:
        def __init__(self):
            self.received, self.replies = b"", b""

        def write(self, data):
            self.received += data
            frames = [data[i:i + INPUT_FRAME_BYTES] for i in range(0, len(data),
                                                                    INPUT_FRAME_BYTES)]
            if frames[0][1] & 2:                    # a status request
                self.replies += bytes([0x5C] + [0] * 24 + [0])
                return
            samples, values = [], np.zeros(net.input.size, np.int64)
            for frame in frames:                    # every `last` ends a sample
                values[frame[2] | frame[3] << 8] = frame[4] | frame[5] << 8
                if frame[1] & 1:
                    samples.append(values)
                    values = np.zeros(net.input.size, np.int64)
            for result in predict(net, np.array(samples))[0]:
                body = bytes([net.n_out & 0xFF, net.n_out >> 8]) + result.astype("<i4").tobytes()
                self.replies += bytes([0x5A]) + body + bytes([checksum(body)])

        def read(self, count):
            data, self.replies = self.replies[:count], self.replies[count:]
            return data

    port = Board()
    result = run_on_board(net, x[:, 0], port, chunk=2)
    assert result["ok"], result["first_difference"]
    assert port.received == (encode_inputs(x[:2], direct=True) + encode_inputs(x[2:], direct=True)
                             + status_request())
    assert len(port.received) < len(encode_inputs(x))
