"""Operator API under load while the desk trades.

Starts `quantdesk paper` (bundled sample, 600x) in its own process, then from this process
drives GET /state at 200 requests/s with a POST /pause + POST /resume pair every 10th slot,
on an open-loop schedule (latency is measured from each request's scheduled time, so a
stall is not hidden by sending later). Prints medians and p99 and the engine loop lag the
desk reported meanwhile. Run: .venv/bin/python benchmarks/api.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_desk(folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QD_")}
    env.update(QD_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}", QD_API_RATE_PER_S="1000",
               QD_API_RATE_BURST="1000")  # fmt: skip
    command = [sys.executable, "-m", "quantdesk", "paper", "--speed", "600",
               "--port", str(port), "--run-dir", str(folder / "run")]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.DEVNULL)  # noqa: S603 (our own CLI)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the desk's API did not come up")


def drive(url: str, rate: int, seconds: float) -> tuple[list[float], list[float], list[float]]:
    state_ms: list[float] = []
    control_ms: list[float] = []
    lag_ms: list[float] = []
    with httpx.Client(base_url=url, timeout=5) as client:
        start = time.perf_counter()
        for slot in range(int(rate * seconds)):
            due = start + slot / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            if slot % 10 == 9:
                for path in ("/pause", "/resume"):
                    response = client.post(path, json={})
                    response.raise_for_status()
                control_ms.append((time.perf_counter() - due) * 1000)
            else:
                client.get("/state").raise_for_status()
                state_ms.append((time.perf_counter() - due) * 1000)
            if slot % rate == 0:
                lag_ms.append(client.get("/health").json()["loop_lag_ms"])
    return state_ms, control_ms, lag_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qd-bench-api-") as tmp:
        port = free_port()
        desk = start_desk(Path(tmp), port)
        try:
            url = f"http://127.0.0.1:{port}"
            drive(url, args.rate, 2.0)  # warm-up
            state, control, lag = drive(url, args.rate, args.seconds)
        finally:
            desk.send_signal(signal.SIGINT)
            desk.wait(timeout=30)
    print(f"requests: {len(state)} GET /state, {len(control)} POST /pause+/resume pairs")
    print(f"state_median_ms: {statistics.median(state):.2f}")
    print(f"state_p99_ms_at_{args.rate}rps: {percentile(state, 0.99):.2f}")
    print(f"pause_resume_pair_p99_ms: {percentile(control, 0.99):.2f}")
    print(f"engine_loop_lag_ms_median: {statistics.median(lag):.2f}")
    print(f"engine_loop_lag_ms_max: {max(lag):.2f}")


if __name__ == "__main__":
    main()
