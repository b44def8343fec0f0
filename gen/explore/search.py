"""The search: an Optuna multi-objective study kept in SQLite, asked in batches whose
candidates run as tasks on a cluster.

Determinism: each trial is asked from a sampler seeded with (seed, its trial number), no
trial of a batch is told before the whole batch is asked, and a batch's trials are told in
ask order, so the study is a function of the seed, the knobs and the batch size only, never
of the cluster's size or of which task finished first.
Durability: each trial's measurements are stored in the study the moment they are known (a
trial attribute, written at once to SQLite), before the in-order tell; a run that stops
leaves its unfinished trials RUNNING, and the next run tells those from their stored results
or measures them again, asks the rest of their batch, then goes on: the same study as an
uninterrupted run.
Pruning: the cheap measurements come first; a candidate that cannot be built or fit the
board, is below the accuracy floor, or (when an expensive step would follow) is dominated by
a trial of an earlier batch on the predicted objectives, is told PRUNED and never
synthesized.
"""

import hashlib
import itertools
import random
import sqlite3
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .measure import OBJECTIVES, Data, measure_cheap, measure_expensive
from .pareto import dominates, pareto_front
from .source import Source
from .space import Candidate, Space

__all__ = ["Settings", "Outcome", "check_study", "explore", "trial_records", "STUDY_NAME",
           "SAMPLERS"]

STUDY_NAME = "spikeshift-explore"
SAMPLERS = ("nsga2", "tpe")
_IDENTITY = "spikeshift_explore"
_RESULT = "spikeshift_result"
_BATCH = "spikeshift_batch"
_CHEAP, _EXPENSIVE = 10, 0          # task priorities: cheap tasks go first


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a study's trials depend on (`trials` and the cluster are not among it)."""

    source: Source
    data: Data
    space: Space
    objectives: tuple
    board: str
    resources: str = "estimate"
    sampler: str = "nsga2"
    seed: int | None = None
    batch: int = 8
    min_accuracy: float = 0.0

    def identity(self, seed: int) -> dict:
        return {"source": {"kind": self.source.kind, "name": self.source.name,
                           "sha256": self.source.sha256},
                "data": self.data.sha256, "space": self.space.to_json(),
                "objectives": list(self.objectives), "board": self.board,
                "resources": self.resources, "sampler": self.sampler, "batch": self.batch,
                "min_accuracy": self.min_accuracy, "seed": seed}


# identity field -> the option that sets it
_OPTIONS = {"data": "--data/--labels", "objectives": "--objectives", "board": "--board",
            "resources": "--resources", "sampler": "--sampler", "batch": "--batch",
            "min_accuracy": "--min-accuracy", "seed": "--seed"}
_KNOBS = {"timesteps": "--timesteps", "weights": "--weights", "spike_bits": "--spike-bits",
          "lanes": "--lanes"}


def _mismatch(stored: dict, wanted: dict, study: str) -> str | None:
    if stored["source"]["sha256"] != wanted["source"]["sha256"]:
        s = stored["source"]
        return (f"--study {study!r} explores another source ({s['kind']} {s['name']!r}, "
                f"sha256 {s['sha256'][:12]}), not SOURCE {wanted['source']['name']!r} "
                f"(sha256 {wanted['source']['sha256'][:12]}); give that source or a new "
                f"--study file")
    for key, option in _KNOBS.items():
        if stored["space"][key] != wanted["space"][key]:
            return (f"{option} gives {wanted['space'][key]}, but --study {study!r} explores "
                    f"{stored['space'][key]}; give the study's knobs or a new --study file")
    for key, option in _OPTIONS.items():
        if stored[key] != wanted[key]:
            return (f"{option} gives {wanted[key]!r}, but --study {study!r} was made with "
                    f"{stored[key]!r}; give the same or a new --study file")
    return None


def _existing_study(path: Path) -> bool:
    """Whether `path` holds an exploration study (checked read-only, before Optuna opens it,
    which would add its tables to any SQLite file)."""
    if not path.exists():
        return False
    refusal = (f"--study {str(path)!r} is not an exploration study (an SQLite file written by "
               f"spikeshift explore); give such a file, or a new file name")
    if not path.is_file():
        raise ValueError(refusal)
    with open(path, "rb") as file:
        if file.read(16) != b"SQLite format 3\x00":
            raise ValueError(refusal)
    try:
        connection = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            names = {row[0] for row in connection.execute("SELECT study_name FROM studies")}
        finally:
            connection.close()
    except sqlite3.Error:
        names = set()
    if STUDY_NAME not in names:
        raise ValueError(refusal)
    return True


def _stored_identity(settings: Settings, path: Path, storage) -> tuple[bool, int | None]:
    """Whether `path` holds a study, and its seed; a study of anything else is refused."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not _existing_study(path):
        return False, None
    study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
    stored = study.user_attrs.get(_IDENTITY)
    if stored is None:
        if study.trials:
            raise ValueError(f"--study {str(path)!r} is not a study of spikeshift explore; "
                             f"give a new file name")
        return True, None
    seed = settings.seed if settings.seed is not None else stored["seed"]
    if problem := _mismatch(stored, settings.identity(seed), str(path)):
        raise ValueError(problem)
    return True, seed


def check_study(settings: Settings, path) -> None:
    """Refuse a --study file that is not an exploration of these settings (writes nothing)."""
    path = Path(path)
    if _existing_study(path):
        _stored_identity(settings, path, f"sqlite:///{path.resolve()}")


def _open_study(settings: Settings, path: Path):
    """The study in `path` (checked against `settings`) or a new one; its seed and storage."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    exists, seed = _existing_study(path), None
    if not exists:
        path.parent.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.RDBStorage(f"sqlite:///{path.resolve()}")
    if exists:
        exists, seed = _stored_identity(settings, path, storage)
    if exists:
        study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
    else:
        study = optuna.create_study(
            study_name=STUDY_NAME, storage=storage,
            directions=[OBJECTIVES[o][0] for o in settings.objectives])
    if seed is None:
        seed = settings.seed if settings.seed is not None else \
            random.SystemRandom().randrange(2**31)
        study.set_user_attr(_IDENTITY, settings.identity(seed))
    return study, seed, storage


def _sampler(kind: str, seed: int, start: int, batch: int):
    import optuna
    seed = int.from_bytes(hashlib.sha256(f"{seed}:{start}".encode()).digest()[:4], "little")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if kind == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(2, batch))
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=batch)


@dataclass
class Outcome:
    """What a trial came to: ``complete`` (with objective values), ``pruned`` or ``failed``."""

    state: str
    measures: dict = field(default_factory=dict)
    reason: str | None = None

    def to_json(self) -> dict:
        return {"state": self.state, "measures": self.measures, "reason": self.reason}

    @classmethod
    def from_json(cls, obj: dict) -> "Outcome":
        return cls(state=obj["state"], measures=obj["measures"], reason=obj["reason"])


class _Batch:
    """One batch of asked trials: tasks out, outcomes stored at once, told in ask order."""

    def __init__(self, run: "_Run", entries, start: int):
        self.run, self.entries, self._incoming = run, [], entries
        self.outcomes: dict[int, Outcome] = {}
        self.waiting: dict[Candidate, list[int]] = {}
        self.pending: dict = {}
        self.told = 0
        self.earlier = [o.measures["predicted"] for n, o in run.finished.items()
                        if n < start and o.state == "complete" and o.measures.get("predicted")]

    def go(self):
        run = self.run
        # Each trial's task is out as soon as it is asked: the cluster works while the
        # sampler asks the rest of the batch.
        for index, entry in enumerate(self._incoming):
            self.entries.append(entry)
            _, _, candidate, stored = entry
            if stored is not None:  # measured before an interruption, not yet told
                self.outcomes[index] = stored
                if candidate is not None:
                    run.known.setdefault(candidate, stored)
            elif candidate is None:
                self._finish_one(index, Outcome("failed", reason="the trial has no knobs"))
            elif candidate in run.known:
                self._finish_one(index, run.known[candidate])
            elif candidate in self.waiting:
                self.waiting[candidate].append(index)
            else:
                self.waiting[candidate] = [index]
                future = run.executor.submit(measure_cheap, run.source, candidate, run.data,
                                             run.settings.board, priority=_CHEAP)
                self.pending[future] = ("cheap", candidate, None)
        self._tell()
        while self.pending:
            for future in run.executor.wait(list(self.pending)):
                step, candidate, cheap = self.pending.pop(future)
                try:
                    result = future.result()
                except Exception as error:  # a task that failed even after its retries
                    self._finish(candidate, Outcome("failed", reason=f"{type(error).__name__}: "
                                                                     f"{error}"))
                    continue
                outcome = (self._after_cheap(candidate, result) if step == "cheap"
                           else self._after_expensive(cheap, result))
                if outcome is not None:
                    self._finish(candidate, outcome)

    def _after_cheap(self, candidate: Candidate, measures: dict) -> Outcome | None:
        settings = self.run.settings
        if not measures["feasible"]:
            return Outcome("pruned", measures, measures["reason"])
        if measures["accuracy"] < settings.min_accuracy:
            return Outcome("pruned", measures, f"accuracy {measures['accuracy']:.2%} is below "
                                               f"--min-accuracy {settings.min_accuracy:.2%}")
        predictable = all(o in measures for o in settings.objectives)
        measures["predicted"] = ([measures[o] for o in settings.objectives] if predictable
                                 else None)
        if settings.resources == "estimate":
            return Outcome("complete", measures)
        directions = [OBJECTIVES[o][0] for o in settings.objectives]
        if predictable and any(dominates(p, measures["predicted"], directions)
                               for p in self.earlier):
            return Outcome("pruned", measures, "dominated by an earlier trial on the cheap "
                                               "measurements and the resource estimate")
        future = self.run.executor.submit(measure_expensive, self.run.source, candidate,
                                          settings.board, settings.resources,
                                          priority=_EXPENSIVE)
        self.pending[future] = ("expensive", candidate, measures)
        return None

    def _after_expensive(self, measures: dict, synthesized: dict) -> Outcome:
        measures = {**measures, **synthesized, "resources": self.run.settings.resources}
        if "fmax_mhz" in synthesized:
            if not synthesized["meets_clock"]:
                return Outcome("pruned", measures, f"reaches {synthesized['fmax_mhz']} MHz, "
                                                   f"below the {measures['clock_mhz']} MHz "
                                                   f"board clock")
            fmax = synthesized["fmax_mhz"]
            measures["latency"] = measures["latency_cycles"] / fmax
            measures["throughput"] = measures["throughput"] * fmax / measures["clock_mhz"]
        return Outcome("complete", measures)

    def _finish(self, candidate: Candidate, outcome: Outcome):
        if outcome.state != "failed":  # a failure may pass: a later trial measures again
            self.run.known[candidate] = outcome
        for index in self.waiting.pop(candidate):
            self._finish_one(index, outcome)
        self._tell()

    def _finish_one(self, index: int, outcome: Outcome):
        _, trial, _, _ = self.entries[index]
        trial.set_user_attr(_RESULT, outcome.to_json())  # in SQLite now, whatever comes next
        self.outcomes[index] = outcome
        if self.run.after_each is not None:
            self.run.after_each(trial.number)

    def _tell(self):
        while self.told in self.outcomes:
            number = self.entries[self.told][0]
            self.run.tell(number, self.outcomes[self.told])
            self.told += 1
            self.run.show(running=len(self.entries) - self.told)


class _Run:
    def __init__(self, settings: Settings, study, seed: int, executor, progress: tqdm,
                 after_each):
        self.settings, self.study, self.seed, self.executor = settings, study, seed, executor
        self.distributions = settings.space.distributions()
        self.progress, self.after_each = progress, after_each
        self.source, self.data = settings.source, settings.data
        self.known: dict[Candidate, Outcome] = {}
        self.finished: dict[int, Outcome] = {}
        self.pruned = 0
        self.front: list = []
        for trial in study.get_trials(deepcopy=False):
            if trial.state.is_finished() and _RESULT in trial.user_attrs:
                outcome = Outcome.from_json(trial.user_attrs[_RESULT])
                if outcome.state != "failed":
                    self.known.setdefault(Candidate.from_params(trial.params), outcome)
                self.finished[trial.number] = outcome
                self._count(outcome)

    def _count(self, outcome: Outcome):
        if outcome.state == "pruned":
            self.pruned += 1
        elif outcome.state == "complete":
            points = self.front + [self.values(outcome)]
            directions = [OBJECTIVES[o][0] for o in self.settings.objectives]
            self.front = [points[i] for i in pareto_front(points, directions)]

    def values(self, outcome: Outcome) -> list:
        return [outcome.measures[o] for o in self.settings.objectives]

    def tell(self, number: int, outcome: Outcome):
        from optuna.trial import TrialState
        self.finished[number] = outcome
        if outcome.state == "complete":
            self.study.tell(number, self.values(outcome))
        else:
            self.study.tell(number, state=TrialState.PRUNED if outcome.state == "pruned"
                            else TrialState.FAIL)
        self._count(outcome)
        self.progress.update(1)

    def show(self, running: int):
        self.progress.set_postfix_str(f"running {running}, pruned {self.pruned}, "
                                      f"Pareto front {len(self.front)}", refresh=True)

    def batch(self, entries, start: int, size: int):
        """Measure and tell the trials `entries` yields: the batch of `size` trials from
        trial number `start`."""
        self.show(running=size)
        _Batch(self, entries, start).go()

    def ask(self, count: int, start: int, size: int):
        """Ask `count` trials of the batch (`start`, `size`), each from a sampler seeded with
        its own trial number, so that asking does not depend on when a run started."""
        for _ in range(count):
            self.study.sampler = _sampler(self.settings.sampler, self.seed, len(self.study.trials),
                                          self.settings.batch)
            trial = self.study.ask(self.distributions)
            trial.set_user_attr(_BATCH, [start, size])
            yield trial.number, trial, Candidate.from_params(trial.params), None


def _candidate(params: dict, space: Space) -> Candidate | None:
    names = space.distributions()
    return Candidate.from_params(params) if set(params) == set(names) else None


def _stored(trial) -> Outcome | None:
    obj = trial.user_attrs.get(_RESULT)
    return None if obj is None else Outcome.from_json(obj)


def explore(settings: Settings, study_path, trials: int, executor, *, progress: bool = True,
            after_each=None):
    """Run the study in `study_path` up to `trials` trials (resuming or extending it) on
    `executor` (`spikeshift.gen.explore.cluster`); returns the Optuna study."""
    from optuna.trial import Trial, TrialState
    study, seed, _ = _open_study(settings, Path(study_path))
    done = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    with tqdm(total=max(trials, len(study.trials)), initial=done, desc="explore",
              unit="trial", disable=not progress) as bar:
        run = _Run(settings, study, seed, executor, bar, after_each)
        stale = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
        if stale:  # an interrupted run's batch: its trials told from stored results or
            # measured again, and the rest of it asked as that run would have
            start, size = stale[0].user_attrs.get(_BATCH, [stale[0].number, len(stale)])
            entries = [(t.number, Trial(study, t._trial_id), _candidate(t.params, settings.space),
                        _stored(t)) for t in stale]
            missing = max(0, start + size - len(study.trials))
            run.batch(itertools.chain(entries, run.ask(missing, start, size)), start,
                      len(entries) + missing)
        while (start := len(study.trials)) < trials:
            size = min(settings.batch, trials - start)
            run.batch(run.ask(size, start, size), start, size)
    return study


def trial_records(study) -> list[dict]:
    """Every trial of a study: number, state, knobs and stored measurements."""
    records = []
    for trial in study.get_trials(deepcopy=False):
        outcome = trial.user_attrs.get(_RESULT)
        records.append({"trial": trial.number, "state": trial.state.name.lower(),
                        "params": dict(trial.params),
                        "outcome": outcome})
    return records
