"""Startup progress: per-stage timings and a watchdog that fails fast with the stage name.

A desk that hangs at start (a database that never answers, a venue login that never
returns, a feed that never sends its first bar) must not sit silently: the operator gets
`startup timed out after 30 s in stage 'first data'` and a non-zero exit instead.

    startup = Startup(timeout_s=30, log=get_logger("quantdesk.startup"))
    async with startup.watch_async():          # or `with startup.watch():` in sync code
        with startup.stage("config"): ...
        async with startup.stage_async("database"): ...
        ...
        startup.begin("first data")            # a stage without a block ...
        ...                                    # ... ended by done(), e.g. at the first bar
        startup.done()                         # logs the total; disarms the watchdog

How the deadline is enforced (wall time, from construction):
- asyncio: a watchdog task cancels the watched task at the deadline; `watch_async`
  turns that cancellation into `StartupTimeout`. Cleanup (`finally`) still runs.
- a blocking call on the main thread (sync code, or a sync call that blocks the event loop
  inside a stage): SIGALRM interrupts it and `StartupTimeout` is raised right there. Only
  on Unix, on the main thread, and only when nobody else uses SIGALRM.
- otherwise (another thread, Windows): the deadline is checked at each stage boundary and
  in `done()`, so a late stage fails as soon as it returns.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import FrameType, TracebackType
from typing import Any, Protocol

from quantdesk.obs.logging import get_logger

__all__ = ["Startup", "StartupTimeout"]


class StartupTimeout(RuntimeError):
    """Startup did not reach `done()` in time; `stage` is the stage that was running."""

    def __init__(self, message: str, stage: str | None) -> None:
        super().__init__(message)
        self.stage = stage


class Log(Protocol):
    """What `Startup` needs of a logger: a structlog logger fits."""

    def info(self, event: str, **fields: Any) -> Any: ...

    def error(self, event: str, **fields: Any) -> Any: ...


class Startup:
    """Times the named stages of a start-up and enforces one deadline over all of them."""

    def __init__(
        self,
        timeout_s: float,
        log: Log | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"startup timeout must be positive, not {timeout_s}")
        self.timeout_s = timeout_s
        self.log: Log = log if log is not None else get_logger("quantdesk.startup")
        self.timings: dict[str, float] = {}  # stage -> ms, completed stages in order
        self.current: str | None = None
        self.finished = False
        self.error: StartupTimeout | None = None
        self._clock = clock
        self._started = clock()
        self._deadline = self._started + timeout_s
        self._alarm: _Alarm | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._reported = False
        self._open: _Stage | None = None

    def stage(self, name: str) -> _Stage:
        """`with startup.stage("config"):` logs `startup.stage` with `elapsed_ms` when the
        block completes, `startup.stage_failed` with the error when it raises."""
        return _Stage(self, name)

    def stage_async(self, name: str) -> _Stage:
        """`async with startup.stage_async("database"):`, the same as `stage`."""
        return _Stage(self, name)

    def begin(self, name: str) -> None:
        """Start stage `name` without a block: it ends at the next `begin()` or at `done()`.
        For a stage no `with` can wrap, e.g. 'first data' ending in the feed's callback."""
        self._end_open(None)
        stage = _Stage(self, name)
        stage.__enter__()
        self._open = stage

    def done(self) -> dict[str, float]:
        """Startup is complete: end a `begin()` stage, disarm the watchdog, log
        `startup.done` with `total_ms` and each stage's ms, and return those. Raises
        `StartupTimeout` when late. Later calls return at once, so a per-event hook may
        call it."""
        if self.finished:
            return dict(self.timings)
        self._end_open(None)
        self.check()
        self.finished = True
        self._disarm()
        total = _ms(self._clock() - self._started)
        self.log.info("startup.done", total_ms=total, stages=dict(self.timings))
        return dict(self.timings)

    def check(self) -> None:
        """Raise `StartupTimeout` if the deadline has passed and `done()` was not reached."""
        if not self.finished and self.error is None and self._clock() >= self._deadline:
            raise self._expire()

    @contextmanager
    def watch(self) -> Iterator[Startup]:
        """Sync watchdog: interrupts a hung main thread at the deadline (see module doc)."""
        self._alarm = _Alarm.arm(self._remaining(), self._on_alarm_sync)
        try:
            yield self
        except StartupTimeout as exc:
            self._report(exc)
            raise
        except Exception as exc:
            self._end_open(exc)
            raise
        finally:
            self._disarm()

    @asynccontextmanager
    async def watch_async(self) -> AsyncIterator[Startup]:
        """Asyncio watchdog for the current task: at the deadline the task is cancelled and
        `StartupTimeout` raised from this block; blocking calls are interrupted by SIGALRM."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("watch_async() must run inside an asyncio task")
        self._alarm = _Alarm.arm(self._remaining(), self._alarm_handler_for(task))
        self._watchdog = asyncio.create_task(self._expire_later(task), name="startup-watchdog")
        try:
            yield self
            if self.error is not None and task.cancelling():  # fired after the last await
                task.uncancel()
                raise self.error
        except asyncio.CancelledError:
            if self.error is None or task.uncancel() > 0:
                raise  # somebody else's cancellation
            self._report(self.error)
            raise self.error from None
        except StartupTimeout as exc:
            self._report(exc)
            raise
        except Exception as exc:
            self._end_open(exc)
            raise
        finally:
            self._disarm()

    async def _expire_later(self, task: asyncio.Task[Any]) -> None:
        await asyncio.sleep(self._remaining())
        if not self.finished and self.error is None:
            error = self._expire()
            task.cancel(msg=str(error))

    def _alarm_handler_for(self, task: asyncio.Task[Any]) -> _Handler:
        def handler(signum: int, frame: FrameType | None) -> None:
            # Only when the watched task is blocking the loop; if the loop is free, the
            # watchdog task is due at the same moment and cancels it cleanly.
            if not self.finished and self.error is None and _running_task() is task:
                raise self._expire()

        return handler

    def _on_alarm_sync(self, signum: int, frame: FrameType | None) -> None:
        if not self.finished and self.error is None:
            raise self._expire()

    def _expire(self) -> StartupTimeout:
        if self.current:
            where = f"in stage '{self.current}'"
        else:
            where = "with no stage running" if self.timings else "before the first stage"
        message = f"startup timed out after {self.timeout_s:g} s {where}"
        if self.timings:
            done = ", ".join(f"{name} {ms:g} ms" for name, ms in self.timings.items())
            message += f"; completed: {done}"
        self.error = StartupTimeout(message, self.current)
        return self.error

    def _report(self, error: StartupTimeout) -> None:
        if self._reported:
            return
        self._reported = True
        self.log.error(
            "startup.timeout",
            stage=error.stage,
            timeout_s=self.timeout_s,
            elapsed_ms=_ms(self._clock() - self._started),
            stages=dict(self.timings),
            error=str(error),
        )

    def _end_open(self, error: Exception | None) -> None:
        stage, self._open = self._open, None
        if stage is not None:
            stage.__exit__(type(error) if error else None, error, None)

    def _remaining(self) -> float:
        return max(self._deadline - self._clock(), 0.0)

    def _disarm(self) -> None:
        if self._alarm is not None:
            self._alarm.disarm()
            self._alarm = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None


class _Stage:
    """One timed stage; usable with `with` and `async with`."""

    def __init__(self, startup: Startup, name: str) -> None:
        self.startup = startup
        self.name = name
        self._started = 0.0

    def __enter__(self) -> None:
        self.startup.check()
        self.startup.current = self.name
        self._started = self.startup._clock()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        startup = self.startup
        elapsed = _ms(startup._clock() - self._started)
        if exc is None:
            startup.log.info("startup.stage", stage=self.name, elapsed_ms=elapsed)
            startup.check()  # without an alarm, a late stage fails as soon as it returns
            startup.timings[self.name] = elapsed
            startup.current = None
        elif isinstance(exc, Exception) and not isinstance(exc, StartupTimeout):
            startup.log.error(
                "startup.stage_failed",
                stage=self.name,
                elapsed_ms=elapsed,
                error=f"{type(exc).__name__}: {exc}",
            )
            startup.current = None
        # a timeout or a cancellation keeps `current`: it names the stage that was running

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(kind, exc, tb)


_Handler = Callable[[int, FrameType | None], None]


class _Alarm:
    """SIGALRM after a delay: the one way to interrupt a blocking call on the main thread."""

    def __init__(self, previous: Any) -> None:
        self._previous = previous

    @classmethod
    def arm(cls, delay: float, handler: _Handler) -> _Alarm | None:
        """None where it cannot be used: not Unix, not the main thread, or SIGALRM (or
        its timer) already taken by someone else."""
        if not hasattr(signal, "setitimer"):
            return None
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = signal.getsignal(signal.SIGALRM)
        if (
            previous not in (signal.SIG_DFL, signal.SIG_IGN)
            or signal.getitimer(signal.ITIMER_REAL)[0]
        ):
            return None
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, max(delay, 0.001))
        return cls(previous)

    def disarm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)


def _running_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no loop running in this thread
        return None


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
