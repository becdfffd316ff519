"""Every code example of the documentation runs, and prints what the page says.

The pages are every Markdown file under docs/ and README.md. On each page:

- the ``python`` blocks run in order in one namespace (a page reads like a
  notebook: a later block may use what an earlier one defined), in a fresh
  working directory;
- a ``text`` block right after a ``python`` block is that block's printed
  output, compared with what it really prints: exactly, line by line
  (trailing spaces aside), where ``...`` stands for any text, as in doctest's
  ELLIPSIS;
- a ``console`` block is a shell session: each ``$ command`` runs (``mlpipe``
  is this checkout's ``python -m mlpipe``, each run a process forked from one
  that has imported mlpipe once, ``tests/_cli.py``) in the same directory,
  and the lines after it are its output (stdout and stderr), compared the
  same way;
- a block that cannot run offline and fast is marked, right before it, with
  ``<!-- skip: the reason -->``. Those are counted and listed by
  ``test_skipped_blocks_are_few_and_explained``.

``bash`` blocks (install commands, scripts) are shown, not run.
"""

import contextlib
import doctest
import io
import logging
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import _cli

ROOT = Path(__file__).parents[1]
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
# Pages that fit models or explain them: a few seconds each, still run in CI.
SLOW = {
    "cli.md",
    "guide/automl.md",
    "guide/explain.md",
    "guide/fairness.md",
    "guide/drift.md",
    "guide/mlflow.md",  # creates an MLflow tracking database (its migrations, ~3 s)
}
MAX_SKIPPED = 8

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_SKIP = re.compile(r"<!--\s*skip:\s*(.*?)\s*-->\s*$", re.S)


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    code: str
    skip: str | None = None  # the reason, when marked
    output: str | None = None  # the text block that follows a python block


def page_id(page):
    docs = ROOT / "docs"
    return page.relative_to(docs).as_posix() if page.is_relative_to(docs) else page.name


def blocks_of(page):
    text = page.read_text(encoding="utf-8")
    blocks, previous_end = [], 0
    for match in _FENCE.finditer(text):
        lang, code = match.group(1), match.group(2)
        between = text[previous_end : match.start()]
        line = text.count("\n", 0, match.start()) + 1
        previous_end = match.end()
        after_code = blocks and blocks[-1].lang == "python" and blocks[-1].output is None
        if lang == "text" and after_code and "<!-- not output -->" not in between:
            # The output of the python block before it (prose may come between).
            blocks[-1].output = code
            continue
        skip = _SKIP.search(between.rstrip() + "\n")
        blocks.append(Block(page, line, lang, code, skip.group(1) if skip else None))
    return blocks


def _check_output(want, got, where):
    want_lines = "\n".join(line.rstrip() for line in want.strip("\n").splitlines()) + "\n"
    got_lines = "\n".join(line.rstrip() for line in got.strip("\n").splitlines()) + "\n"
    checker = doctest.OutputChecker()
    if not checker.check_output(want_lines, got_lines, doctest.ELLIPSIS):
        diff = checker.output_difference(
            doctest.Example("", want_lines), got_lines, doctest.ELLIPSIS
        )
        pytest.fail(f"{where}: the page shows another output than the code prints\n{diff}")


def _run_python(block, namespace):
    where = f"{page_id(block.page)}:{block.line}"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(block.code, where, "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{where}: the example raises {exc!r}") from exc
    if block.output is not None:
        _check_output(block.output, out.getvalue(), where)


def _run_console(block, cwd):
    where = f"{page_id(block.page)}:{block.line}"
    commands, outputs = [], []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            commands.append(line[2:])
            outputs.append([])
        elif commands:
            outputs[-1].append(line)
        else:
            pytest.fail(f"{where}: a console block starts with its command, '$ ...'")
    marker = "----8<---- mlpipe docs test ----8<----"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    script = [_cli.shell_function(env, preload=_cli.MONITOR), "status=0"]
    for command in commands:
        # ``(exit $status)`` gives the command the ``$?`` of the one before.
        script += [f"echo '{marker}'", "(exit $status)", f"{{ {command}; }} 2>&1", "status=$?"]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    got = result.stdout.split(marker + "\n")[1:]
    assert len(got) == len(commands), result.stderr
    for command, want, printed in zip(commands, outputs, got, strict=True):
        _check_output("\n".join(want), printed, f"{where}: $ {command}")


@contextlib.contextmanager
def _restored_loggers():
    """A page may add a logging handler (to print an audit log): removed after it."""

    def handlers():
        loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        return {id(lg): (lg, list(lg.handlers)) for lg in loggers if isinstance(lg, logging.Logger)}

    before = handlers()
    try:
        yield
    finally:
        for key, (logger, now) in handlers().items():
            kept = before.get(key, (logger, []))[1]
            for handler in now:
                if handler not in kept:
                    logger.removeHandler(handler)


def _params():
    return [
        pytest.param(page, id=page_id(page), marks=[pytest.mark.slow] * (page_id(page) in SLOW))
        for page in PAGES
    ]


@pytest.mark.parametrize("page", _params())
def test_page_examples_run_and_print_what_the_page_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    ran = 0
    with _restored_loggers(), warnings.catch_warnings():
        for block in blocks_of(page):
            if block.skip is not None or block.lang not in ("python", "console"):
                continue
            if block.lang == "python":
                _run_python(block, namespace)
            else:
                _run_console(block, tmp_path)
            ran += 1
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    runnable = [b for b in blocks_of(page) if b.lang in ("python", "console") and not b.skip]
    assert ran == len(runnable)


def test_skipped_blocks_are_few_and_explained():
    skipped = [b for page in PAGES for b in blocks_of(page) if b.skip is not None]
    listing = "\n".join(f"{page_id(b.page)}:{b.line}: {b.skip}" for b in skipped)
    print(f"{len(skipped)} documentation block(s) not run:\n{listing}")
    assert len(skipped) <= MAX_SKIPPED, listing
    for block in skipped:
        assert len(block.skip.split()) >= 3, f"give a reason: {block.page}:{block.line}"
        assert block.lang in ("python", "console"), "only runnable blocks need a skip mark"


def test_every_page_is_covered_and_outputs_follow_code():
    # Each python example of a page is found, and a text block is either
    # the output of the python block before it or marked as plain text.
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        fences = [m.group(1) for m in _FENCE.finditer(text)]
        found = blocks_of(page)
        assert fences.count("python") == sum(b.lang == "python" for b in found), page
        outputs = sum(b.output is not None for b in found)
        stray = [b for b in found if b.lang == "text"]
        assert fences.count("text") == outputs + len(stray), page
        for block in stray:
            assert block.skip is None, f"{page_id(page)}:{block.line}"
        for block in found:
            # An output that is all "..." would match anything.
            if block.output is not None:
                assert block.output.replace("...", "").strip(), f"{page_id(page)}:{block.line}"
    assert any(b.output for page in PAGES for b in blocks_of(page))


def test_the_harness_compares_outputs(tmp_path):
    # The checker itself: a wrong number fails, "..." matches anything.
    _check_output("a 1\n...\nz", "a 1\nb\nc\nz\n", "ok")
    with pytest.raises(pytest.fail.Exception):
        _check_output("a 1", "a 2", "wrong")
    page = tmp_path / "page.md"
    page.write_text("```python\nprint(2)\n```\n\n```text\n3\n```\n")
    (block,) = blocks_of(page)
    with pytest.raises(pytest.fail.Exception):
        _run_python(block, {})
