"""How each framework simulates the NIR graph it exports (`Conventions`, `PRESETS`).

NIR carries no time step, and the frameworks differ in the step they export with, their reset
rule and its timing, and whether they fire on ``v > θ`` or ``v >= θ``. Each preset states its
framework's rules as its own simulation applies them (checked against that simulation in
``tests/train``), not as its documentation describes them.
"""

from dataclasses import dataclass

from ..ir.checks import check_choice

__all__ = ["Conventions", "PRESETS", "RESET_RULES", "FIRE_RULES", "UNDELAYED_RULES",
           "ImportError_"]

RESET_RULES = ("subtract", "zero", "none", "nir")
FIRE_RULES = (">", ">=")
UNDELAYED_RULES = ("immediate", "snntorch")


class ImportError_(ValueError):
    """An import that cannot be exact (or cannot be done at all); names node and parameter."""


@dataclass(frozen=True, kw_only=True)
class Conventions:
    """How the exporting framework simulates what the NIR graph describes.

    Members
    -------
    dt : seconds per timestep the exporter discretised with
    reset : ``"subtract"`` (v -= θ), ``"zero"`` (v = 0), ``"none"`` or ``"nir"`` (v = the
        node's v_reset)
    reset_delay : the reset is applied at the next timestep (snnTorch's default)
    undelayed_rule : what a reset without delay is: ``"immediate"`` (after the firing test of
        the same step) or ``"snntorch"`` (snnTorch's ``reset_delay=False``: the step's reset
        also subtracts what the stored membrane's own test gives, so a neuron left above θ
        by a subtraction needs more than 2θ to fire again)
    fire : ``">"`` or ``">="``, the comparison with the threshold
    infinite_tau_gain : gain of an IF exported as a LIF with ``τ = R = inf`` (snnTorch
        exports ``R = τ / dt``, i.e. gain 1), or None to refuse such nodes
    if_gain_uses_dt : an ``IF``/``I`` node integrates ``dt R I`` per step (NIR's Euler form);
        False where the framework adds ``R I`` whatever dt is
    clamp_beta : the framework clamps β into [0, 1] in its simulation (snnTorch's Leaky)
    recurrent_zero_reset_clears_step : a recurrent neuron's delayed reset to zero clears the
        whole next step's membrane, its input included (snnTorch's RLeaky)
    """

    dt: float
    reset: str = "nir"
    reset_delay: bool = False
    undelayed_rule: str = "immediate"
    fire: str = ">"
    infinite_tau_gain: float | None = None
    if_gain_uses_dt: bool = True
    clamp_beta: bool = False
    recurrent_zero_reset_clears_step: bool = False

    def __post_init__(self):
        if not (isinstance(self.dt, (int, float)) and self.dt > 0):
            raise ValueError(f"dt must be a positive number of seconds, not {self.dt!r}")
        check_choice("reset", self.reset, RESET_RULES)
        check_choice("fire", self.fire, FIRE_RULES)
        check_choice("undelayed_rule", self.undelayed_rule, UNDELAYED_RULES)


#: Each framework's rules, as its own simulation applies them.
PRESETS = {
    # Leaky: mem = clamp(beta, 0, 1)*mem + I - reset*thr with reset = (stored mem > thr) of
    # the previous step (reset_delay=True), spk = mem > thr; export_to_nir writes dt = 1e-4,
    # tau = dt/(1-beta), r = tau/dt, v_reset = 0.
    "snntorch": Conventions(dt=1e-4, reset="subtract", reset_delay=True,
                            undelayed_rule="snntorch", fire=">", infinite_tau_gain=1.0,
                            clamp_beta=True, recurrent_zero_reset_clears_step=True),
    # IAFCell adds its input with no dt (v += i); LIFBoxCell: v += dt/tau*((v_leak - v) + i);
    # spike on v > thr, reset to v_reset; to_nir writes IF r = 1 and LIF tau, r = 1.
    "norse": Conventions(dt=1e-3, reset="nir", reset_delay=False, fire=">",
                         if_gain_uses_dt=False),
    # IFNode/LIFNode: heaviside(v - thr) fires at v >= thr; hard reset to v_reset (0);
    # export_to_nir writes dt = 1e-4 (IF r = 1/dt, LIF tau * dt).
    "spikingjelly": Conventions(dt=1e-4, reset="nir", reset_delay=False, fire=">="),
    # IAF/LIF with SingleSpike or MaxSpike: v >= thr fires, v -= spikes * thr at once; dt = 1.
    "sinabs": Conventions(dt=1.0, reset="subtract", reset_delay=False, fire=">="),
}
