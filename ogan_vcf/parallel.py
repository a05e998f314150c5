"""Independent tasks (one per window) on Dask distributed, with one progress bar.

``Engine`` owns the workers, as bio2zarr's ``ParallelWorkManager`` does: a ``LocalCluster`` of
worker processes on this machine by default (``workers``, default the cores this process may
use; each worker's TensorFlow, BLAS and numba threads set so that workers do not oversubscribe),
an existing cluster with ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``), or ``synchronous``: every
task in this process, in order (tests and ``--debug``). A task that dies (its worker lost, or an
exception) is retried ``retries`` times before the run stops with its error.

``run(..., fresh_process=True)`` runs each task in a new process spawned by its local worker (the
worker's executor ``FRESH_EXECUTOR``, added by a worker plugin), so that a worker's memory is that
of one task, not the high-water mark of every task it ran: a long-lived worker that trained window
after window stepped from ~2.4 to ~4 GiB at a random window and stayed there.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .errors import InputError

RETRIES = 2


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def thread_environment(threads: int) -> dict[str, str]:
    """Environment that caps a worker's compute threads (TensorFlow, OpenMP/BLAS, numba)."""
    n = str(max(1, int(threads)))
    return {"TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": n,
            "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n, "NUMBA_NUM_THREADS": n,
            "TF_CPP_MIN_LOG_LEVEL": "2"}


def limit_threads(threads: int | None) -> None:
    """In a task: cap this process's TensorFlow and numba threads (no-op once TF has started)."""
    if not threads:
        return
    import numba

    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except (ImportError, RuntimeError):  # no TensorFlow here, or it is already running: keep its threads
        pass


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc ``malloc_trim``), so that a
    long-lived process (a worker between windows, the pipeline between steps) does not keep the peak
    of its last task resident."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def run_and_release(fn: Callable, *args):
    """``fn(*args)``, then ``release_memory`` once its locals are gone: how every task runs."""
    result = fn(*args)
    release_memory()
    return result


def _call_pickled(call: bytes):
    import cloudpickle

    fn, args, kwargs = cloudpickle.loads(call)
    return fn(*args, **kwargs)


class FreshProcessExecutor(concurrent.futures.Executor):
    """A ``concurrent.futures`` executor that runs every call in a new spawned process of its own.

    Each call gets a one-process ``ProcessPoolExecutor``; the call's future resolves only once that
    process has exited, so the worker's next task never overlaps the memory of the one before. A
    crashed call (killed for memory, say) breaks only its own pool: its future raises
    ``BrokenProcessPool`` and Dask retries the task. ``shutdown`` ends the processes still running.
    """

    def __init__(self):
        self._context = multiprocessing.get_context("spawn")
        self._pools: set[concurrent.futures.ProcessPoolExecutor] = set()
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn, /, *args, **kwargs):
        import cloudpickle  # as Dask ships tasks: functions defined in __main__ or a test travel too

        call = cloudpickle.dumps((fn, args, kwargs))
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a FreshProcessExecutor after shutdown")
            pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=self._context)
            self._pools.add(pool)
        outer = concurrent.futures.Future()
        outer.set_running_or_notify_cancel()
        inner = pool.submit(_call_pickled, call)
        # not in the pool's own thread: shutdown(wait=True) joins that thread
        inner.add_done_callback(lambda _: threading.Thread(target=self._finish, args=(inner, pool, outer),
                                                           daemon=True).start())
        return outer

    def _finish(self, inner, pool, outer) -> None:
        pool.shutdown(wait=True)  # the process has exited: its memory is back
        with self._lock:
            self._pools.discard(pool)
        error = inner.exception()
        if error is not None:
            outer.set_exception(error)
        else:
            outer.set_result(inner.result())

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools), set()
        for pool in pools:
            for process in list(getattr(pool, "_processes", {}).values()):  # a running task: end it
                process.terminate()
            pool.shutdown(wait=wait, cancel_futures=True)


FRESH_EXECUTOR = "ogan-fresh-process"


def _fresh_process_plugin():
    from distributed.diagnostics.plugin import WorkerPlugin

    class FreshProcessPlugin(WorkerPlugin):
        """Adds a ``FreshProcessExecutor`` to every worker as the executor named ``FRESH_EXECUTOR``."""

        name = FRESH_EXECUTOR

        def setup(self, worker) -> None:
            worker.executors[FRESH_EXECUTOR] = FreshProcessExecutor()

        def teardown(self, worker) -> None:
            executor = worker.executors.pop(FRESH_EXECUTOR, None)
            if executor is not None:
                executor.shutdown(wait=False)

    return FreshProcessPlugin()


@dataclass
class TaskTimes:
    """Seconds per finished task, by key."""

    seconds: dict[str, float] = field(default_factory=dict)

    def slowest(self, k: int = 3) -> list[tuple[str, float]]:
        return sorted(self.seconds.items(), key=lambda kv: -kv[1])[:k]


class Engine:
    """Where tasks run; use as a context manager (a LocalCluster is started and closed with it)."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None, synchronous: bool = False):
        self.scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self.synchronous = bool(synchronous)
        if workers is not None and int(workers) < 1:
            raise InputError(f"--workers must be at least 1, got {workers}")
        self.workers = int(workers) if workers else available_cores()
        local = not (self.scheduler or self.synchronous)
        self.threads = max(1, available_cores() // self.workers) if local else None
        self.client = self.cluster = None
        self.task_resources: dict | None = None  # {"GPU": 1} on a cluster whose workers declare GPUs
        self._daemon_setting = None

    def describe(self) -> str:
        if self.synchronous:
            return "synchronous (this process)"
        if self.scheduler:
            return f"Dask cluster at {self.scheduler}"
        return f"Dask LocalCluster, {self.workers} worker process(es) x {self.threads} thread(s)"

    def __enter__(self) -> Engine:
        if self.synchronous:
            return self
        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="30s")
            except (OSError, TimeoutError) as e:
                raise InputError(f"cannot reach the Dask scheduler at {self.scheduler} ({e})") from None
            workers = self.client.scheduler_info().get("workers", {}).values()
            if any(w.get("resources", {}).get("GPU") for w in workers):
                self.task_resources = {"GPU": 1}  # one window per GPU at a time
            return self
        import dask

        # Workers that may start a process per task (fresh_process) must not be daemons; the setting
        # stays for the engine's life, as a nanny reads it again when it restarts a lost worker.
        self._daemon_setting = dask.config.set({"distributed.worker.daemon": False})
        try:
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR,
                                        env=thread_environment(self.threads))
            self.client = Client(self.cluster)
            self.client.register_plugin(_fresh_process_plugin())
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for part in (self.client, self.cluster):
            if part is not None:
                try:
                    part.close()
                except Exception:  # noqa: BLE001 - shutting down: nothing to save
                    pass
        self.client = self.cluster = None
        if self._daemon_setting is not None:
            self._daemon_setting.__exit__(None, None, None)
            self._daemon_setting = None

    def run(self, fn: Callable, items: Iterable[tuple[str, tuple]], *, resources: dict | None = None,
            retries: int = RETRIES, on_done: Callable[[str, object], None] | None = None,
            fresh_process: bool = False) -> Iterator[tuple[str, object]]:
        """Run ``fn(*args)`` for each (key, args); yield (key, result) as tasks finish.

        ``on_done`` is called in this process right after each task finishes (e.g. to advance a bar).
        ``fresh_process``: on the local cluster, each task runs in a new process of its worker's
        (bounded memory for long tasks that grow their process, at a few seconds' start-up each);
        ignored on an existing cluster (whose workers may be daemons) and when synchronous.
        """
        items = list(items)
        if self.synchronous:
            for key, args in items:
                result = run_and_release(fn, *args)
                if on_done:
                    on_done(key, result)
                yield key, result
            return
        import contextlib

        import dask
        from distributed import as_completed

        where = dask.annotate(executor=FRESH_EXECUTOR) if fresh_process and self.cluster is not None \
            else contextlib.nullcontext()
        with where:
            futures = {self.client.submit(run_and_release, fn, *args, key=f"ogan-{key}-{time.time_ns()}",
                                          pure=False, retries=retries, resources=resources): key
                       for key, args in items}
        try:
            for future in as_completed(futures):
                key = futures[future]
                result = future.result()  # re-raises the task's error after its retries
                if on_done:
                    on_done(key, result)
                yield key, result
        finally:
            for future in futures:
                future.cancel()
