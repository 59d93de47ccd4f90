"""A rich progress bar on stderr that a job's progress callback can drive."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from service.jobs.runner import Progress as ProgressCallback


@contextmanager
def progress_bar(title: str) -> Iterator[ProgressCallback]:
    """Yield a callback(fraction, message) that moves a bar printed on stderr."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    with bar:
        task = bar.add_task(title, total=1.0, note="")

        def update(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, note=message)

        yield update
        bar.update(task, completed=1.0, note="done")
