"""The LIVE gate: the only way from PAPER to LIVE, and only for this process.

Going LIVE needs SAFE_MODE off, the operator's API key and a typed confirmation that
names today's session date, so a phrase pasted from yesterday's runbook does not work.
Nothing here is persisted: a restart always comes back in PAPER. Every attempt,
granted or refused, goes to the audit log (without the key).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from quantdesk.domain.enums import Mode


def confirmation_phrase(session_day: date) -> str:
    return f"GO LIVE {session_day.isoformat()}"


@dataclass(frozen=True, slots=True)
class LiveVerdict:
    granted: bool
    reasons: tuple[str, ...] = ()


def check_live_request(
    *,
    safe_mode: bool,
    configured_key: str | None,
    given_key: str | None,
    phrase: str,
    session_day: date,
) -> LiveVerdict:
    reasons = []
    if safe_mode:
        reasons.append("SAFE_MODE is on (set QD_SAFE_MODE=false and restart)")
    if not configured_key:
        reasons.append("no API key configured (QD_API_KEY)")
    elif given_key is None or not hmac.compare_digest(given_key.encode(), configured_key.encode()):
        reasons.append("API key missing or wrong")
    if phrase.strip() != confirmation_phrase(session_day):
        reasons.append(f"confirmation must be exactly {confirmation_phrase(session_day)!r}")
    return LiveVerdict(not reasons, tuple(reasons))


Record = Callable[[str, dict[str, str]], None]


class ModeSwitch:
    """The process's trading mode. Starts in PAPER (or BACKTEST) whatever was LIVE before."""

    def __init__(self, start: Mode, record: Record) -> None:
        self.mode = Mode.PAPER if start is Mode.LIVE else start
        self.record = record

    def request_live(
        self,
        *,
        safe_mode: bool,
        configured_key: str | None,
        given_key: str | None,
        phrase: str,
        session_day: date,
        actor: str = "operator",
    ) -> LiveVerdict:
        verdict = check_live_request(
            safe_mode=safe_mode,
            configured_key=configured_key,
            given_key=given_key,
            phrase=phrase,
            session_day=session_day,
        )
        self.record(
            "mode.live_granted" if verdict.granted else "mode.live_refused",
            {"actor": actor, "reasons": "; ".join(verdict.reasons), "day": session_day.isoformat()},
        )
        if verdict.granted:
            self.mode = Mode.LIVE
        return verdict

    def to_paper(self, actor: str = "operator") -> None:
        self.mode = Mode.PAPER
        self.record("mode.paper", {"actor": actor})
