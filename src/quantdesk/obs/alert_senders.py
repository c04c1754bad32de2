"""Slack (incoming webhook) and Telegram (bot API) delivery over httpx.

Both addresses are secrets: the whole Slack webhook URL, and the bot token that Telegram
puts in the URL path. httpx writes request URLs to its `httpx` logger at INFO and into
its exception messages, so (1) a filter on that logger masks every registered secret, and
(2) `failure()` is the only way a delivery error reaches our logs: it names the sender and
the HTTP status or the error type, scrubbed. Senders raise on any failure; the router's
worker catches, logs and counts.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import httpx
from pydantic import SecretStr

from quantdesk.config import AlertSettings

log = logging.getLogger(__name__)
MASK = "****"
_BODY_CHARS = 160


class AlertDeliveryError(RuntimeError):
    """The service answered, but not with success."""


class Sender(Protocol):
    name: str

    def send(self, text: str) -> None: ...

    def scrub(self, text: str) -> str: ...

    def close(self) -> None: ...


class _Redactor(logging.Filter):
    """Masks registered secrets in records of the logger it is attached to."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.secrets: tuple[str, ...] = ()

    def add(self, *secrets: str) -> None:
        with self._lock:
            self.secrets = (*self.secrets, *(s for s in secrets if s))

    def remove(self, *secrets: str) -> None:
        with self._lock:
            remaining = list(self.secrets)
            for secret in secrets:
                if secret in remaining:
                    remaining.remove(secret)
            self.secrets = tuple(remaining)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets
        if secrets:
            message = record.getMessage()
            clean = scrub(message, secrets)
            if clean != message:
                record.msg, record.args = clean, None
        return True


_REDACTOR = _Redactor()
logging.getLogger("httpx").addFilter(_REDACTOR)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):  # a URL before its own path
        text = text.replace(secret, MASK)
    return text


class _HttpSender:
    name = "http"

    def __init__(self, url: str, secrets: tuple[str, ...], timeout_s: float) -> None:
        self._url = url
        self._secrets = tuple(s for s in secrets if len(s) > 1)
        _REDACTOR.add(*self._secrets)
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def close(self) -> None:
        self._client.close()
        _REDACTOR.remove(*self._secrets)

    def _post(self, payload: dict[str, str]) -> httpx.Response:
        response = self._client.post(self._url, json=payload)
        if not response.is_success:
            body = response.text[:_BODY_CHARS].strip()
            raise AlertDeliveryError(f"HTTP {response.status_code}: {self.scrub(body)}")
        return response


class SlackSender(_HttpSender):
    """POSTs `{"text": ...}` to an incoming webhook."""

    name = "slack"

    def __init__(self, webhook_url: SecretStr | str, timeout_s: float) -> None:
        url = _reveal(webhook_url)
        parsed = httpx.URL(url)
        super().__init__(url, (url, str(parsed), parsed.path), timeout_s)

    def send(self, text: str) -> None:
        self._post({"text": text})


class TelegramSender(_HttpSender):
    """`POST {api_url}/bot{token}/sendMessage` with `chat_id` and `text` (plain text:
    no parse mode, so a symbol or reason never breaks Markdown)."""

    name = "telegram"

    def __init__(
        self, bot_token: SecretStr | str, chat_id: str, api_url: str, timeout_s: float
    ) -> None:
        token = _reveal(bot_token)
        self.chat_id = chat_id
        super().__init__(f"{api_url.rstrip('/')}/bot{token}/sendMessage", (token,), timeout_s)

    def send(self, text: str) -> None:
        answer = self._post({"chat_id": self.chat_id, "text": text})
        try:
            ok = answer.json().get("ok", True)
        except ValueError:
            ok = True  # a 2xx without JSON (a proxy): trust the status
        if ok is False:
            raise AlertDeliveryError("telegram answered ok=false")


def senders_from_settings(settings: AlertSettings) -> list[Sender]:
    """The configured senders, each optional; a bot token without a chat id is logged
    and skipped (there is nowhere to send)."""
    senders: list[Sender] = []
    if settings.slack_webhook_url is not None and settings.slack_webhook_url.get_secret_value():
        senders.append(SlackSender(settings.slack_webhook_url, settings.timeout_s))
    token = settings.telegram_bot_token
    if token is not None and token.get_secret_value():
        if settings.telegram_chat_id:
            senders.append(
                TelegramSender(
                    token, settings.telegram_chat_id, settings.telegram_api_url, settings.timeout_s
                )
            )
        else:
            log.warning("telegram alerts off: QD_ALERTS__TELEGRAM_CHAT_ID is not set")
    return senders


def failure(sender: Sender, exc: BaseException) -> str:
    """A delivery error as one safe line: never the URL, never the token."""
    if isinstance(exc, httpx.TimeoutException):
        return f"{type(exc).__name__} (timed out)"
    if isinstance(exc, AlertDeliveryError):
        return sender.scrub(str(exc))
    return f"{type(exc).__name__}: {sender.scrub(str(exc))}"


def _reveal(secret: SecretStr | str) -> str:
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret
