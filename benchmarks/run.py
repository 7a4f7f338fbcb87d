"""Run every ``benchmarks/bench_*.py``, one after the other, each in its own interpreter.

Run: ``python benchmarks/run.py [--quick] [NAME ...]`` (NAME selects benchmarks whose file name contains it).
Extra options after ``--`` go to every benchmark. Exit status: non-zero when any benchmark failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    return [p for p in found if not names or any(n in p.stem for n in names)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="only benchmarks whose file name contains NAME")
    parser.add_argument("--quick", action="store_true", help="pass --quick to benchmarks that accept it")
    args, extra = parser.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    scripts = discover(args.names)
    if not scripts:
        print("run.py: error: no benchmark matches", file=sys.stderr)
        return 2
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        options = list(extra)
        if args.quick and "--quick" in script.read_text(encoding="utf-8"):
            options.append("--quick")
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(script), *options], check=False).returncode
        print(f"=== {script.name}: exit {code}, {time.perf_counter() - start:.1f} s ===", flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"run.py: error: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
