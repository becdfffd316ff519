"""Developer tasks: ``nox -s tests``, ``minimum``, ``lint``, ``bench``, ``docs``, ``notebooks``,
``report``.

Each session installs mlpipe with every extra into its own virtualenv, so a
session proves the install as well as the task.

``python noxfile.py`` prints the pins of the ``minimum`` session, one a line.
"""

import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

nox.options.sessions = ["lint", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11"]
ROOT = Path(__file__).parent

# The extras whose floors are part of what mlpipe promises; ``dev`` is the
# developers' tools, installed at their current versions.
FLOOR_EXTRAS = ("explain", "automl", "all")


def minimum_pins(pyproject=ROOT / "pyproject.toml"):
    """``name==floor`` for every core dependency and every dependency of the
    extras in ``FLOOR_EXTRAS``, read from the ``>=`` specifiers of pyproject.toml,
    so the ``minimum`` session and the declared floors cannot disagree.
    """
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in FLOOR_EXTRAS:
        requirements += project["optional-dependencies"][extra]
    pins = {}
    for text in requirements:
        req = Requirement(text)
        if canonicalize_name(req.name) == canonicalize_name(project["name"]):
            continue  # mlpipe[explain,automl]: its own extras, read above
        floors = [spec.version for spec in req.specifier if spec.operator == ">="]
        if len(floors) != 1:
            raise ValueError(f"{text!r} in pyproject.toml needs exactly one '>=' floor")
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        marker = f"; {req.marker}" if req.marker else ""
        pins[canonicalize_name(req.name)] = f"{req.name}{extras}=={floors[0]}{marker}"
    return sorted(pins.values(), key=str.lower)


def _install(session):
    session.install("-e", ".[all,dev]")


@nox.session(python=PYTHON)
def tests(session):
    """The test suite, doctests included (what CI runs)."""
    _install(session)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def minimum(session):
    """The test suite with every dependency at its declared floor.

    Every core and extra dependency is pinned to its ``>=`` version of
    pyproject.toml (see docs/install.md)."""
    pins = minimum_pins()
    session.install("-e", ".[all,dev]", *pins)
    # Fails the session if pip installed anything else than the pins, and
    # prints what the suite really runs against (for docs/install.md).
    session.run("python", "-c", _CHECK_PINS, *pins, *SHOWN)
    session.run("pytest", *session.posargs)


# Not pinned (they come with the pinned packages or are test tools), shown too.
SHOWN = (
    "llvmlite",
    "joblib",
    "xgboost",
    "lightgbm",
    "dask",
    "configspace",
    "fairlearn",
    "pandera",
    "hypothesis",
    "pytest",
)

_CHECK_PINS = """
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
wrong = []
for arg in sys.argv[1:]:
    req = Requirement(arg)
    got = version(req.name)
    print(f"{req.name}=={got}" + ("" if req.specifier else "  (not pinned)"))
    if got not in req.specifier:
        wrong.append(f"{arg} but {got} is installed")
sys.exit("pins not honoured: " + "; ".join(wrong) if wrong else 0)
"""


@nox.session(python=PYTHON)
def lint(session):
    """ruff: lint and format check, with the ruff pinned in the dev extra (as .ci/run)."""
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    session.install(*[req for req in dev["dev"] if req.startswith("ruff")])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def bench(session):
    """The benchmark suites: mlpipe and its peers side by side, with ratios."""
    _install(session)
    session.run(
        "pytest",
        "benchmarks",
        "-o",
        "python_files=bench_*.py",
        "-o",
        "addopts=",
        "--benchmark-columns=min,median,max,rounds",
        *session.posargs,
    )


# Notebooks stored with their outputs (rendered into the site by docs/hooks.py).
STORED_NOTEBOOKS = ("quickstart.ipynb",)

_EXECUTE_NOTEBOOKS = """
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

stored = set(sys.argv[1].split(","))
for path in sorted(Path("notebooks").glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    # Raises CellExecutionError, failing the session, at the first cell that errors.
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": "notebooks"}}
    ).execute()
    if path.name in stored:
        nbformat.write(nb, path)
    print(f"{path}: every cell ran" + (", outputs stored" if path.name in stored else ""))
"""


@nox.session(python=PYTHON)
def docs(session):
    """Execute every notebook (failing at the first cell that errors), store the
    outputs of the quickstart, which the site renders, build the site with
    warnings as errors, then check the demo's HTML report in headless Chromium
    (as ``nox -s report``; needs /usr/bin/chromium or ``$CHROMIUM``).

    ``nox -s docs -- screenshots`` also shoots a few built pages with headless
    Chromium into docs/screenshots/ (needs /usr/bin/chromium; not part of the
    test suite, which never needs a browser).
    """
    _install(session)
    session.run("python", "-c", _EXECUTE_NOTEBOOKS, ",".join(STORED_NOTEBOOKS))
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
    _check_report(session)
    if "screenshots" in session.posargs:
        session.run("python", "docs/_scripts/screenshots.py", "site", "docs/screenshots")


@nox.session(python=PYTHON)
def notebooks(session):
    """Execute every notebook in notebooks/ and run the checks of what each shows
    (tests/test_notebooks.py)."""
    _install(session)
    session.run("pytest", "tests/test_notebooks.py", "-o", "addopts=", *session.posargs)


def _check_report(session):
    """``mlpipe demo --report``, then docs/_scripts/check_report.py in headless
    Chromium: nothing wider than the page, no wrapped number, a caption under
    every image, a summary on top; screenshots go to docs/screenshots/."""
    session.install("playwright")
    page = Path(session.create_tmp()) / "report.html"
    session.run("mlpipe", "demo", "--report", str(page))
    session.run(
        "python",
        "docs/_scripts/check_report.py",
        str(page),
        "--screenshot",
        "docs/screenshots/report.png",
        "--top",
        "docs/screenshots/report-top.png",
    )


@nox.session(python=PYTHON)
def report(session):
    """The demo's HTML report and the run store's report over time, rendered in
    headless Chromium: screenshots and layout checks.

    The monitoring report is of a store docs/_scripts/monitor_report.py
    records (24 windows of the credit data, 20 features, an alarm and a
    retraining run); its screenshot is docs/screenshots/monitor_report.png.
    Needs a Chromium (``$CHROMIUM``, default /usr/bin/chromium: Debian's
    ``chromium`` package), driven by Playwright without a browser download;
    the pytest suite never needs one. ``nox -s docs`` runs the demo's check.
    """
    _install(session)
    _check_report(session)
    folder = Path(session.create_tmp())
    store, page = folder / "monitor.db", folder / "monitor.html"
    for old in (store, *folder.glob("monitor.db-*")):
        old.unlink(missing_ok=True)  # a store of a previous run would grow
    session.run("python", "docs/_scripts/monitor_report.py", str(store), str(page))
    session.run(
        "python",
        "docs/_scripts/check_report.py",
        str(page),
        "--screenshot",
        "docs/screenshots/monitor_report.png",
    )


if __name__ == "__main__":
    print("\n".join(minimum_pins()))
