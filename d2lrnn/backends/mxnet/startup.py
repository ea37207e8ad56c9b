"""The interpreter-start hook behind ``d2lrnn_mxnet.pth``: a plain ``import mxnet`` works on current NumPy.

Python runs the ``.pth`` file at start-up; it executes this file on its own (standard library only,
nothing of d2lrnn or of any framework is imported then) and puts :class:`StartupFinder` on
``sys.meta_path``. The first ``import mxnet`` hands over to :mod:`d2lrnn.backends.mxnet.compat`, which
supplies NumPy's removed names while MXNet's import runs and restores NumPy when it returns.
"""

from __future__ import annotations

import sys
from typing import Any


class StartupFinder:
    """Waits for ``import mxnet``, then installs d2lrnn's compatibility hook and lets it find MXNet."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "mxnet":
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, StartupFinder)]
        from d2lrnn.backends.mxnet.compat import install_import_hook

        return install_import_hook().find_spec(name, path, target)


def install() -> None:
    """Put one :class:`StartupFinder` first on ``sys.meta_path``."""
    if "mxnet" not in sys.modules and not any(type(f).__name__ == "StartupFinder" for f in sys.meta_path):
        sys.meta_path.insert(0, StartupFinder())


if __name__ in ("__main__", "d2lrnn_mxnet_startup"):
    install()
