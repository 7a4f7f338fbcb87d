"""The wheel ships the catalog: build it, install it into a fresh virtualenv, price a call from the bundled catalog."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from pricing import Usage, load_catalog

ROOT = Path(__file__).resolve().parents[1]

# Runs in the fresh environment: stdlib only (``pricing`` itself needs nothing else on Python 3.11+).
PROBE = """
import json, pricing
catalog = pricing.load_catalog()
price = catalog.price(pricing.Usage(input_tokens=12000, output_tokens=800, cache_read_tokens=8000), "gpt-4o")
print(json.dumps({
    "module": pricing.__file__,
    "catalog": str(pricing.bundled_catalog_path()),
    "version": catalog.version,
    "cost": str(price.cost_usd),
    "status": price.status,
}))
"""


def _setuptools_version() -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return ()


def _build_wheel(out: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)]
    if _setuptools_version() >= (77,):
        cmd.insert(4, "--no-build-isolation")  # build offline with the installed backend
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
    (wheel,) = out.glob("llmcost_top-*.whl")
    return wheel


def _install(wheel: Path, env_dir: Path) -> Path:
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # The outer pip installs into the new environment; --no-deps: the probe imports only ``pricing``.
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet"]
    subprocess.run([*install, str(wheel)], check=True, capture_output=True, text=True, timeout=120)
    if sys.version_info < (3, 11):  # pricing reads TOML with tomli there (pure Python: copied from this environment)
        import tomli

        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        shutil.copytree(Path(tomli.__file__).parent, Path(site) / "tomli")
    return python


@pytest.mark.slow
def test_wheel_prices_a_call_from_the_bundled_catalog(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "pricing/pricing_catalog.toml" in names
    assert not any(n.endswith((".so", ".pyd", ".c")) for n in names), names  # pure Python: one wheel for all
    python = _install(wheel, tmp_path / "env")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(elsewhere), "LLMCOST_HOME": str(elsewhere / "home")}
    probe = subprocess.run(
        [str(python), "-I", "-c", PROBE],
        check=False,
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout)
    env_dir = (tmp_path / "env").resolve()
    assert Path(result["module"]).resolve().is_relative_to(env_dir)
    assert Path(result["catalog"]).resolve().is_relative_to(env_dir)
    assert Path(result["catalog"]).name == "pricing_catalog.toml"
    # The installed catalog prices exactly as the repository's catalog does.
    repo = load_catalog(ROOT / "pricing_catalog.toml", overrides=False)
    expected = repo.price(Usage(input_tokens=12000, output_tokens=800, cache_read_tokens=8000), "gpt-4o")
    assert result["status"] == "priced"
    assert Decimal(result["cost"]) == expected.cost_usd
    assert result["version"] == repo.version
