"""Per-key alert cooldowns that survive a restart.

The decision is made in memory, on the engine thread, when an alert is raised: a storm
of one key costs a dict lookup. What was decided is written to the `alert_cooldowns`
table later, by `flush()` on the alert worker thread, so a slow or unreachable database
never stalls the engine; a crash loses at most the last second of decisions.

A repeat within the cooldown is held back and counted, unless it is worse than what went
out (a CRITICAL after a WARNING of the same key goes through at once). If the clock is
behind the last send (a clock reset), the alert goes through: silence is the worse error.

The table belongs to `storage.models.AlertCooldownRow` and its migration; obs may not
import storage (DESIGN layering), so the few statements here name its columns directly.
Without a database engine the cooldowns live in memory only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from quantdesk.domain.enums import Severity
from quantdesk.domain.time import NS_PER_DAY, NS_PER_S
from quantdesk.obs.alert_model import rank

log = logging.getLogger(__name__)
FORGET_EVERY_NS = 60 * NS_PER_S
KEEP_COUNT_NS = NS_PER_DAY  # a held-back count waits this long for its key's next alert

TABLE = sa.table(
    "alert_cooldowns",
    sa.column("key", sa.String),
    sa.column("last_sent_ts", sa.BigInteger),
    sa.column("level", sa.String),
    sa.column("count_suppressed", sa.Integer),
)


@dataclass(slots=True)
class Cooldown:
    last_sent_ts: int  # UTC epoch ns
    level: Severity
    count_suppressed: int = 0


class Cooldowns:
    def __init__(self, cooldown_s: int, engine: sa.Engine | None = None) -> None:
        if cooldown_s < 0:
            raise ValueError(f"cooldown_s must not be negative, got {cooldown_s}")
        self.cooldown_ns = cooldown_s * NS_PER_S
        self.engine = engine
        self.entries: dict[str, Cooldown] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._failing = False
        self._forgot_at = 0

    def load(self, now: int) -> int:
        """Read the saved cooldowns, deleting those that ended (see `_ended`); returns
        how many. A database problem is logged: alerts may then repeat once."""
        if self.engine is None:
            return 0
        try:
            with self.engine.begin() as connection:
                ended = TABLE.c.last_sent_ts <= now - self.cooldown_ns
                stale = TABLE.c.last_sent_ts <= now - self.cooldown_ns - KEEP_COUNT_NS
                connection.execute(
                    sa.delete(TABLE).where(
                        sa.or_(sa.and_(ended, TABLE.c.count_suppressed == 0), stale)
                    )
                )
                rows = connection.execute(sa.select(TABLE)).all()
        except SQLAlchemyError as exc:
            log.warning("alert cooldowns not restored, alerts may repeat: %s", _first_line(exc))
            return 0
        with self._lock:
            for key, last_sent_ts, level, count_suppressed in rows:
                if level in Severity.__members__:
                    self.entries[key] = Cooldown(last_sent_ts, Severity(level), count_suppressed)
            return len(self.entries)

    def admit(self, key: str, level: Severity, now: int) -> int | None:
        """None when the alert is held back; else how many were held back before it."""
        with self._lock:
            entry = self.entries.get(key)
            self._dirty.add(key)
            if entry is not None and self._running(entry, level, now):
                entry.count_suppressed += 1
                return None
            self.entries[key] = Cooldown(now, level)
            return entry.count_suppressed if entry is not None else 0

    def _running(self, entry: Cooldown, level: Severity, now: int) -> bool:
        elapsed = now - entry.last_sent_ts
        return 0 <= elapsed < self.cooldown_ns and rank(level) <= rank(entry.level)

    def flush(self, now: int) -> bool:
        """Write what changed since the last flush; False (logged once per outage) when the
        database refused: the changes are kept for the next flush."""
        with self._lock:
            keys, self._dirty = self._dirty, set()
            rows = [(k, self.entries[k]) for k in keys if k in self.entries]
            rows = [(k, Cooldown(e.last_sent_ts, e.level, e.count_suppressed)) for k, e in rows]
            self._forget_ended(now)
        if self.engine is None or not rows:
            return True
        try:
            with self.engine.begin() as connection:
                for key, entry in rows:
                    _upsert(connection, key, entry)
        except SQLAlchemyError as exc:
            with self._lock:
                self._dirty.update(keys)
            if not self._failing:
                log.warning("alert cooldowns not saved (will retry): %s", _first_line(exc))
            self._failing = True
            return False
        if self._failing:
            log.info("alert cooldowns saved again")
        self._failing = False
        return True

    def _forget_ended(self, now: int) -> None:
        """Memory stays flat over a long run (a key per trade event). A cooldown that
        held something back is kept a while: the next alert of its key reports the count."""
        if now - self._forgot_at < FORGET_EVERY_NS:
            return
        self._forgot_at = now
        ended = [key for key, e in self.entries.items() if self._ended(e, now)]
        for key in ended:
            del self.entries[key]

    def _ended(self, entry: Cooldown, now: int) -> bool:
        age = now - entry.last_sent_ts - self.cooldown_ns
        return age >= 0 and (not entry.count_suppressed or age >= KEEP_COUNT_NS)


def _upsert(connection: sa.Connection, key: str, entry: Cooldown) -> None:
    """Update, else insert: the same two statements on SQLite and PostgreSQL, and one
    writer (the alert worker) per database."""
    values = {
        "last_sent_ts": entry.last_sent_ts,
        "level": entry.level.value,
        "count_suppressed": entry.count_suppressed,
    }
    updated = connection.execute(sa.update(TABLE).where(TABLE.c.key == key).values(**values))
    if not updated.rowcount:
        connection.execute(sa.insert(TABLE).values(key=key, **values))


def _first_line(exc: BaseException) -> str:
    """SQLAlchemy messages carry the statement and a link after the first line."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
