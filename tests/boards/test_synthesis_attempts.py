"""The synthesis attempts a board tries in order, shared by the estimate and the bitstream."""

import subprocess

import pytest

from spikeshift.boards.estimate import synthesis
from spikeshift.boards.registry import board_named


def _failing_until(last_failure: int):
    tried = []

    def attempt(before, options):
        tried.append((before, options))
        if len(tried) <= last_failure:
            raise subprocess.CalledProcessError(1, ["tool"], stderr=f"attempt {len(tried)}")
        return f"result of {len(tried)}"
    return tried, attempt


def test_the_first_attempt_that_completes_is_kept_after_the_ones_that_failed():
    board = board_named("ulx3s")
    attempts = board.synth_attempts(top="t")
    assert len(attempts) >= 3
    tried, attempt = _failing_until(2)
    assert board.first_synthesis(attempt, top="t") == (*attempts[2], "result of 3")
    assert tried == attempts[:3]


def test_when_every_attempt_fails_the_last_failure_is_raised():
    board = board_named("ulx3s")
    attempts = board.synth_attempts(top="t")
    tried, attempt = _failing_until(len(attempts))
    with pytest.raises(subprocess.CalledProcessError) as failure:
        board.first_synthesis(attempt, top="t")
    assert failure.value.stderr == f"attempt {len(attempts)}" and tried == attempts


def test_a_given_prepare_replaces_the_boards_own_commands():
    board = board_named("ulx3s")
    tried, attempt = _failing_until(0)
    before, _, _ = board.first_synthesis(attempt, "proc", top="t")
    assert before == "proc" and tried[0][0] == "proc"


def test_an_estimate_yosys_cannot_read_quotes_its_message_once_not_every_attempt(tmp_path,
                                                                                  capfd):
    verilog = tmp_path / "broken.v"
    verilog.write_text("module broken(input a); assign = a; endmodule\n")
    with pytest.raises(RuntimeError, match=r"^Yosys failed on every synthesis attempt for the "
                                           r"ulx3s; the last one ended with:\n(.|\n)*ERROR"):
        synthesis(verilog, "broken", "ulx3s")
    assert "ERROR" not in capfd.readouterr().err
