"""A paper desk serving its API: a WebSocket client gets every fill within a second."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import websockets

from quantdesk.config import Settings
from quantdesk.data.bars import iter_bars, write_bars
from quantdesk.data.synth import synth_bars
from quantdesk.runners.paper import PaperRun, PaperSpec, run_paper
from quantdesk.runners.services import ApiOptions


def test_every_fill_reaches_the_websocket_within_a_second(tmp_path: Path) -> None:
    data = tmp_path / "W.csv"
    write_bars(data, synth_bars(symbol="W", n=300, seed=5, session="nse",
                                start=1_767_584_700_000_000_000))  # fmt: skip
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qd.db'}")
    spec = PaperSpec("sma_cross", "W", {"fast": "3", "slow": "8", "qty": "2"}, speed=3000)
    published: dict[str, float] = {}
    received: dict[str, float] = {}
    started = asyncio.Event()
    runs: list[PaperRun] = []

    def on_start(run: PaperRun) -> None:
        runs.append(run)
        run.desk.engine.bus.subscribe(
            "fill", lambda fill: published.setdefault(fill.fill_id, time.monotonic())
        )
        started.set()

    async def listen() -> None:
        await started.wait()
        api = runs[0].services.api  # type: ignore[union-attr]
        async with websockets.connect(f"ws://127.0.0.1:{api.port}/ws") as socket:
            async for raw in socket:
                message = json.loads(raw)
                if message["type"] == "fill":
                    received[message["fill_id"]] = time.monotonic()

    async def main() -> None:
        listener = asyncio.create_task(listen())
        await run_paper(
            spec,
            settings,
            iter_bars(data, symbol="W"),
            tmp_path / "run",
            on_start=on_start,
            api=ApiOptions("127.0.0.1", 0),
        )
        await asyncio.sleep(0.2)
        listener.cancel()

    asyncio.run(main())
    assert len(published) >= 4, "the run must fill several orders"
    late = {f: received[f] - t for f, t in published.items() if f in received}
    missing = set(published) - set(received)
    # fills published before the client finished connecting may be missed; none after
    assert len(missing) <= 1, f"fills never pushed: {missing}"
    assert late and max(late.values()) < 1.0, late
