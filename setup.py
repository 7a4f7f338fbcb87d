"""The build: package metadata lives in pyproject.toml; this file adds what it cannot say: the bundled price catalog,
kept at the top of the repository, ships inside the ``pricing`` package."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib, "pricing")
        self.mkpath(str(target))  # an editable build copies no package (the source tree is used in place)
        self.copy_file("pricing_catalog.toml", str(target / "pricing_catalog.toml"))


setup(cmdclass={"build_py": BuildPy})
