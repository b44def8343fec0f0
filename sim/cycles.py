"""The cycle model: exact cycle counts of every layer and timestep, and of streamed inferences.

Per layer core and timestep, the cycles are its kind's formula (`LayerPlan.step_cycles`, the
one place each is defined) of the values the layer receives that timestep: dense
``chunks * (n + 1) + STEP_OVERHEAD`` with `n` the non-zero ones (a recurrent dense layer also
receives its own spikes of the previous timestep: ``chunks * (n + r + 1) + STEP_OVERHEAD``;
`spikeshift.gen.ir.kinds.dense`); a map kind also counts
where each lies (the window positions it updates). Whole inferences
follow from the hand-offs between the blocks (README "Cycle model"): core l may start timestep
g once it finished g - 1, once its input buffer holds g (written by core l - 1, or by the
input stage `INPUT_STAGE_LATENCY` cycles after the beat with `last`), once core l + 1
released the buffer slot of g - 2, and, for the last core at the last timestep, once the
previous results have been streamed out.

Every input beat takes one accept cycle, whether its value is kept, zero, or dropped as a bad
beat (README "Bad input"); `schedule` takes the beats actually sent per timestep, and the
values kept.

With ``input.encoding`` ``"direct"`` the host sends each sample once (its first timestep's
beats) and core 0 keeps that input slot for all T timesteps: the slot of sample s is freed at
the end of core 0's last timestep of s, and the next samples' beats fill the other slot. A
dense first core then accumulates only at t = 0 (`DensePlan.held_current`).
"""

from dataclasses import dataclass

import numpy as np

from ..gen.ir.design import Design
from ..gen.ir.link import INPUT_STAGE_LATENCY
from .golden import Trace

__all__ = ["layer_inputs", "input_beats", "step_cycles", "Schedule", "schedule"]


def layer_inputs(x: np.ndarray, result: Trace) -> tuple[np.ndarray, ...]:
    """Per layer, the (batch, T, event_size) values it receives each timestep (`x` for the
    first, the traced outputs of the one before for the others; a recurrent layer's own
    spikes of the previous timestep after them, `Trace.fed_back`)."""
    inputs = (np.asarray(x), *result.spikes[:-1])
    fed_back = result.fed_back or (None,) * len(inputs)
    return tuple(values if r is None else np.concatenate([values, r], axis=-1)
                 for values, r in zip(inputs, fed_back))


def input_beats(x: np.ndarray, *, direct: bool = False) -> np.ndarray:
    """(batch, T): input stream beats per timestep (its non-zero values, or one empty beat);
    `direct` (``input.encoding`` ``"direct"``): a sample's beats are those of its first
    timestep, sent once (0 at every later timestep)."""
    beats = np.maximum(np.count_nonzero(np.asarray(x), axis=2), 1)
    if direct:
        beats[:, 1:] = 0
    return beats


def step_cycles(design: Design, inputs) -> np.ndarray:
    """(batch, T, layers) busy cycles of every layer core and timestep, from `layer_inputs`."""
    return np.stack([lp.step_cycles(values) for values, lp in zip(inputs, design.layers)],
                    axis=2).astype(np.int64)


@dataclass(frozen=True)
class Schedule:
    """Cycle numbers when inputs stream without gaps and results are always accepted.

    Members
    -------
    first_input : (batch,) cycle the first input beat of each sample is accepted
    last_output : (batch,) cycle the last result beat of each sample is accepted
    starts, ends : (batch, T, layers) first and last busy cycle of each core and timestep
    """

    first_input: np.ndarray
    last_output: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @property
    def latency(self) -> np.ndarray:
        """(batch,) cycles from a sample's first input beat to its last result beat."""
        return self.last_output - self.first_input + 1

    @property
    def total(self) -> int:
        """Cycles for the whole batch, first input beat to last result beat."""
        return int(self.last_output[-1] - self.first_input[0] + 1) if len(self.last_output) else 0


def schedule(design: Design, inputs, beats: np.ndarray) -> Schedule:
    """Cycle-exact timeline of a batch streamed back to back (`inputs` from `layer_inputs`,
    `beats` per timestep as above: for a direct network all at a sample's first timestep)."""
    n_out = design.network.n_out
    direct = design.network.input.direct
    cycles = step_cycles(design, inputs)
    batch, steps, n_layers = cycles.shape
    cycles = cycles.reshape(batch * steps, n_layers)
    beats = np.asarray(beats).reshape(batch * steps)
    total_steps = batch * steps
    starts = np.zeros((total_steps, n_layers), np.int64)
    ends = np.zeros((total_steps, n_layers), np.int64)
    first_beat = np.zeros(total_steps, np.int64)
    last_beat = np.zeros(total_steps, np.int64)
    last_output = np.zeros(batch, np.int64)
    # The input slot a timestep's beats fill is freed when core 0 ends the last timestep that
    # reads it: that timestep itself, or a direct sample's last one; two slots.
    held = steps if direct else 1
    for g in range(total_steps):
        sample, t = divmod(g, steps)
        if t % held:                    # a direct sample's later timestep: nothing is sent
            first_beat[g], last_beat[g] = first_beat[g - 1], last_beat[g - 1]
        else:
            freed = g - held - 1        # core 0's last timestep on the slot this one fills
            first_beat[g] = max(last_beat[g - 1] + 1 if g else 0,
                                ends[freed, 0] + 1 if freed >= 0 else 0)
            last_beat[g] = first_beat[g] + beats[g] - 1
        for i in range(n_layers):
            start = (last_beat[g] + INPUT_STAGE_LATENCY if i == 0 else ends[g, i - 1] + 1)
            if g:
                start = max(start, ends[g - 1, i] + 1)
            if i < n_layers - 1 and g >= 2:
                start = max(start, ends[g - 2, i + 1] + 1)
            if i == n_layers - 1 and t == steps - 1 and sample:
                start = max(start, last_output[sample - 1] + 1)
            starts[g, i] = start
            ends[g, i] = start + cycles[g, i] - 1
        if t == steps - 1:
            last_output[sample] = ends[g, -1] + n_out
    shape = (batch, steps, n_layers)
    return Schedule(first_input=first_beat.reshape(batch, steps)[:, 0], last_output=last_output,
                    starts=starts.reshape(shape), ends=ends.reshape(shape))
