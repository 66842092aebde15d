"""Build hook for the optional native book side (``datastores/_native/``).

Everything else about the package is in ``pyproject.toml``. The extension is
optional: without a working C compiler (or with ``DATASTORES_PURE=1`` set at
build time) the build leaves it out and ``datastores._bookside`` uses its
pure-Python ``Side`` and ``apply_levels`` instead.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` that warns instead of failing when the compiler does."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all (distutils raises its own types)
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # the compiler or the linker failed
            self._skip(exc)

    def _skip(self, exc: Exception) -> None:
        sys.stderr.write(
            f"warning: datastores: the optional C extension was not built ({exc}); "
            "the pure-Python book side is used instead\n"
        )


pure = os.environ.get("DATASTORES_PURE", "") not in ("", "0")
extensions = (
    []
    if pure
    else [
        Extension(
            "datastores._cbookside",
            [
                f"datastores/_native/{name}.c"
                for name in ("entries", "side", "apply", "level", "decode")
            ],
            depends=[f"datastores/_native/{name}.h" for name in ("bookside", "level", "number")],
            optional=True,
            extra_compile_args=[] if os.name == "nt" else ["-O2"],
        )
    ]
)
setup(ext_modules=extensions, cmdclass={"build_ext": OptionalBuildExt})
