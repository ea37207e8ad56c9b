"""Run many ``d2lrnn`` command lines cheaply: ``python tests/cli_driver.py < cases.json``.

The driver imports :mod:`d2lrnn.cli` (never a framework) once, then forks a child per case; the
child sets the case's environment, runs ``main(argv)`` exactly as ``python -m d2lrnn`` would
(an unexpected exception prints its traceback, status 1) and reports its exit status, stderr and
the frameworks it imported. Frameworks named in ``$D2LRNN_TEST_HIDE`` look uninstalled.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
import traceback

from d2lrnn.backends import SPECS
from d2lrnn.cli import main

FRAMEWORKS = sorted({root for spec in SPECS for root in (spec.framework, *spec.module_roots)})
_find_spec = importlib.util.find_spec


def _hiding_find_spec(name: str, package: str | None = None):  # noqa: ANN202
    hidden = set(filter(None, os.environ.get("D2LRNN_TEST_HIDE", "").split(",")))
    return None if name.split(".")[0] in hidden else _find_spec(name, package)


def _child(argv: list[str], env: dict[str, str], err_fd: int) -> int:
    for key, value in env.items():
        if value:
            os.environ[key] = value
        else:
            os.environ.pop(key, None)
    importlib.util.find_spec = _hiding_find_spec
    os.dup2(err_fd, 2)
    sys.stderr = os.fdopen(2, "w", closefd=False)
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # what the interpreter would do with an uncaught exception
        traceback.print_exc()
        status = 1
    sys.stderr.flush()
    return int(status or 0)


def run_cases(cases: list[dict]) -> list[dict]:
    results = []
    for case in cases:
        with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as report:
            pid = os.fork()
            if pid == 0:  # child
                code = 1
                try:
                    os.chdir(case.get("cwd", "."))
                    code = _child(case["argv"], case.get("env", {}), err.fileno())
                finally:
                    report.write(json.dumps([m for m in FRAMEWORKS if m in sys.modules]))
                    report.flush()
                    os._exit(code)
            _, wait_status = os.waitpid(pid, 0)
            err.seek(0)
            report.seek(0)
            results.append({"status": os.waitstatus_to_exitcode(wait_status), "stderr": err.read(),
                            "frameworks": json.loads(report.read() or "[]")})
    return results


if __name__ == "__main__":
    json.dump(run_cases(json.load(sys.stdin)), sys.stdout)
