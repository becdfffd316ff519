"""Expensive results computed once per test run and shared by test modules,
also across pytest-xdist's worker processes.

The first worker to ask computes the value and writes it, pickled, to the
run's common temporary folder; the others wait for the file and read it (the
pattern of pytest-xdist's docs, "Making session-scoped fixtures execute only
once", with an exclusive create as the lock). Only for values that are the
same whichever process computes them and that no test mutates.
"""

import io
import os
import pickle
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).parents[1]

TIMEOUT = 900  # seconds a worker waits for another one's value


def _folder(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's basetemp is a subfolder of the run's folder
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _claim(path):
    """Whether this process is the first to ask (it creates ``path``)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def once(tmp_path_factory, name, make):
    """``make()``, computed by one process of this test run and read by the others."""
    folder = _folder(tmp_path_factory)
    done = folder / f"{name}.pickle"
    if _claim(folder / f"{name}.lock"):
        result = (False, "it raised")
        try:
            value = make()
            result = (True, value)
        except BaseException:
            result = (False, traceback.format_exc())
            raise
        finally:
            partial = folder / f"{name}.pickle.partial"
            partial.write_bytes(pickle.dumps(result))
            partial.replace(done)
        return value
    deadline = time.monotonic() + TIMEOUT
    while not done.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {name} from the worker computing it after {TIMEOUT} s")
        time.sleep(0.2)
    ok, value = pickle.loads(done.read_bytes())
    if not ok:
        raise RuntimeError(f"computing {name} failed in another worker:\n{value}")
    return value


def demo(tmp_path_factory):
    """One run of the demo with its HTML report: ``(terminal text, page)``."""

    def run():
        from mlpipe._demo import run_demo

        out = io.StringIO()
        path = tmp_path_factory.mktemp("demo") / "report.html"
        assert run_demo(out, seed=0, report=str(path)) == 0
        return out.getvalue(), path.read_text(encoding="utf-8")

    return once(tmp_path_factory, "demo", run)


def docs_site(tmp_path_factory):
    """One strict mkdocs build of the site: ``(returncode, stderr, site folder)``."""

    def build():
        folder = tmp_path_factory.mktemp("docs-build")
        site = folder / "site"
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"NO_MKDOCS_2_WARNING": "1", "PATH": "", "HOME": str(folder)},
        )
        return result.returncode, result.stderr, site

    return once(tmp_path_factory, "docs_site", build)
