"""The build: package metadata lives in pyproject.toml; this file adds what it cannot say.

- two optional compiled modules: ``llmcost._ccall``, the recorder's hot path (a call's with-block and its line), and
  ``llmcost.engine._cscan``, the line scanner of ``llmcost report``. Without a C compiler the install still succeeds
  and both take their pure-Python paths (same records and totals, slower).
- the bundled price catalog, kept at the top of the repository, ships inside the ``pricing`` package.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib, "pricing")
        self.mkpath(str(target))  # an editable build copies no package (the source tree is used in place)
        self.copy_file("pricing_catalog.toml", str(target / "pricing_catalog.toml"))


_ARGS = [] if sys.platform == "win32" else ["-O2"]

setup(
    ext_modules=[
        Extension("llmcost.engine._cscan", ["llmcost/engine/_cscan.c"], optional=True, extra_compile_args=_ARGS),
    ],
    cmdclass={"build_py": BuildPy},
)
