"""How each framework simulates the NIR graph it exports (`Conventions`, `PRESETS`).

NIR carries no time step, and the frameworks differ in the step they export with, their reset
rule and its timing, and whether they fire on ``v > θ`` or ``v >= θ``. Each preset states its
framework's rules as its own simulation applies them (checked against that simulation in
``tests/train``), not as its documentation describes them.
"""

from dataclasses import dataclass

import numpy as np

from ..ir.checks import check_choice

__all__ = ["Conventions", "PRESETS", "RESET_RULES", "FIRE_RULES", "UNDELAYED_RULES",
           "TAU_RULES", "ImportError_"]

RESET_RULES = ("subtract", "zero", "none", "nir")
FIRE_RULES = (">", ">=")
UNDELAYED_RULES = ("immediate", "snntorch")
#: What a leaky node's τ means per step: NIR's forward Euler (β = 1 - dt/τ, gain dt R/τ);
#: Norse's export (τ = dt / tau_mem_inv, so the step factor is f = dt²/τ: β = 1 - f, gain f R);
#: Sinabs' exponential decay (β = exp(-dt/τ), gain (1 - β) R, its norm_input default).
TAU_RULES = ("euler", "norse", "exp")


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
    tau_rule : what τ means per step (`TAU_RULES`)
    v_starts_at_reset : the membrane starts at v_reset (SpikingJelly, Norse's IAFCell), so a
        uniform v_reset ≠ 0 is exact as an offset membrane (θ - v_reset, reset to zero)
    max_spikes : spikes one neuron may emit in one step: 1, N (Sinabs' MaxSpike(N), exact for
        N = 2^S - 1 and a power-of-two θ) or None (Sinabs' MultiSpike, exact when the largest
        possible count fits 8 spike bits and θ is a power of two)
    step_clearing_zero_reset : the neurons whose delayed reset to zero clears the whole next
        step's membrane, its input included: ``"recurrent"`` (snnTorch's RLeaky) and
        ``"cuba"`` (its Synaptic)
    """

    dt: float
    reset: str = "nir"
    reset_delay: bool = False
    undelayed_rule: str = "immediate"
    fire: str = ">"
    infinite_tau_gain: float | None = None
    if_gain_uses_dt: bool = True
    clamp_beta: bool = False
    step_clearing_zero_reset: tuple = ()
    tau_rule: str = "euler"
    v_starts_at_reset: bool = False
    max_spikes: int | None = 1

    def __post_init__(self):
        if not (isinstance(self.dt, (int, float)) and self.dt > 0):
            raise ValueError(f"dt must be a positive number of seconds, not {self.dt!r}")
        check_choice("reset", self.reset, RESET_RULES)
        check_choice("fire", self.fire, FIRE_RULES)
        check_choice("undelayed_rule", self.undelayed_rule, UNDELAYED_RULES)
        check_choice("tau_rule", self.tau_rule, TAU_RULES)
        if self.max_spikes is not None and not (isinstance(self.max_spikes, int)
                                                and self.max_spikes >= 1):
            raise ValueError(f"max_spikes must be a positive integer or None (unbounded), not "
                             f"{self.max_spikes!r}")

    def synapse_step(self, tau_syn):
        """(α, input gain per unit w_in) of a CubaLIF synaptic current with time constant(s)
        `tau_syn`: NIR's Euler form, or Norse's, which adds its input whole (its τ is
        dt / tau_syn_inv, so the decay factor is dt²/τ)."""
        if self.tau_rule == "norse":
            return 1 - self.dt ** 2 / tau_syn, np.ones_like(tau_syn)
        if self.tau_rule == "exp":
            alpha = np.exp(-self.dt / tau_syn)
            return alpha, 1 - alpha
        return 1 - self.dt / tau_syn, self.dt / tau_syn

    def step(self, tau):
        """(β, gain per unit R) of a leaky node with time constant(s) `tau` (`tau_rule`)."""
        if self.tau_rule == "exp":
            beta = np.exp(-self.dt / tau)
            return beta, 1 - beta
        factor = self.dt / tau if self.tau_rule == "euler" else self.dt ** 2 / tau
        return 1 - factor, factor


#: Each framework's rules, as its own simulation applies them.
PRESETS = {
    # Leaky: mem = clamp(beta, 0, 1)*mem + I - reset*thr with reset = (stored mem > thr) of
    # the previous step (reset_delay=True), spk = mem > thr; export_to_nir writes dt = 1e-4,
    # tau = dt/(1-beta), r = tau/dt, v_reset = 0.
    "snntorch": Conventions(dt=1e-4, reset="subtract", reset_delay=True,
                            undelayed_rule="snntorch", fire=">", infinite_tau_gain=1.0,
                            clamp_beta=True, step_clearing_zero_reset=("recurrent", "cuba")),
    # IAFCell adds its input with no dt (v += x), starts at v_reset and resets to it;
    # LIFBoxCell: v += dt*tmi*((v_leak - v) + x), starts at v_leak; both spike on v > thr.
    # to_nir writes IF r = 1 (no v_reset: 0) and LIF tau = dt/tmi, r = 1.
    "norse": Conventions(dt=1e-3, reset="nir", reset_delay=False, fire=">",
                         if_gain_uses_dt=False, tau_rule="norse", v_starts_at_reset=True),
    # IFNode h = v + x; LIFNode h = v + (x - (v - v_reset))/tau; spike on h >= thr; hard reset
    # to v_reset, where v starts. export_to_nir writes dt = 1e-4: IF r = 1/dt, LIF tau*dt.
    "spikingjelly": Conventions(dt=1e-4, reset="nir", reset_delay=False, fire=">=",
                                v_starts_at_reset=True),
    # IAF: v += x; spikes (v >= thr) counted by its spike_fn, MultiSpike by default (count
    # floor(v/thr), unbounded), v -= count*thr (MembraneSubtract) in the same step; LIF decays
    # by exp(-1/tau). to_nir writes dt-free IF r = 1 and LIF tau, and drops spike_fn, reset_fn,
    # tau_syn and min_v_mem: --reset and --max-spikes say what they were.
    "sinabs": Conventions(dt=1.0, reset="subtract", reset_delay=False, fire=">=",
                          tau_rule="exp", max_spikes=None),
}
