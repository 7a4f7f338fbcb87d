"""``llmcost-top --otlp-listen``: spans posted to the monitor's port show up in its rows, beside the followed logs;
the listener wakes the ingest thread, refuses work when the monitor is behind, and goes away with the monitor."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

import pricing
from llmcost import otel
from llmcost.engine import Engine, Follower
from llmcost.log import Record
from tests._otlp import json_of, request_of, without_opentelemetry
from tests._traces import rec, ts
from tests._tui import CATALOG, append, call, ready, until
from tui import make_app
from tui._cli import main
from tui._otlp import OtlpFeed

JSON = {"content-type": "application/json"}
SIZE = (120, 40)


def now_records(*agents: str) -> list[Record]:
    t = time.time()
    return [rec(t, start_ts=ts(t - 0.3), agent=agent, cost_usd=0.25) for agent in agents]


def test_otlp_listen_needs_a_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--otlp-listen", ":4318"]) == 2
    assert "names no host" in capsys.readouterr().err


def test_otlp_listen_is_for_the_live_monitor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--otlp-listen", "127.0.0.1:0", "--once"]) == 2
    assert "--otlp-listen goes with the live monitor" in capsys.readouterr().err


def test_otlp_listen_on_a_port_in_use_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with otel.OtlpReceiver(lambda records: None, port=0) as taken:
        assert main([str(tmp_path), "--otlp-listen", f"127.0.0.1:{taken.address[1]}", "--no-alerts"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("llmcost-top: error: cannot listen on 127.0.0.1:")
    assert err.count("\n") == 1


async def test_spans_posted_to_the_monitor_show_up_beside_the_logs(tmp_path: Path) -> None:
    append(tmp_path, call("from-the-log", 0.10))
    catalog = pricing.load_catalog(CATALOG, overrides=False)
    app = make_app([str(tmp_path)], catalog=catalog, otlp_listen=("127.0.0.1", 0))
    async with app.run_test(size=SIZE):
        await ready(app)
        feed = app.feed
        assert isinstance(feed, OtlpFeed)
        assert feed.label.startswith("live + OTLP 127.0.0.1:")
        body = json_of(request_of(now_records("remote-a", "remote-b", "remote-a")))
        async with httpx.AsyncClient() as client:
            response = await client.post(feed.receiver.url, content=body, headers=JSON)
        assert response.status_code == 200
        table = app.monitor.table
        await until(lambda: set(table.row_keys) == {"from-the-log", "remote-a", "remote-b"})
        snapshot = feed.snapshot("agent", wait=True)
        assert snapshot is not None
        assert {row.key: row.calls for row in snapshot.rows} == {"from-the-log": 1, "remote-a": 2, "remote-b": 1}
    assert port_frees_up(feed.receiver.address)  # the ingest thread ends after the app, and closes the listener


def port_frees_up(address: tuple[str, int], timeout: float = 10.0) -> bool:
    """Whether a new receiver can bind ``address`` within ``timeout`` seconds (tried at least once)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            otel.OtlpReceiver(lambda records: None, *address).close()
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def running_feed(tmp_path: Path, **kwargs: object) -> tuple[OtlpFeed, threading.Thread]:
    engine = Engine(catalog=pricing.load_catalog(CATALOG, overrides=False))
    feed = OtlpFeed(engine, Follower([str(tmp_path)]), [str(tmp_path)], ("127.0.0.1", 0), **kwargs)  # type: ignore[arg-type]
    thread = threading.Thread(target=feed.run, args=(lambda done, total: None, lambda changes: None))
    thread.start()
    deadline = time.monotonic() + 10
    while not feed.replayed and time.monotonic() < deadline:
        time.sleep(0.01)
    return feed, thread


def calls_of(feed: OtlpFeed) -> dict[str, int]:
    snapshot = feed.snapshot("agent", wait=True)
    assert snapshot is not None
    return {row.key: row.calls for row in snapshot.rows}


def test_received_records_wake_the_ingest_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the periodic step an hour apart, only the listener's wake-up can bring the records in."""
    monkeypatch.setattr("tui._source.POLL_S", 3600.0)
    feed, thread = running_feed(tmp_path)
    try:
        feed.wake.set()  # the step already waiting began with the old period: let it start a new wait
        time.sleep(0.1)
        body = json_of(request_of(now_records("woken")))
        assert httpx.post(feed.receiver.url, content=body, headers=JSON).status_code == 200
        deadline = time.monotonic() + 5
        while calls_of(feed) != {"woken": 1} and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls_of(feed) == {"woken": 1}
    finally:
        feed.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_a_monitor_that_is_behind_asks_senders_to_retry(tmp_path: Path) -> None:
    engine = Engine(catalog=pricing.load_catalog(CATALOG, overrides=False))
    feed = OtlpFeed(engine, Follower([str(tmp_path)]), [str(tmp_path)], ("127.0.0.1", 0), max_pending=2)
    feed.start()  # serving, but no ingest thread takes the records: the pending list fills up
    try:
        first = httpx.post(feed.receiver.url, content=json_of(request_of(now_records("a", "b"))), headers=JSON)
        second = httpx.post(feed.receiver.url, content=json_of(request_of(now_records("c"))), headers=JSON)
        assert (first.status_code, second.status_code) == (200, 503)
        assert [r.agent for r in feed.new_records()] == ["a", "b"]
        third = httpx.post(feed.receiver.url, content=json_of(request_of(now_records("c"))), headers=JSON)
        assert third.status_code == 200
        assert any("503" in p for p in feed.problems())
    finally:
        feed.finish()


def test_stopping_the_feed_frees_the_port(tmp_path: Path) -> None:
    feed, thread = running_feed(tmp_path)
    address = feed.receiver.address
    feed.stop()
    thread.join(10)
    assert port_frees_up(address, timeout=0)  # at once: the feed closed it before its thread ended
    assert calls_of(feed) == {}


def test_otlp_listen_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    code, err = without_opentelemetry("tui._cli", [str(tmp_path), "--otlp-listen", "127.0.0.1:0"])
    assert code == 2
    assert err == "llmcost-top: error: --otlp-listen needs OpenTelemetry: pip install 'llmcost-top[otel]'\n"
