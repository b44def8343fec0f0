"""Bad input streams and an independent reference of what the input stage makes of them.

`ref_input_stage` restates README "Bad input" as plain loops over the beats: within a timestep,
beat number `size` onwards is extra, then an index >= size is bad, then an index that already
had an accepted beat is a duplicate, then a value above the maximum is bad; `last` always
closes the timestep. The streams of `bad_events` mix every kind into valid samples.
"""

from dataclasses import dataclass

import numpy as np

from spikeshift.gen.ir.link import DROP_COUNTERS, input_events

__all__ = ["Sanitized", "ref_input_stage", "bad_events", "bad_stream"]


@dataclass(frozen=True)
class Sanitized:
    """What the input stage keeps of a stream.

    Members
    -------
    x : (batch, T, size) the accepted values
    beats : (batch, T) beats sent per timestep, dropped ones included
    drops : beats dropped, by `DROP_COUNTERS` name
    samples : (beats,) the sample each beat belongs to
    """

    x: np.ndarray
    beats: np.ndarray
    drops: dict
    samples: np.ndarray


def ref_input_stage(events, *, batch: int, timesteps: int, size: int,
                    value_max: int) -> Sanitized:
    """The input stage's reading of `events`, ``(index, value, last)`` beats."""
    x = np.zeros((batch, timesteps, size), np.int64)
    beats = np.zeros((batch, timesteps), np.int64)
    drops = dict.fromkeys(DROP_COUNTERS, 0)
    samples = []
    step, seen, n = 0, set(), 0
    for index, value, last in events:
        sample, t = divmod(step, timesteps)
        samples.append(sample)
        if n >= size:
            drops["extra_beats"] += 1
        elif index >= size:
            drops["bad_indices"] += 1
        elif index in seen:
            drops["duplicates"] += 1
        elif value > value_max:
            drops["bad_values"] += 1
        else:
            seen.add(index)
            x[sample, t, index] = value
        n += 1
        beats[sample, t] += 1
        if last:
            step, seen, n = step + 1, set(), 0
    if step != batch * timesteps:
        raise ValueError(f"the stream closes {step} timesteps, not {batch * timesteps}")
    return Sanitized(x=x, beats=beats, drops=drops, samples=np.array(samples, np.int64))


def bad_events(rng: np.random.Generator, x: np.ndarray, *, kinds=DROP_COUNTERS,
               index_limit: int, value_max: int, value_limit: int,
               rate: float = 0.5) -> list[tuple[int, int, int]]:
    """The stream of samples `x` with bad beats of `kinds` mixed in, ``(index, value, last)``.

    Bad indices are drawn from [size, index_limit), bad values from (value_max, value_limit);
    each timestep gets each kind with probability `rate`, at a random place (the last beat
    included, so that `last` travels on a dropped beat).
    """
    size = x.shape[2]
    by_step = {}
    for sample, t, index, value, _ in input_events(x):
        by_step.setdefault((sample, t), []).append((index, value))
    out = []
    for key in sorted(by_step):
        beats = list(by_step[key])

        def insert(beat, *, after=0, beats=beats):
            beats.insert(int(rng.integers(after, len(beats) + 1)), beat)

        if "duplicates" in kinds and rng.random() < rate:
            k = int(rng.integers(len(beats)))
            insert((beats[k][0], int(rng.integers(0, value_max + 1))), after=k + 1)
        if "bad_indices" in kinds and rng.random() < rate:
            insert((int(rng.integers(size, index_limit)), int(rng.integers(0, value_max + 1))))
        if "bad_values" in kinds and rng.random() < rate:
            insert((int(rng.integers(size)), int(rng.integers(value_max + 1, value_limit))))
        if "extra_beats" in kinds and rng.random() < rate:
            # a dense timestep (every index, zeros too), then more beats than the input has;
            # after a zero for some index first, that index's value is a duplicate and the
            # final index comes too late
            sample, t = key
            beats = [(i, int(x[sample, t, i])) for i in rng.permutation(size)]
            if rng.random() < 0.5:
                beats.insert(0, (int(rng.integers(size)), 0))
            beats += [(int(rng.integers(size)), int(rng.integers(1, value_max + 1)))
                      for _ in range(int(rng.integers(1, 4)))]
        out += [(i, v, int(k == len(beats) - 1)) for k, (i, v) in enumerate(beats)]
    return out


def bad_stream(rng: np.random.Generator, x: np.ndarray, *, timesteps: int, kinds=DROP_COUNTERS,
               value_max: int, **options) -> tuple[list, Sanitized]:
    """`bad_events` drawn until every kind occurs at least once, and their reference reading."""
    for _ in range(100):
        events = bad_events(rng, x, kinds=kinds, value_max=value_max, **options)
        ref = ref_input_stage(events, batch=len(x), timesteps=timesteps, size=x.shape[2],
                              value_max=value_max)
        if all(ref.drops[kind] for kind in kinds):
            return events, ref
    raise ValueError(f"no stream with every kind of {kinds} in 100 draws")
