"""Where work runs and how it reports progress.

* Executors: this process (one worker, or one task: a process pool costs more to start than one decode),
  local processes, or a Dask cluster. Local worker processes end with their parent: each watches it and exits
  when it is gone, so a killed run leaves no worker behind.
* Progress: a hook passed in (pyannote's ``ProgressHook`` habit), called as ``hook(stage, done, total)``;
  ``RichProgress`` draws it as bars on stderr, ``LogProgress`` writes a line every tenth of a stage (for logs),
  and without a hook nothing is drawn. No module below the
  command line decides whether to show anything.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Protocol

from .errors import SettingsError

PARENT_POLL_S = 0.5
"""How often a worker process checks that its parent is alive: a killed run's workers are gone within a
second, for a cost of one wake-up per half second."""

TASK_RETRIES = 2
"""On a Dask cluster, a task that raised is run again twice (a worker's transient fault: memory, a network
file system); a bad file does not raise there (its failure is a result), so it is not retried. A task whose
worker died is rescheduled by Dask itself (``distributed.scheduler.allowed-failures``, default 3)."""

SCHEDULER_TIMEOUT_S = 30
"""How long to wait for a Dask scheduler to answer before saying it cannot be reached."""

MAX_DEFAULT_WORKERS = 4
"""Default local processes: one per core, at most 4 (decoding is ffmpeg's work on the other cores; beyond 4
the disk, not the CPU, is usually what a library scan waits for)."""

MMAP_THRESHOLD_BYTES = 64 << 20
TRIM_THRESHOLD_BYTES = 128 << 20
_MALLOC_RELAXED = False


def default_workers() -> int:
    return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))


def check_workers(workers: int | None) -> int:
    """``workers`` as given (None: the default), or a SettingsError: the one check of every ``workers``."""
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SettingsError(f"workers must be a whole number of at least 1, got {workers!r}")
    return workers


# --- progress ---------------------------------------------------------------------------------------------


class ProgressHook(Protocol):
    """Told of progress: ``stage`` (analyse, match, extract…) has ``done`` of ``total`` items finished."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


class Tracker:
    """Counts one stage's finished items into a hook (or nowhere)."""

    def __init__(self, hook: ProgressHook | None, stage: str, total: int) -> None:
        self.hook, self.stage, self.total, self.done = hook, stage, total, 0
        if hook is not None:
            hook(stage, 0, total)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.hook is not None:
            self.hook(self.stage, self.done, self.total)


class RichProgress:
    """A progress hook drawing one bar per stage on stderr (``with RichProgress() as hook: detect(…, progress=hook)``).
    A stage of no items gets no bar."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total <= 0:
            return
        with self._lock:
            if stage not in self._tasks:
                self._tasks[stage] = self._progress.add_task(stage, total=total)
            self._progress.update(self._tasks[stage], completed=done, total=total)


LOG_STEP = 0.1
"""Share of a stage between two of ``LogProgress``'s lines: eleven lines a stage at most, whatever its size, so a
log of a 3000-episode library run stays readable."""


class LogProgress:
    """A progress hook for a log or a pipe: ``stage: done/total (percent), elapsed`` each time a stage passes
    another ``step`` of its items and when it ends (and when it starts, if it is longer than ``1 / step`` items:
    a stage of a few items would say little more than its end); each line handed to ``write``."""

    def __init__(self, write: Callable[[str], None] | None = None, step: float = LOG_STEP) -> None:
        if not 0 < step <= 1:
            raise SettingsError(f"step must be in (0, 1], got {step!r}")
        self._write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self._step = step
        self._marks: dict[str, int] = {}
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total <= 0:
            return
        with self._lock:
            share = min(max(done, 0), total) / total
            mark = int(share / self._step + 1e-9)
            began = self._started.setdefault(stage, time.monotonic())
            last = self._marks.get(stage, -1 if total * self._step > 1 else 0)
            if mark <= last:
                return
            self._marks[stage] = mark
            self._write(f"{stage}: {done}/{total} ({share:.0%}), {time.monotonic() - began:.0f} s")


# --- executors --------------------------------------------------------------------------------------------


def _watch_parent(parent: int) -> None:
    """In a worker process: exit as soon as ``parent`` is no longer its parent (it died; the worker was handed
    to init). Without this, workers of a SIGKILLed run wait forever on a queue nobody writes to."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="introdetect-parent-watch", daemon=True).start()


def _init_worker(parent: int, initializer: Callable[..., None] | None, args: tuple[Any, ...]) -> None:
    _watch_parent(parent)
    if initializer is not None:
        initializer(*args)


def process_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """Local worker processes that end with this process (each watches its parent)."""
    return ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(os.getpid(), initializer, initargs)
    )


def relax_worker_malloc() -> None:
    """Undo, inside a Dask worker, the nanny's MALLOC_TRIM_THRESHOLD_=65536: setting it fixes glibc's mmap
    threshold at 128 kB, so every ~1 MB block temporary of the feature pass is a fresh mmap and page faults
    (measured: an episode's analysis 1.27 s in a Dask worker, 0.60 s after this). Large buffers are kept for
    reuse up to 64 MB each, and up to 128 MB of free heap before it is returned to the system. Only in a
    process that Dask started with that setting; elsewhere glibc's own adaptive thresholds are left alone."""
    global _MALLOC_RELAXED
    if _MALLOC_RELAXED or not os.environ.get("MALLOC_TRIM_THRESHOLD_") or "distributed" not in sys.modules:
        return
    _MALLOC_RELAXED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, MMAP_THRESHOLD_BYTES)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, TRIM_THRESHOLD_BYTES)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: nothing to undo


class InProcess(Executor):
    """An executor that runs each call at once, in this process."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def is_cluster(pool: Executor) -> Any:
    """The Dask client behind ``pool`` (distributed's ClientExecutor), or None."""
    return getattr(pool, "_client", None)


@contextlib.contextmanager
def executor(workers: int, scheduler: Any = None, tasks: int = 2) -> Iterator[Executor]:
    """Where per-episode and per-series tasks run: a Dask cluster (``scheduler``: its address
    ``tcp://HOST:PORT``, or a ``distributed.Client``), local processes (``workers`` > 1), or this process."""
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise SettingsError("a Dask scheduler needs the dask extra: pip install 'introdetect[dask]'") from None
        own = not isinstance(scheduler, Client)
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S) if own else scheduler
        except OSError as exc:
            raise SettingsError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client.get_executor(pure=False, retries=TASK_RETRIES)
        finally:
            if own:
                client.close()
    elif workers > 1 and tasks > 1:
        with process_pool(workers) as pool:
            yield pool
    else:
        yield InProcess()


def one_line(exc: BaseException, path: object) -> str:
    """An exception as one line that names ``path`` (prefixed when the message does not already)."""
    text = " ".join(str(exc).split())
    return text if str(path) in text else f"{path}: {text}"
