"""``pricing update`` from a LiteLLM-sized price map served on loopback, end to end. Target: at most 1 s.

The map is LiteLLM's own file when litellm is installed (the copy bundled in its package, from the ``bench`` extra),
else a synthetic one of the same shape and size. A separate process serves it over HTTP on 127.0.0.1. Measured:

* ``update``: download, parse, convert, validate, merge into the bundled catalog, diff, write a new version
  (in-process, a fresh catalog directory each run, median of several runs);
* ``update, cold``: the same as a new ``python -m pricing update`` process (interpreter start and imports included);
* peers in the same run: a plain ``httpx.get`` + ``json.loads`` of the same body (the floor any updater pays), and
  LiteLLM's own ``get_model_cost_map(url)`` when litellm is installed.

Run: ``python benchmarks/bench_update.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TARGET_S = 1.0


def synthetic_map(entries: int = 4_500) -> dict[str, Any]:
    """Entries in LiteLLM's shape: USD per token, provider, mode, cache and long-context keys on some."""
    providers = ["openai", "anthropic", "bedrock", "vertex_ai", "azure", "mistral", "groq", "deepinfra", "together_ai"]
    data: dict[str, Any] = {"sample_spec": {"max_tokens": "LEGACY parameter", "mode": "one of: chat, embedding"}}
    for i in range(entries):
        provider = providers[i % len(providers)]
        entry: dict[str, Any] = {
            "litellm_provider": provider,
            "mode": "chat" if i % 7 else "embedding",
            "max_input_tokens": 128_000,
            "max_output_tokens": 16_384,
            "input_cost_per_token": round(1e-7 * (1 + i % 50), 12),
            "output_cost_per_token": round(4e-7 * (1 + i % 50), 12),
            "supports_function_calling": True,
            "source": f"https://example.com/{provider}/pricing",
        }
        if i % 3 == 0:
            entry["cache_read_input_token_cost"] = round(1e-8 * (1 + i % 50), 12)
        if i % 11 == 0:
            entry["input_cost_per_token_above_200k_tokens"] = round(2e-7 * (1 + i % 50), 12)
            entry["output_cost_per_token_above_200k_tokens"] = round(8e-7 * (1 + i % 50), 12)
        name = f"model-{i:04d}" if provider in ("openai", "anthropic") else f"{provider}/model-{i:04d}"
        data[name] = entry
    return data


def load_map() -> tuple[bytes, str]:
    import importlib.util

    spec = importlib.util.find_spec("litellm")  # found without importing litellm (which takes seconds)
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "model_prices_and_context_window_backup.json"
        if bundled.is_file():
            return bundled.read_bytes(), f"LiteLLM's map (the copy bundled with litellm, {bundled.name})"
    return json.dumps(synthetic_map(), indent=4).encode(), "a synthetic map in LiteLLM's shape"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """``python -m http.server`` in its own process (the client does not share a GIL with it)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def update_in_process(url: str, home: Path) -> dict[str, Any]:
    from pricing._cli import cli_logic

    os.environ["LLMCOST_HOME"] = str(Path(tempfile.mkdtemp(dir=home)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # --force: the map moves some rates more than ten-fold against the bundled catalog (the jump guard would
        # stop the update before the work this benchmark times).
        code = cli_logic(["update", "--from", url, "--source", "litellm", "--json", "--force"])
    if code != 0:
        raise SystemExit(f"pricing update failed with exit code {code}")
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def update_cold(url: str, home: Path) -> None:
    env = {**os.environ, "LLMCOST_HOME": str(Path(tempfile.mkdtemp(dir=home)))}
    cmd = [sys.executable, "-m", "pricing", "update", "--from", url, "--source", "litellm", "--json", "--force"]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def peer_httpx(url: str) -> int:
    import httpx

    return len(json.loads(httpx.get(url, timeout=30).content))


def peer_litellm(url: str) -> int | None:
    # Importing litellm fetches its map from GitHub unless told not to; the fetch measured here is the loopback one.
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "true"
    try:
        from litellm.litellm_core_utils.get_model_cost_map import get_model_cost_map
    except ImportError:
        return None
    finally:
        del os.environ["LITELLM_LOCAL_MODEL_COST_MAP"]
    return len(get_model_cost_map(url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    body, what = load_map()
    entries = len(json.loads(body))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "www").mkdir()
        (root / "www" / "prices.json").write_bytes(body)
        with serve(root / "www") as base:
            url = base + "prices.json"
            update_in_process(url, root)  # warm imports and the OS page cache once
            t_update, summary = timed(lambda: update_in_process(url, root), args.runs)
            t_cold, _ = timed(lambda: update_cold(url, root), max(1, args.runs // 2))
            t_httpx, _ = timed(lambda: peer_httpx(url), args.runs)
            has_litellm = peer_litellm(url) is not None
            t_litellm = timed(lambda: peer_litellm(url), args.runs)[0] if has_litellm else None
    counts = summary["diff"]["counts"] if isinstance(summary, dict) else {}
    print(f"source: {what}, {entries:,} entries, {len(body) / 1_048_576:.1f} MiB, served on 127.0.0.1")
    print(
        f"result: {counts.get('added')} models added, {counts.get('changed')} changed, "
        f"{len(summary['warnings']) if isinstance(summary, dict) else '?'} warnings"
    )
    print(f"pricing update (in-process, median of {args.runs}): {t_update * 1000:7.1f} ms   target ≤ {TARGET_S:.0f} s")
    print(f"pricing update (new process, imports included):  {t_cold * 1000:7.1f} ms")
    print(
        f"peer: httpx.get + json.loads of the same body:    {t_httpx * 1000:7.1f} ms   ratio {t_update / t_httpx:.1f}×"
    )
    if t_litellm is not None:
        print(
            f"peer: litellm get_model_cost_map(url):             {t_litellm * 1000:7.1f} ms   ratio {t_update / t_litellm:.1f}×"
        )
    else:
        print("peer: litellm not installed, get_model_cost_map not measured")
    print("PASS" if t_update <= TARGET_S else "FAIL", f"(update {t_update:.3f} s vs target {TARGET_S} s)")


if __name__ == "__main__":
    main()
