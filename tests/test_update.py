"""``pricing update`` from a catalog of ours: HTTP, checksums, ETags, versions, rollback, failures that change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from _loopback import FixtureServer, Route

import llmcost.paths
import pricing
from pricing import _versions
from pricing._cli import cli_logic
from pricing._fetch import Progress, UpdateError
from pricing._serve import make_server
from pricing._update import SOURCE_URLS, UpdateOptions, run_update

FIX = Path(__file__).parent / "fixtures" / "update"
BASE = (FIX / "base.toml").read_bytes()
DAY = dt.date(2026, 3, 1)


def cli(*argv: str) -> int:
    """``pricing ARGV`` run in-process."""
    return cli_logic(list(argv))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def edited(old: str, new: str, *, version: str = "2026.02.01", data: bytes = BASE) -> bytes:
    """The base catalog with one textual edit and a new version."""
    text = data.decode()
    assert old in text
    text = text.replace(old, new, 1).replace('catalog_version = "2026.01.01"', f'catalog_version = "{version}"')
    return text.encode()


# gpt-4o: 2.5 / 10 since 2024-08-06 -> 2.0 / 8 from 2026-02-01, the old window closed.
REPRICED = edited(
    "input_mtok = 2.5\noutput_mtok = 10\ncache_read_mtok = 1.25\n",
    "input_mtok = 2.5\noutput_mtok = 10\ncache_read_mtok = 1.25\neffective_until = 2026-02-01\n\n"
    '[[providers.models.prices]]\neffective_from = 2026-02-01\nsource = "https://openai.com/api/pricing/"\n'
    "checked = 2026-02-01\ninput_mtok = 2\noutput_mtok = 8\ncache_read_mtok = 1\n",
)


@pytest.fixture
def active_base() -> Path:
    """The base catalog installed as the active version (independent of the bundled one)."""
    _versions.activate("2026.01.01", BASE)
    # activate() keeps the catalog it replaces (here the bundled one) as a version: drop it, so these tests see
    # only the versions they make, whatever the bundled catalog's version is.
    bundled = _versions.version_of(pricing.bundled_catalog_path().read_bytes())
    if bundled != "2026.01.01":
        _versions.version_path(bundled).unlink(missing_ok=True)
    return _versions.current_path()


def snapshot() -> dict[str, str]:
    """sha256 of every file under the catalog directory, plus the bundled catalog."""
    files = {str(p): sha(p.read_bytes()) for p in sorted(pricing.catalog_dir().rglob("*")) if p.is_file()}
    bundled = pricing.bundled_catalog_path()
    files[str(bundled)] = sha(bundled.read_bytes())
    return files


def served(body: bytes, *, etag: str | None = None) -> dict[str, Route]:
    return {
        "/catalog.toml": Route(body, etag=etag),
        "/catalog.toml.sha256": Route(f"{sha(body)}  catalog.toml\n".encode()),
    }


# -- success paths ------------------------------------------------------------------------------------------------


def test_update_from_url_checks_sha256_and_activates_a_new_version(active_base: Path) -> None:
    with FixtureServer() as server:
        server.routes.update(served(REPRICED))
        assert cli("update", "--from", server.url("/catalog.toml")) == 0
    assert active_base.read_bytes() == REPRICED
    assert _versions.version_path("2026.02.01").read_bytes() == REPRICED
    assert _versions.version_path("2026.01.01").read_bytes() == BASE  # the previous version is kept
    assert [p for p, _ in server.hits] == ["/catalog.toml", "/catalog.toml.sha256"]


def test_old_calls_keep_their_price_after_an_update(active_base: Path) -> None:
    usage = pricing.Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    before = pricing.load_catalog().price(usage, "gpt-4o", at="2026-01-15T12:00:00Z")
    assert before.cost_usd == Decimal("12.5")
    with FixtureServer() as server:
        server.routes.update(served(REPRICED))
        assert cli("update", "--from", server.url("/catalog.toml")) == 0
    catalog = pricing.load_catalog()  # the running process picks the new version up without a restart
    assert catalog.version == "2026.02.01"
    after = catalog.price(usage, "gpt-4o", at="2026-01-15T12:00:00Z")
    assert (after.cost_usd, after.price_ref.split("@")[1]) == (before.cost_usd, "2024-08-06")  # type: ignore[union-attr]
    assert catalog.price(usage, "gpt-4o", at="2026-02-01T00:00:00Z").cost_usd == Decimal(10)


def test_unchanged_source_costs_one_conditional_request(active_base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FixtureServer() as server:
        server.routes.update(served(REPRICED, etag='"v2"'))
        url = server.url("/catalog.toml")
        assert cli("update", "--from", url) == 0
        state = json.loads((pricing.catalog_dir() / "state.json").read_text())
        assert state[url]["etag"] == '"v2"'
        files = snapshot()
        server.hits.clear()
        capsys.readouterr()
        assert cli("update", "--from", url) == 0
        assert server.hits == [("/catalog.toml", '"v2"')]  # one small request, answered 304
        assert "up to date" in capsys.readouterr().out
        assert snapshot() == files


def test_etag_is_not_trusted_after_a_rollback(active_base: Path) -> None:
    with FixtureServer() as server:
        server.routes.update(served(REPRICED, etag='"v2"'))
        url = server.url("/catalog.toml")
        assert cli("update", "--from", url) == 0
        assert cli("rollback", "2026.01.01") == 0
        server.hits.clear()
        assert cli("update", "--from", url, "--dry-run") == 0
        assert server.hits[0] == ("/catalog.toml", None)  # a full request: the catalog in use is not the ETag's


def test_checksum_in_a_header_saves_the_sidecar_request(active_base: Path) -> None:
    with FixtureServer() as server:
        server.routes["/c.toml"] = Route(REPRICED, headers={"X-Checksum-Sha256": sha(REPRICED)})
        assert cli("update", "--from", server.url("/c.toml")) == 0
    assert [p for p, _ in server.hits] == ["/c.toml"]
    assert active_base.read_bytes() == REPRICED


def test_dry_run_shows_the_diff_and_writes_nothing(active_base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = FIX / "repriced.toml"
    files = snapshot()
    with FixtureServer() as server:
        server.routes.update(served(REPRICED))
        assert cli("update", "--from", server.url("/catalog.toml"), "--dry-run", "--json") == 0
    assert snapshot() == files
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "dry_run"
    assert summary["diff"]["counts"]["changed"] == 1
    (change,) = summary["diff"]["changes"]
    assert change == {
        "model": "openai/gpt-4o",
        "kind": "changed",
        "old": {"input_mtok": "2.5", "output_mtok": "10", "cache_read_mtok": "1.25"},
        "new": {"input_mtok": "2", "output_mtok": "8", "cache_read_mtok": "1"},
        "effective_from": "2026-02-01",
    }
    assert not source.exists()


def test_local_file_source_and_its_checksum(active_base: Path, tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_bytes(REPRICED)
    (tmp_path / "catalog.toml.sha256").write_text("0" * 64 + "  catalog.toml\n")
    files = snapshot()
    with pytest.raises(UpdateError, match="sha256 mismatch"):
        run_update(UpdateOptions(origin=str(path)))
    assert snapshot() == files
    (tmp_path / "catalog.toml.sha256").write_text(sha(REPRICED) + "\n")
    assert run_update(UpdateOptions(origin=str(path))).status == "updated"
    assert active_base.read_bytes() == REPRICED


def test_configured_url_is_the_default_source(active_base: Path) -> None:
    with FixtureServer() as server:
        server.routes.update(served(REPRICED))
        config = llmcost.paths.llmcost_home() / "config.toml"
        config.write_text(f'[pricing]\nurl = "{server.url("/catalog.toml")}"\n')
        result = run_update(UpdateOptions())
    assert (result.status, result.origin) == ("updated", server.url("/catalog.toml"))


@pytest.mark.parametrize(
    "env",
    [{"LLMCOST_HOME": "{tmp}/explicit"}, {"XDG_DATA_HOME": "{tmp}/xdg"}, {"HOME": "{tmp}/home"}],
    ids=["LLMCOST_HOME", "XDG_DATA_HOME", "HOME"],
)
def test_pricing_and_llmcost_find_one_home(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pricing imports nothing of llmcost, so it states the home's rule again: the two must agree, or an update
    # would write catalog versions (and read a config) that the recorder and the monitor never see.
    for name in ("LLMCOST_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    home = llmcost.paths.llmcost_home()
    assert str(home).startswith(str(tmp_path))
    assert pricing.catalog_dir() == home / "catalog"
    assert pricing.read_config()[0] == llmcost.paths.read_config()[0] == llmcost.paths.config_file()


def test_same_catalog_is_no_change(active_base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = snapshot()
    with FixtureServer() as server:
        server.routes.update(served(BASE))
        assert cli("update", "--from", server.url("/catalog.toml")) == 0
    assert "no changes" in capsys.readouterr().out
    assert snapshot() == files


def test_first_update_keeps_the_bundled_catalog_for_rollback() -> None:
    bundled = pricing.bundled_catalog_path().read_bytes()
    version = _versions.version_of(bundled)
    assert version is not None
    newer = bundled.decode().replace(f'catalog_version = "{version}"', 'catalog_version = "2999.01.01"').encode()
    with FixtureServer() as server:
        server.routes.update(served(newer))
        assert cli("update", "--from", server.url("/catalog.toml")) == 0
    assert _versions.version_path(version).read_bytes() == bundled
    assert cli("rollback", version) == 0
    assert _versions.current_path().read_bytes() == bundled


# -- versions, diff, rollback -------------------------------------------------------------------------------------


def test_versions_diff_and_rollback(active_base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FixtureServer() as server:
        server.routes.update(served(REPRICED))
        assert cli("update", "--from", server.url("/catalog.toml")) == 0
    capsys.readouterr()
    assert cli("versions", "--json") == 0
    listed = json.loads(capsys.readouterr().out)["versions"]
    assert [(v["version"], v["current"]) for v in listed] == [("2026.01.01", False), ("2026.02.01", True)]
    assert cli("diff", "2026.01.01", "2026.02.01") == 0
    out = capsys.readouterr().out
    assert "1 changed" in out
    assert "openai/gpt-4o  input 2.5 → 2, output 10 → 8, cache_read 1.25 → 1  from 2026-02-01" in out
    assert pricing.load_catalog().version == "2026.02.01"
    assert cli("rollback", "2026.01.01") == 0
    assert active_base.read_bytes() == BASE
    assert pricing.load_catalog().version == "2026.01.01"
    assert _versions.version_path("2026.02.01").read_bytes() == REPRICED  # rolling back deletes nothing


def test_rollback_to_an_unknown_version_is_a_usage_error(active_base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = snapshot()
    assert cli("rollback", "2020.01.01") == 2
    err = capsys.readouterr().err
    assert err.startswith("pricing: error: no stored version 2020.01.01")
    assert err.count("\n") == 1
    assert cli("diff", "2026.01.01", "nope") == 2
    assert snapshot() == files


def test_a_hand_placed_current_catalog_is_kept_as_a_version() -> None:
    hand = edited("input_mtok = 1\n", "input_mtok = 1.5\n", version="2026.01.05")
    _versions.atomic_write(_versions.current_path(), hand)
    with FixtureServer() as server:
        server.routes.update(served(REPRICED))
        assert cli("update", "--from", server.url("/catalog.toml")) == 0
    assert _versions.version_path("2026.01.05").read_bytes() == hand
    assert cli("rollback", "2026.01.05") == 0
    assert _versions.current_path().read_bytes() == hand


# -- guards -------------------------------------------------------------------------------------------------------


def _without_anthropic() -> bytes:
    text = REPRICED.decode()
    return (
        text[: text.index('[[providers]]\nid = "anthropic"')] + text[text.index('[[providers]]\nid = "ollama"') :]
    ).encode()


def test_shrink_guard_needs_force(active_base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    smaller = _without_anthropic()  # 2 of 5 models gone: 40 %
    files = snapshot()
    with FixtureServer() as server:
        server.routes.update(served(smaller))
        url = server.url("/catalog.toml")
        assert cli("update", "--from", url) == 1
        err = capsys.readouterr().err
        assert (
            err
            == "pricing: error: the update would remove 2 of 5 models (40%); check the source, or rerun with --force\n"
        )
        assert snapshot() == files
        assert cli("update", "--from", url, "--force") == 0
    assert active_base.read_bytes() == smaller


def test_tenfold_jump_is_refused_then_flagged_when_forced(
    active_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jumped = edited("input_mtok = 1\noutput_mtok = 5\n", "input_mtok = 1\noutput_mtok = 75\n")
    with FixtureServer() as server:
        server.routes.update(served(jumped))
        assert cli("update", "--from", server.url("/catalog.toml"), "--dry-run") == 1
        assert capsys.readouterr().err == (
            "pricing: error: anthropic/claude-haiku-4-5: output_mtok 5 → 75 (×15) (beyond ×10 or to zero); "
            "check the source, or rerun with --force\n"
        )
        assert cli("update", "--from", server.url("/catalog.toml"), "--dry-run", "--force") == 0
        out = capsys.readouterr().out
        assert "1 flagged (> ×10 jump)" in out
        assert "anthropic/claude-haiku-4-5  output 5 → 75" in out
        assert "[×15 jump]" in out
        assert "[suspicious: output_mtok 5 → 75 (×15)]" in out
        assert cli("update", "--from", server.url("/catalog.toml"), "--dry-run", "--json", "--force") == 0
    change = json.loads(capsys.readouterr().out)["diff"]["changes"][0]
    assert change["jump"] == "15"
    assert "rewrites_past" not in change  # the window is dated: the source says the rate holds from its start


def test_rewriting_an_undated_rate_is_flagged(active_base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rewritten = edited("input_mtok = 0.15\n", "input_mtok = 0.2\n")  # gpt-4o-mini has one window with no dates
    with FixtureServer() as server:
        server.routes.update(served(rewritten))
        assert cli("update", "--from", server.url("/catalog.toml"), "--dry-run") == 0
    assert "openai/gpt-4o-mini  input 0.15 → 0.2  [older calls would reprice]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("catalog", "refusal"),
    [
        pytest.param(
            edited("input_mtok = 1\n", "input_mtok = 1.5\n", version="2026.01.01"),
            "already stored with different content",
            id="a stored version reused for other content",
        ),
        pytest.param(
            edited('id = "gpt-4o-mini"\n', 'id = "gpt-4o-mini"\naliases = ["gpt-4o-2024-08-06"]\n'),
            "ambiguous model names",
            id="ambiguous names",
        ),
        pytest.param(
            BASE.replace(b'"2026.01.01"', b'"../../evil"'),
            r"not of the form YYYY\.MM\.DD",
            id="a version string escaping the catalog directory",
        ),
    ],
)
def test_a_refused_catalog_changes_nothing(active_base: Path, catalog: bytes, refusal: str) -> None:
    files = snapshot()
    with FixtureServer() as server:
        server.routes.update(served(catalog))
        with pytest.raises(UpdateError, match=refusal):
            run_update(UpdateOptions(origin=server.url("/catalog.toml")))
    assert snapshot() == files
    assert not (llmcost.paths.llmcost_home().parent / "evil.toml").exists()


# -- failures: one line, exit 1, every catalog file unchanged -----------------------------------------------------

NEGATIVE = edited("input_mtok = 0.15\n", "input_mtok = -0.15\n")

Handler = Callable[[httpx.Request], httpx.Response]


def _respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(".sha256"):
            return httpx.Response(200, content=f"{sha(body)}  catalog.toml\n".encode())
        return httpx.Response(status, content=body, headers=headers)

    return handler


def _raise(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def _wrong_sha(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith(".sha256"):
        return httpx.Response(200, content=sha(b"something else").encode())
    return httpx.Response(200, content=REPRICED)


def _no_sha(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith(".sha256"):
        return httpx.Response(404)
    return httpx.Response(200, content=REPRICED)


def _redirect_loop(request: httpx.Request) -> httpx.Response:
    return httpx.Response(302, headers={"Location": str(request.url.copy_with(path=request.url.path + "x"))})


FAILURES: dict[str, tuple[Handler, str]] = {
    "refused": (_raise(httpx.ConnectError("[Errno 111] Connection refused")), "cannot connect: [Errno 111]"),
    "timeout": (_raise(httpx.ReadTimeout("timed out")), "timed out"),
    "404": (_respond(404), "HTTP 404 Not Found"),
    "500": (_respond(500), "HTTP 500 Internal Server Error"),
    "truncated": (_respond(200, REPRICED[:200], {"Content-Length": str(len(REPRICED))}), "truncated body"),
    "broken toml": (_respond(200, REPRICED[:-40] + b"\n[[providers"), "not valid TOML"),
    "broken json": (_respond(200, b'{"gpt-4o": {"input_cost_per_token": 2.5e-06,'), "not valid JSON"),
    "wrong sha256": (_wrong_sha, "sha256 mismatch"),
    "no sha256": (_no_sha, "no usable sha256 published beside the catalog"),
    "negative price": (_respond(200, NEGATIVE), "input_mtok cannot be negative (-0.15)"),
    "not a catalog": (
        _respond(200, b'schema_version = 7\ncatalog_version = "2026.02.01"\n'),
        "schema_version must be 1",
    ),
    "unknown json": (_respond(200, b'{"hello": "world"}'), "unrecognised price data"),
    "redirect loop": (_redirect_loop, "more than 5 redirects"),
    "too large": (_respond(200, b"#" * 2048 + REPRICED), "larger than the"),
}


@pytest.fixture
def history(active_base: Path) -> Iterator[None]:
    """A realistic directory: two stored versions, the newer active, an ETag remembered."""
    with FixtureServer() as server:
        server.routes.update(served(REPRICED, etag='"v2"'))
        assert cli("update", "--from", server.url("/catalog.toml")) == 0
    return


@pytest.mark.parametrize("case", list(FAILURES))
def test_failure_is_one_line_and_changes_nothing(history: None, case: str) -> None:
    handler, expected = FAILURES[case]
    files = snapshot()
    assert len(files) == 5  # two versions, current.toml, state.json, the bundled catalog
    with httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True, max_redirects=5) as client:
        opts = UpdateOptions(
            origin="https://prices.example/catalog.toml", client=client, max_bytes=len(REPRICED) + 1024
        )
        with pytest.raises(UpdateError) as caught:
            run_update(opts)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert snapshot() == files


@pytest.mark.parametrize("case", ["refused", "404", "truncated", "negative"])
def test_cli_failure_over_real_http(history: None, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    files = snapshot()
    with FixtureServer() as server:
        server.routes.update(served(NEGATIVE))
        server.routes["/cut.toml"] = Route(REPRICED, truncate=True)
        url = {
            "refused": "http://127.0.0.1:9/catalog.toml",
            "404": server.url("/missing.toml"),
            "truncated": server.url("/cut.toml"),
            "negative": server.url("/catalog.toml"),
        }[case]
        capsys.readouterr()
        assert cli("update", "--from", url) == 1
    err = capsys.readouterr().err
    assert err.startswith("pricing: error: "), err
    assert err.count("\n") == 1, err
    assert snapshot() == files


# -- pricing serve ------------------------------------------------------------------------------------------------


@pytest.fixture
def serving(active_base: Path) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_serve_publishes_the_active_catalog(serving: str) -> None:
    data = _versions.current_path().read_bytes()
    with httpx.Client(base_url=serving) as client:
        for path in ("/", "/catalog.toml"):
            resp = client.get(path)
            assert (resp.status_code, resp.content) == (200, data)
            assert resp.headers["etag"] == f'"{sha(data)}"'
            assert resp.headers["x-checksum-sha256"] == sha(data)
        assert client.get("/catalog.toml", headers={"If-None-Match": f'"{sha(data)}"'}).status_code == 304
        assert client.get("/catalog.toml.sha256").text == f"{sha(data)}  catalog.toml\n"
        index = client.get("/versions.json").json()
        assert index["current"] == {"version": "2026.01.01", "sha256": sha(data), "size": len(data)}
        assert [v["version"] for v in index["versions"]] == ["2026.01.01"]
        assert client.head("/catalog.toml").headers["content-length"] == str(len(data))
        assert client.get("/etc/passwd").status_code == 404
        assert client.post("/catalog.toml").status_code == 501  # read-only


def test_update_from_a_served_catalog_round_trips_exactly(
    serving: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The serving machine moves to a new version; it is served at once.
    assert cli("update", "--from", str(_write(tmp_path / "new.toml", REPRICED))) == 0
    published = _versions.current_path().read_bytes()
    monkeypatch.setenv("LLMCOST_HOME", str(tmp_path / "fleet-member"))  # another machine, same starting point
    _versions.activate("2026.01.01", BASE)
    assert cli("update", "--from", serving) == 0
    assert _versions.current_path().read_bytes() == published
    assert pricing.load_catalog().version == "2026.02.01"
    state = json.loads((pricing.catalog_dir() / "state.json").read_text())
    assert state[serving]["etag"] == f'"{sha(published)}"'
    assert run_update(UpdateOptions(origin=serving)).status == "up_to_date"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- progress -----------------------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream", [_Terminal(), io.StringIO()], ids=["terminal", "pipe"])
def test_progress_is_shown_only_on_a_terminal_and_cleared(active_base: Path, stream: io.StringIO) -> None:
    with FixtureServer() as server:
        server.routes.update(served(REPRICED))
        run_update(UpdateOptions(origin=server.url("/catalog.toml"), progress=Progress(stream)))
    shown = stream.getvalue()
    if not stream.isatty():
        assert shown == ""
        return
    assert "downloading: 0.0 MiB / 0.0 MiB" in shown
    assert "parsing 0.0 MiB" in shown
    assert "checking ours data" in shown
    assert shown.endswith("\r\x1b[K")  # the line is erased before the summary is printed


@pytest.mark.parametrize("source", sorted(SOURCE_URLS))
def test_a_named_source_without_from_reads_its_public_url(active_base: Path, source: str) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(503)

    files = snapshot()
    with httpx.Client(transport=httpx.MockTransport(handler)) as client, pytest.raises(UpdateError):
        run_update(UpdateOptions(source=source, client=client))
    assert asked[0] == SOURCE_URLS[source]
    assert snapshot() == files
