"""Where tasks run: a Dask cluster (a `distributed.LocalCluster` or any scheduler's address),
or in the calling process (tests and debugging).

Both look the same to the search loop: `submit` a function, `wait` for the first finished
futures. Dask retries a task whose worker died, so a lost worker costs the task it was
running, never a finished one. The data a task needs travels with it (in its arguments)
rather than as data scattered beforehand: a replica scattered to the worker that died can be
the only one, and Dask then cancels every task that needs it instead of retrying it.
"""

import concurrent.futures
import contextlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["SerialExecutor", "DaskExecutor", "open_executor", "sharded_rtl"]

#: times Dask runs a task again after its worker died
RETRIES = 2


class SerialExecutor:
    """Runs every task at once in this process (no parallelism, no Dask)."""

    workers = 1

    def submit(self, fn, *args, priority: int = 0):
        future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args))
        except Exception as error:  # the caller sees it through future.result()
            future.set_exception(error)
        return future

    def wait(self, futures) -> list:
        return [f for f in futures if f.done()]

    def close(self):
        pass


class DaskExecutor:
    """A `distributed.Client`: tasks are retried when their worker dies."""

    def __init__(self, client, cluster=None):
        self.client = client
        self._cluster = cluster

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info()["workers"]))

    def submit(self, fn, *args, priority: int = 0):
        return self.client.submit(fn, *args, pure=False, priority=priority, retries=RETRIES)

    def wait(self, futures) -> list:
        from distributed import wait
        return list(wait(futures, return_when="FIRST_COMPLETED").done)

    def close(self):
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


@contextlib.contextmanager
def open_executor(scheduler: str, *, workers: int | None = None):
    """``"local"``: a LocalCluster of `workers` (default: one per core) single-threaded worker
    processes; ``"serial"``: this process; anything else: a Dask scheduler's address."""
    if scheduler == "serial":
        executor = SerialExecutor()
    else:
        from distributed import Client, LocalCluster
        if scheduler == "local":
            count = workers or os.cpu_count() or 1
            cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
            client.wait_for_workers(count, timeout=120)  # so that shards go to every worker
            executor = DaskExecutor(client, cluster)
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as error:
                raise ValueError(f"--scheduler {scheduler!r}: no Dask scheduler answers there "
                                 f"({error}); start one with `dask scheduler` or use "
                                 f"--scheduler local") from None
            executor = DaskExecutor(client)
    try:
        yield executor
    finally:
        executor.close()


def _rtl_shard(design, x, simulator: str, seed, chunk: int) -> list:
    """One worker's share of a verification: it generates and builds the simulation once."""
    from ..flow.generator import write_design
    from ..flow.verify import run_chunks
    with tempfile.TemporaryDirectory(prefix="spikeshift-shard-") as tmp:
        generated = write_design(design, Path(tmp) / "rtl")
        return run_chunks(design, generated.verilog, Path(tmp) / "sim", x,
                          simulator=simulator, seed=seed, chunk=chunk, progress=False)


def sharded_rtl(executor):
    """A `verify_design` runner that splits the batch into one shard per worker, on chunk
    boundaries (each chunk is one simulation with its own seed, as in a serial run), and
    merges the results in input order."""
    def run(design, x, *, simulator: str, seed, chunk: int) -> list:
        chunks = -(-len(x) // chunk)
        per_shard = -(-chunks // min(executor.workers, chunks)) * chunk
        futures = [executor.submit(_rtl_shard, design, np.ascontiguousarray(x[s:s + per_shard]),
                                   simulator, seed, chunk)
                   for s in range(0, len(x), per_shard)]
        return [part for future in futures for part in future.result()]
    return run
