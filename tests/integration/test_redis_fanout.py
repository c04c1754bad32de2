"""Bus events reach real Redis channels and the catch-up stream, in order; a Redis that
is down or flapping never blocks or breaks the bus."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import redis

from quantdesk.domain import Side, Signal
from quantdesk.domain.actions import Action
from quantdesk.domain.enums import Severity
from quantdesk.domain.order import OrderAccepted, OrderSubmitted
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.trade import Trade
from quantdesk.engine.bus import Bus
from quantdesk.execution.book import ClosedTrade
from quantdesk.obs.redis_fanout import RedisFanout
from tests.conftest import REDIS_URL, require_service
from tests.testkit.builders import fill_for, filled, order
from tests.testkit.desk import T0, decision

pytestmark = pytest.mark.redis

D = Decimal
CHANNELS = ("signals", "decisions", "orders", "risk", "health")


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    require_service("Redis", REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """Channels and stream of this test only: parallel runs share the server."""
    name = f"qdtest-{uuid.uuid4().hex[:12]}"
    yield name
    client.delete(f"{name}.events")


@pytest.fixture
def listen(client: redis.Redis, prefix: str) -> Iterator[Callable[[int], list[tuple[str, dict]]]]:
    pubsub = client.pubsub()
    pubsub.subscribe(*(f"{prefix}.{c}" for c in CHANNELS))
    confirmed = 0
    while confirmed < len(CHANNELS):  # publishing before the subscription lands loses it
        message = pubsub.get_message(timeout=5)
        assert message is not None, "subscription not confirmed"
        confirmed += message["type"] == "subscribe"

    def receive(count: int, within: float = 10.0) -> list[tuple[str, dict]]:
        got: list[tuple[str, dict]] = []
        deadline = time.monotonic() + within
        while len(got) < count and time.monotonic() < deadline:
            message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message is not None:
                channel = message["channel"].decode().removeprefix(prefix + ".")
                got.append((channel, json.loads(message["data"])))
        return got

    yield receive
    pubsub.close()


def wait_until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_every_topic_reaches_its_channel_in_order(client, prefix, listen) -> None:
    bus = Bus()
    fanout = RedisFanout(REDIS_URL, prefix=prefix)
    fanout.attach(bus)
    signal = Signal("sma_cross", "INFY", Side.BUY, T0, entry=D("1500.05"), stop_loss=D("1490"))
    o = order(quantity="10")
    fill = fill_for(o, "10", price="1500.10", fee="0.0001")
    trade = Trade("INFY", Side.BUY, D(10), D("1500.10"), D("1510"), T0, T0 + 60, D("99"), D(0), "f")

    bus.publish("signal", signal)
    bus.publish("decision", decision(symbol="INFY", stop="1490"))
    o.apply(OrderSubmitted(T0 + 1))
    bus.publish("order", o)
    o.apply(OrderAccepted(T0 + 2, "V1"))
    bus.publish("order", o)  # the same mutable order: each message is its own snapshot
    o.apply(filled(o, "10", "1500.10"))
    bus.publish("order", o)
    bus.publish("fill", fill)
    bus.publish("trade", ClosedTrade(trade, "p1", D("0.5"), 3.0))
    bus.publish("risk", RiskEvent(T0 + 61, "HEAT_CAP", Severity.WARNING, "too hot"))
    bus.publish("action", Action("risk.state", {"state": "HALTED"}, T0 + 61))
    fanout.publish_health(T0 + 62, queued=fanout.queued)

    got = listen(10)
    assert [(channel, msg["type"]) for channel, msg in got] == [
        ("signals", "signal"),
        ("decisions", "decision"),
        ("orders", "order"),
        ("orders", "order"),
        ("orders", "order"),
        ("orders", "fill"),
        ("orders", "trade"),
        ("risk", "risk"),
        ("risk", "action"),
        ("health", "heartbeat"),
    ]
    messages = [msg for _, msg in got]
    assert D(messages[0]["entry"]) == signal.entry and messages[0]["plan_id"] == signal.plan_id
    assert messages[1]["status"] == "APPROVED" and messages[1]["stop_loss"] == "1490"
    assert [m["status"] for m in messages[2:5]] == ["SUBMITTED", "ACCEPTED", "FILLED"]
    assert [m["ts"] for m in messages[2:5]] == [T0 + 1, T0 + 2, 1]
    assert D(messages[5]["price"]) == fill.price and messages[5]["fee"] == "0.0001"
    assert messages[6]["pnl"] == "99" and messages[6]["plan_id"] == "p1"
    assert messages[7]["code"] == "HEAT_CAP" and messages[7]["severity"] == "WARNING"
    assert messages[8]["payload"] == {"state": "HALTED"}
    assert messages[9]["ts"] == T0 + 62 and messages[9]["queued"] >= 0

    # the stream holds the same messages, in the same order, for late subscribers
    entries = client.xrange(f"{prefix}.events")
    assert [json.loads(fields[b"data"]) for _, fields in entries] == messages
    assert [fields[b"channel"].decode() for _, fields in entries] == [
        f"{prefix}.{channel}" for channel, _ in got
    ]
    assert [fields[b"type"].decode() for _, fields in entries] == [m["type"] for m in messages]
    fanout.close()
    assert (fanout.published, fanout.dropped, fanout.errors, fanout.skipped) == (10, 0, 0, 0)


def test_an_event_without_a_message_form_is_skipped_not_raised(prefix, listen) -> None:
    bus = Bus()
    fanout = RedisFanout(REDIS_URL, prefix=prefix)
    fanout.attach(bus)
    bus.publish("fill", order())  # wrong payload type for the topic
    bus.publish("action", "not a tuple")
    bus.publish("fill", fill_for(order(), "1"))
    got = listen(1)
    assert [msg["type"] for _, msg in got] == ["fill"]
    fanout.close()
    assert fanout.skipped == 2 and fanout.published == 1


def test_a_closed_port_never_blocks_or_breaks_the_bus() -> None:
    bus = Bus()
    fanout = RedisFanout("redis://127.0.0.1:1/0", max_queue=1_000, prefix="qd-nowhere")
    fanout.attach(bus)
    fill = fill_for(order(), "1")
    for _ in range(10_000):
        bus.publish("fill", fill)  # returns: the handler only serializes and enqueues
    fanout.publish_health(T0, queued=fanout.queued)
    assert fanout.queued <= fanout.max_queue
    wait_until(lambda: fanout.errors >= 2)  # the worker keeps trying, with backoff
    fanout.close(timeout=0.2)
    assert fanout.published == 0 and fanout.dropped == 10_001


class FlakyProxy:
    """A TCP proxy to the real Redis that hangs up on every client while `up` is clear:
    a Redis outage, and its recovery, on demand."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.db = parts.path
        self.up = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}{self.db}"
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            if not self.up.is_set():
                conn.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [conn, upstream]
            threading.Thread(target=_pump, args=(conn, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, conn), daemon=True).start()

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def test_after_an_outage_the_newest_messages_arrive_in_order(prefix, listen) -> None:
    proxy = FlakyProxy(REDIS_URL)
    bus = Bus()
    fanout = RedisFanout(proxy.url, max_queue=5, prefix=prefix)
    fanout.attach(bus)
    fills = [fill_for(order(), "1", price=f"100.{i:02d}") for i in range(8)]
    try:
        for fill in fills:
            bus.publish("fill", fill)
        failed = fanout.errors
        wait_until(lambda: fanout.errors >= failed + 2)  # a full retry after the last publish
        assert fanout.dropped == 3  # the oldest went first
        proxy.up.set()
        got = listen(5)
        assert [D(msg["price"]) for _, msg in got] == [f.price for f in fills[3:]]
        wait_until(lambda: fanout.published == 5)  # counted once execute() returns
    finally:
        fanout.close()
        proxy.close()


def test_a_paper_run_with_a_redis_url_publishes_its_fills_and_health(
    client: redis.Redis, tmp_path
) -> None:
    import asyncio

    from quantdesk.config import Settings
    from quantdesk.data.synth import synth_bars
    from quantdesk.runners.paper import PaperSpec, run_paper

    symbol = f"R{uuid.uuid4().hex[:8].upper()}"  # the default channels are shared
    pubsub = client.pubsub()
    pubsub.subscribe("qd.orders", "qd.health")
    for _ in range(2):
        assert pubsub.get_message(timeout=5) is not None  # subscription confirmed
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qd.db'}", redis_url=REDIS_URL)
    bars = synth_bars(symbol=symbol, n=200, seed=3, session="nse",
                      start=1_767_584_700_000_000_000)  # fmt: skip
    spec = PaperSpec("sma_cross", symbol, {"fast": "3", "slow": "8", "qty": "1"}, speed=6000)
    asyncio.run(run_paper(spec, settings, bars, tmp_path / "run"))
    fills, health = [], []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.5)
        if message is None or message["type"] != "message":
            continue
        body = json.loads(message["data"])
        if body["type"] == "fill" and body["symbol"] == symbol:
            fills.append(body)
        elif body["type"] == "heartbeat" and body.get("session_id", "").endswith("SESSION"):
            health.append(body)
    pubsub.close()
    assert len(fills) >= 2 and all(Decimal(f["price"]) > 0 for f in fills)
    assert health, "no health heartbeat on qd.health"
