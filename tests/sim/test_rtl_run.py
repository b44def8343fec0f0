"""Which simulator `verify` takes and why (the simulations themselves: tests/rtl)."""

import pytest

from spikeshift.sim import rtl_run
from spikeshift.sim.rtl_run import BUILD_SECONDS, CYCLES_PER_SECOND, choose_simulator


def break_even() -> float:
    """Cycles at which Verilator's build plus run equals Icarus's build plus run."""
    return ((BUILD_SECONDS["verilator"] - BUILD_SECONDS["icarus"])
            / (1 / CYCLES_PER_SECOND["icarus"] - 1 / CYCLES_PER_SECOND["verilator"]))


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(rtl_run, "verilator_installed", lambda: True)


def test_auto_takes_icarus_below_the_break_even_and_verilator_above(installed):
    assert 10_000 < break_even() < 1_000_000
    assert choose_simulator(int(0.9 * break_even()))[0] == "icarus"
    assert choose_simulator(int(1.1 * break_even()))[0] == "verilator"


def test_the_choice_says_both_estimates(installed):
    cycles = 230_000
    icarus = BUILD_SECONDS["icarus"] + cycles / CYCLES_PER_SECOND["icarus"]
    verilator = BUILD_SECONDS["verilator"] + cycles / CYCLES_PER_SECOND["verilator"]
    assert choose_simulator(cycles) == ("verilator", (
        f"simulator: verilator (est. 230k cycles: icarus ~{icarus:.0f} s, "
        f"verilator ~{verilator:.0f} s)"))


def test_auto_takes_icarus_when_verilator_is_missing(monkeypatch):
    monkeypatch.setattr(rtl_run, "verilator_installed", lambda: False)
    name, why = choose_simulator(5_000_000)
    assert name == "icarus"
    assert why.startswith("simulator: icarus (Verilator not installed; est. 5.0M cycles: ~")


@pytest.mark.parametrize("asked", ["icarus", "verilator"])
def test_a_named_simulator_is_kept_whatever_the_estimate(asked, installed):
    for cycles in (10, 10**7):
        name, why = choose_simulator(cycles, asked)
        assert name == asked and why.startswith(f"simulator: {asked} (as asked; est. ")


def test_an_unknown_simulator_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"^simulator must be one of 'auto', 'icarus', "
                                         r"'verilator', not 'xsim'$"):
        choose_simulator(100, "xsim")
