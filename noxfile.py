"""Developer tasks: ``nox -s tests``, ``lint``, ``bench``, ``docs``, ``notebooks``.

Each session installs mlpipe with every extra into its own virtualenv, so a
session proves the install as well as the task.
"""

import nox

nox.options.sessions = ["lint", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11"]


def _install(session):
    session.install("-e", ".[all,dev]")


@nox.session(python=PYTHON)
def tests(session):
    """The test suite, doctests included (what CI runs)."""
    _install(session)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session):
    """ruff: lint and formatting."""
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")


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


@nox.session(python=PYTHON)
def docs(session):
    """Build the documentation site with warnings as errors."""
    _install(session)
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session(python=PYTHON)
def notebooks(session):
    """Execute every notebook in notebooks/."""
    _install(session)
    session.run("pytest", "--nbmake", "notebooks", "-o", "addopts=", *session.posargs)
