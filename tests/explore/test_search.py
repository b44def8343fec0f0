"""The search loop: determinism, resuming, extending, the Dask cluster, pruning."""

import pytest

from spikeshift.gen.explore import search
from spikeshift.gen.explore.cluster import SerialExecutor, open_executor
from spikeshift.gen.explore.search import explore
from spikeshift.gen.explore.space import Candidate

from .tiny import summary, tiny_settings


def run(settings, path, trials, executor=None, **options):
    return explore(settings, path, trials, executor or SerialExecutor(), progress=False,
                   **options)


def test_two_worker_local_cluster_gives_the_study_of_one_process_though_a_worker_dies(
        tmp_path, monkeypatch):
    from .tiny import measure_or_die
    monkeypatch.setenv("SPIKESHIFT_TEST_DIE_ONCE", str(tmp_path / "died"))
    monkeypatch.setattr(search, "measure_cheap", measure_or_die)
    settings = tiny_settings(tmp_path)
    with open_executor("local", workers=2) as executor:
        assert executor.workers == 2
        clustered = run(settings, tmp_path / "cluster.db", 12, executor)
    assert (tmp_path / "died").exists()  # the first task killed its worker; Dask ran it again
    monkeypatch.undo()
    serial = run(settings, tmp_path / "serial.db", 12)
    assert len(clustered.trials) == 12
    assert all(t.state.name == "COMPLETE" for t in clustered.trials)
    assert summary(clustered) == summary(serial)


@pytest.mark.parametrize("sampler", ["nsga2", "tpe"])
def test_same_seed_gives_the_same_study_and_another_seed_another(tmp_path, sampler):
    settings = tiny_settings(tmp_path, sampler=sampler)
    first = run(settings, tmp_path / "a.db", 12)
    again = run(settings, tmp_path / "b.db", 12)
    other = run(tiny_settings(tmp_path, seed=4, sampler=sampler), tmp_path / "c.db", 12)
    assert summary(first) == summary(again)
    assert [s[2] for s in summary(first)] != [s[2] for s in summary(other)]


@pytest.mark.parametrize("stop", [5, 1, 10])
def test_interrupted_run_resumes_into_the_same_study_without_measuring_again(tmp_path,
                                                                          monkeypatch, stop):
    settings = tiny_settings(tmp_path)
    whole = run(settings, tmp_path / "whole.db", 12)
    measured = []
    real = search.measure_cheap
    monkeypatch.setattr(search, "measure_cheap",
                        lambda source, candidate, *a: measured.append(candidate) or
                        real(source, candidate, *a))

    def interrupt(number):
        if number == stop:  # stored, not yet told: the next run must tell it from the store
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(settings, tmp_path / "cut.db", 12, after_each=interrupt)
    before = list(measured)
    interrupted = search._open_study(settings, tmp_path / "cut.db")[0]
    stale = [t for t in interrupted.trials if t.state.name == "RUNNING"]
    assert stop in [t.number for t in stale]
    assert "spikeshift_result" in interrupted.trials[stop].user_attrs
    resumed = run(settings, tmp_path / "cut.db", 12)
    assert summary(resumed) == summary(whole)
    remeasured = measured[len(before):]
    others = [Candidate.from_params(t.params) for t in stale if t.number != stop]
    told_from_store = Candidate.from_params(interrupted.trials[stop].params)
    assert told_from_store in others or told_from_store not in remeasured


def test_a_finished_study_extends_with_more_trials(tmp_path):
    settings = tiny_settings(tmp_path)
    short = summary(run(settings, tmp_path / "s.db", 8))
    extended = run(settings, tmp_path / "s.db", 12)
    assert summary(extended)[:8] == short
    assert summary(extended) == summary(run(settings, tmp_path / "fresh.db", 12))


def test_candidates_that_cannot_fit_the_board_are_pruned_not_errors(tmp_path):
    from spikeshift.gen.explore.space import Space
    settings = tiny_settings(tmp_path, hidden=128, board="icebreaker", space=Space(
        timesteps=(8,), weights=("int8",), spike_bits=None, lanes=((1, 128), (4,))))
    study = run(settings, tmp_path / "s.db", 4)
    states = {t.params["lanes_0"]: t.state.name for t in study.trials}
    assert states == {1: "COMPLETE", 128: "PRUNED"}
    pruned = next(t for t in study.trials if t.state.name == "PRUNED")
    reason = pruned.user_attrs["spikeshift_result"]["reason"]
    assert reason.startswith("does not fit: the design needs about ")
    assert "icebreaker" in reason


def test_candidates_below_the_accuracy_floor_are_pruned(tmp_path):
    study = run(tiny_settings(tmp_path, min_accuracy=0.9), tmp_path / "s.db", 12)
    states = {t.state.name for t in study.trials}
    assert states == {"PRUNED", "COMPLETE"}
    for trial in study.trials:
        measures = trial.user_attrs["spikeshift_result"]["measures"]
        assert (trial.state.name == "COMPLETE") == (measures["accuracy"] >= 0.9)


def test_dominated_candidates_are_pruned_before_their_expensive_step(tmp_path, monkeypatch):
    synthesized = []

    def fake_synthesis(source, candidate, board, mode):
        synthesized.append(candidate)
        return {"luts": 1000 * sum(candidate.lanes), "ffs": 10, "brams": 0, "dsps": 0}

    monkeypatch.setattr(search, "measure_expensive", fake_synthesis)
    study = run(tiny_settings(tmp_path, resources="yosys"), tmp_path / "s.db", 16)
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert pruned and all("dominated" in t.user_attrs["spikeshift_result"]["reason"]
                          for t in pruned)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(synthesized) == len({tuple(sorted(t.params.items())) for t in complete})
    assert all(t.user_attrs["spikeshift_result"]["measures"]["luts"] % 1000 == 0
               for t in complete)


def test_a_task_that_fails_fails_its_trial_only(tmp_path, monkeypatch):
    real = search.measure_cheap

    def flaky(source, candidate, *args):
        if candidate.lanes[0] == 16:
            raise OSError("worker lost its disk")
        return real(source, candidate, *args)

    monkeypatch.setattr(search, "measure_cheap", flaky)
    study = run(tiny_settings(tmp_path), tmp_path / "s.db", 12)
    for trial in study.trials:
        assert (trial.state.name == "FAIL") == (trial.params["lanes_0"] == 16)
        if trial.state.name == "FAIL":
            assert trial.user_attrs["spikeshift_result"]["reason"] == \
                "OSError: worker lost its disk"
    assert any(t.state.name == "FAIL" for t in study.trials)



def test_a_scheduler_address_joins_a_running_dask_cluster(tmp_path):
    """`--scheduler ADDRESS`: the exploration runs on a cluster someone else started (here a
    scheduler and one worker process on this machine) and gives the serial study."""
    distributed = pytest.importorskip("distributed")
    settings = tiny_settings(tmp_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with open_executor(cluster.scheduler_address) as executor:
            assert executor.workers == 1
            remote = run(settings, tmp_path / "remote.db", 6, executor)
    serial = run(settings, tmp_path / "serial.db", 6)
    assert summary(remote) == summary(serial)


@pytest.mark.bitstream
def test_nextpnr_resources_place_and_route_each_surviving_candidate(tmp_path):
    """`--resources nextpnr` (iCEBreaker): the expensive step is a real place and route, its
    LUT count and Fmax in the trial's measures."""
    from spikeshift.gen.explore.space import Space
    space = Space(timesteps=(2,), weights=("pot3",), spike_bits=None, lanes=((1,), (1,)))
    settings = tiny_settings(tmp_path, resources="nextpnr", board="icebreaker", space=space)
    study = run(settings, tmp_path / "pnr.db", 1)
    [trial] = study.trials
    outcome = search._stored(trial)
    assert outcome.state == "complete", outcome
    assert outcome.measures["fmax_mhz"] > outcome.measures["clock_mhz"]
    assert outcome.measures["luts"] > 0 and outcome.measures["resources"] == "nextpnr"
