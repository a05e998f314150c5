"""The only module that imports rich.progress: one bar factory for long work."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

stderr_console = Console(stderr=True)


class _NoBar:
    """Stand-in used when progress is off: same calls, no output."""

    def advance(self, n: int = 1) -> None:  # noqa: D102
        pass

    def update_total(self, total: int | None) -> None:  # noqa: D102
        pass

    def describe(self, text: str) -> None:  # noqa: D102
        pass


class _Bar:
    def __init__(self, progress: Progress, task_id: int):
        self._progress = progress
        self._task = task_id

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)

    def update_total(self, total: int | None) -> None:
        self._progress.update(self._task, total=total)

    def describe(self, text: str) -> None:
        self._progress.update(self._task, description=text)


@contextlib.contextmanager
def progress_bar(description: str, total: int | None, *, show: bool) -> Iterator[_Bar | _NoBar]:
    """Yield an object with ``advance(n)``; draws a rich bar on stderr when ``show`` and
    stderr is a terminal (logs and pipes get no bar)."""
    if not show or not stderr_console.is_terminal:
        yield _NoBar()
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=stderr_console, transient=True) as progress:
        yield _Bar(progress, progress.add_task(description, total=total))
