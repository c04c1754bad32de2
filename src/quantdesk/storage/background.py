"""One writer thread for batched journal flushes.

SQLite and PostgreSQL drivers release the GIL while the database works, so a flush
running here overlaps with the engine computing the next batch on the other core.
Jobs run in submission order; the queue is short, so a slow disk slows the engine
instead of growing memory; the first failure is re-raised to the caller at the next
`submit` or `wait`, and later jobs are skipped so a broken batch is never half-followed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]


class BackgroundWriter:
    def __init__(self, name: str = "journal-writer", depth: int = 2) -> None:
        self._name = name
        self._jobs: queue.Queue[Job] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, job: Job) -> None:
        self._raise()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def wait(self) -> None:
        """Block until every submitted job ran; re-raise the first failure."""
        self._jobs.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if self._error is None:
                    job()
            except BaseException as exc:  # handed to the caller thread, never lost
                self._error = exc
            finally:
                self._jobs.task_done()
