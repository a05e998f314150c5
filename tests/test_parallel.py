"""The Dask engine: where tasks run, and the fresh process per task that bounds a worker's memory."""

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from ogan_vcf.parallel import Engine, FreshProcessExecutor


def test_fresh_process_tasks_each_run_in_a_new_child_of_a_worker():
    pytest.importorskip("distributed")
    where = lambda: (os.getpid(), os.getppid())  # noqa: E731 - a lambda travels by value to the workers
    items = [(str(i), ()) for i in range(6)]
    with Engine(workers=2) as engine:
        fresh = dict(engine.run(where, items, fresh_process=True))
        plain = dict(engine.run(where, items))
    workers = {pid for pid, _ in plain.values()}
    assert len(workers) <= 2 and os.getpid() not in workers
    pids = [pid for pid, _ in fresh.values()]
    assert len(set(pids)) == len(items)  # one process per task, none reused
    assert not set(pids) & workers and {parent for _, parent in fresh.values()} <= workers


def test_a_fresh_process_that_dies_fails_its_task_and_spares_the_next():
    pytest.importorskip("distributed")
    with Engine(workers=1) as engine:
        with pytest.raises(BrokenProcessPool):
            list(engine.run(os._exit, [("dies", (3,))], fresh_process=True, retries=1))
        assert [r for _, r in engine.run(lambda x: x * 2, [("next", (21,))], fresh_process=True)] == [42]


def test_fresh_process_executor_runs_and_closes():
    executor = FreshProcessExecutor()
    assert executor.submit(pow, 2, 10).result(timeout=60) == 1024
    executor.shutdown()
    with pytest.raises(RuntimeError):
        executor.submit(pow, 2, 3)


def test_synchronous_engine_ignores_fresh_process():
    with Engine(synchronous=True) as engine:
        assert dict(engine.run(os.getpid, [("a", ())], fresh_process=True)) == {"a": os.getpid()}


def test_a_fresh_process_has_exited_when_its_result_arrives():
    import psutil

    executor = FreshProcessExecutor()
    try:
        pid = executor.submit(os.getpid).result(timeout=60)
        assert pid != os.getpid() and not psutil.pid_exists(pid)
        with pytest.raises(ZeroDivisionError):
            executor.submit(divmod, 1, 0).result(timeout=60)
    finally:
        executor.shutdown()
