"""Structured logging: one format for structlog and stdlib `logging` alike.

Every line gets `ts` (ISO, UTC), `level`, `logger`, `event`, the session id and, inside
`correlation(...)`, the correlation id of the signal being handled. Modules keep using
`logging.getLogger(__name__)`: their records go through the same processors as
structlog's (structlog's `ProcessorFormatter` on one root handler), so a JSON log has one
object per line whoever wrote it.

Why the session id is a process-global and the correlation id a contextvar: worker
threads (journal writer, Redis fan-out, alerts) do not inherit contextvars, yet each of
their lines must still name the session; a correlation id, on the other hand, belongs to
the code handling one signal and must not leak onto unrelated lines (asyncio tasks
created inside the block do inherit it, which is what we want).

Secrets never reach a log: secret-looking keys are masked (`domain.redact`) and passwords
or secret query parameters inside URLs in any string value are masked (`config.mask_url`).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
from structlog.contextvars import bound_contextvars, merge_contextvars
from structlog.stdlib import ProcessorFormatter
from structlog.typing import EventDict, Processor, WrappedLogger

from quantdesk.config import mask_url
from quantdesk.domain.redact import redact

__all__ = ["bind_session", "configure_logging", "correlation", "get_logger", "session"]

FIRST_KEYS = ("ts", "level", "logger", "event", "session_id", "correlation_id")
MASK = "****"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")
_USERINFO_PASSWORD = re.compile(r"(://[^\s/@:]*):[^\s/@]*@")
_SECRET_PARAM = re.compile(
    r"([?&][^=&#\s]*(?:key|token|secret|password|passwd|signature)[^=&#\s]*=)[^&#\s]*",
    re.IGNORECASE,
)

_session_id: str | None = None


class _DeskHandler(logging.StreamHandler[TextIO]):
    """The one root handler `configure_logging` owns (and replaces when called again)."""


def configure_logging(
    *,
    json: bool,
    level: str = "INFO",
    session_id: str | None = None,
    stream: TextIO | None = None,
) -> None:
    """Route structlog and stdlib logging through one root handler on `stream`
    (default: `sys.stderr` at call time) as JSON lines (`json=True`) or readable console
    lines. Calling it again replaces the handler, never adds a second one. A `session_id`
    is bound for every line (see `bind_session`); None keeps the current binding."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    out = stream if stream is not None else sys.stderr
    handler = _DeskHandler(out)
    handler.setFormatter(
        ProcessorFormatter(
            foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
            processors=[
                ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,  # before masking: tracebacks hold URLs
                _mask_secrets,
                _renderer(json=json, stream=out),
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _DeskHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    # The structlog chain is the same in both modes (only the handler's formatter
    # differs), so caching bound loggers stays correct across reconfiguration.
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            *_shared_processors(),
            ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    if session_id is not None:
        bind_session(session_id)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger: `log.info("event.name", key=value, ...)`."""
    return structlog.stdlib.get_logger(name)


def bind_session(session_id: str | None) -> None:
    """Stamp every following line, from any thread, with this session id (None clears)."""
    global _session_id  # one session per process, by design
    _session_id = session_id


def session() -> str | None:
    """The session id bound for this process, if any."""
    return _session_id


@contextmanager
def correlation(correlation_id: str | None, **fields: Any) -> Iterator[None]:
    """Bind `correlation_id` (and optional `fields`, e.g. `plan_id=`) to every line
    logged by the code inside, in this thread/task only; restored on exit, so blocks nest.
    A None id binds nothing, so callers need not test for it."""
    bound = dict(fields)
    if correlation_id is not None:
        bound["correlation_id"] = correlation_id
    if not bound:
        yield
        return
    with bound_contextvars(**bound):
        yield


def _shared_processors() -> list[Processor]:
    return [
        merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_session,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.StackInfoRenderer(),
    ]


def _renderer(*, json: bool, stream: TextIO) -> Processor:
    if json:
        return structlog.processors.JSONRenderer()
    colors = _isatty(stream) and "NO_COLOR" not in os.environ
    return structlog.dev.ConsoleRenderer(colors=colors, timestamp_key="ts", sort_keys=False)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False


def _add_session(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    if _session_id is not None:
        event_dict.setdefault("session_id", _session_id)
    return event_dict


def _mask_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Secret-looking keys masked, URLs scrubbed everywhere, the fixed keys first."""
    clean = {key: _scrub(value) for key, value in redact(event_dict).items()}
    ordered = {key: clean.pop(key) for key in FIRST_KEYS if key in clean}
    ordered.update(clean)
    return ordered


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _URL.sub(_mask_url_match, value) if "://" in value else value
    if isinstance(value, Mapping):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _mask_url_match(match: re.Match[str]) -> str:
    url = match.group(0)
    if "@" in url:
        try:
            url = mask_url(url)
        except ValueError:  # a malformed port or host: mask the userinfo by pattern
            url = _USERINFO_PASSWORD.sub(r"\1:***@", url)
    return _SECRET_PARAM.sub(rf"\g<1>{MASK}", url)
