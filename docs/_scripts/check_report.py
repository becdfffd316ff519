"""Render an mlpipe HTML report in headless Chromium, screenshot it and check its layout.

    python docs/_scripts/check_report.py REPORT.html [--screenshot PNG] [--top PNG]

The pages checked are the demo's (``mlpipe demo --report``) and the run
store's report over time (``RunStore.report().save``, written by
``monitor_report.py`` beside this script).

Checks, run with JavaScript in the rendered page (a browser is needed, so this
lives outside the pytest suite; ``nox -s report`` runs it):

- nothing overflows the page horizontally (``scrollWidth <= clientWidth``)
  and no box that hides its overflow cuts its content: a wide table scrolls
  inside its own container;
- every numeric table cell (``td.num``) is right-aligned and holds one line
  of text (no wrapped number), no cell holding a number lacks the class, and
  every text cell is left-aligned;
- every image and every inline SVG chart is inside a ``<figure>`` with a
  non-empty ``<figcaption>``;
- a drift heatmap (``table.mlpipe-heat``) has one cell per feature and
  window, a visible mark on every drifted cell, and no row taller than two
  lines of its text;
- no two section or report headings read the same;
- the summary of verdicts is at the top, and each of its links lands on an element.

Exit status 0 when every check passes, 1 with one line per problem otherwise.
Chromium is found at ``$CHROMIUM`` (default ``/usr/bin/chromium``) and driven by
Playwright's Python package with that executable (``playwright install`` is not
needed).
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Returns a list of problems, one string each (empty: the page passes).
CHECKS = r"""
() => {
  const problems = [];
  const doc = document.documentElement;
  const width = doc.clientWidth;
  if (doc.scrollWidth > width) {
    problems.push(`page is ${doc.scrollWidth}px wide in a ${width}px window`);
  }
  const describe = (el) => {
    const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
    return `<${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""}> "${text}"`;
  };
  // Inside a scrolling box an element may extend past the window: the box scrolls.
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === "auto" || ox === "scroll") return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    if (style.display === "none") continue;
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && !scrolls(el)) {
      problems.push(`overflows the page (right edge ${Math.round(box.right)}px): ${describe(el)}`);
    }
    if ((style.overflowX === "hidden" || style.overflowX === "clip") &&
        el.scrollWidth > el.clientWidth + 1) {
      problems.push(`content cut at the right edge: ${describe(el)}`);
    }
  }
  const lines = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set();
    for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    return tops.size;
  };
  const numeric = document.querySelectorAll("table td.num");
  for (const cell of numeric) {
    const style = getComputedStyle(cell);
    if (style.textAlign !== "right") {
      problems.push(`numeric cell not right-aligned: ${describe(cell)}`);
    }
    if (lines(cell) > 1) {
      problems.push(`numeric cell wraps onto ${lines(cell)} lines: ${describe(cell)}`);
    }
  }
  const number = /^[-+\u2212]?(\d[\d,]*(\.\d+)?|\.\d+)(e[-+]?\d+)?%?$/i;
  for (const cell of document.querySelectorAll("table td:not(.num)")) {
    if (number.test(cell.textContent.trim())) {
      problems.push(`number in a cell not marked numeric: ${describe(cell)}`);
    }
  }
  for (const cell of document.querySelectorAll("table.mlpipe-table td:not(.num)")) {
    const align = getComputedStyle(cell).textAlign;
    if (align !== "left" && align !== "start") {
      problems.push(`text cell aligned ${align}: ${describe(cell)}`);
    }
  }
  const images = document.querySelectorAll("img");
  for (const img of images) {
    const figure = img.closest("figure");
    const caption = figure && figure.querySelector("figcaption");
    if (!caption || !caption.textContent.trim()) {
      problems.push(`image without a caption: ${img.alt}`);
    }
  }
  const charts = document.querySelectorAll("svg");
  for (const svg of charts) {
    const figure = svg.closest("figure");
    const caption = figure && figure.querySelector("figcaption");
    if (!caption || !caption.textContent.trim()) {
      problems.push(`chart without a caption: ${svg.getAttribute("aria-label")}`);
    }
    const box = svg.getBoundingClientRect();
    if (box.width < 300 || box.height < 100) {
      problems.push(`chart drawn ${Math.round(box.width)}x${Math.round(box.height)}px`);
    }
  }
  let heatCells = 0;
  for (const table of document.querySelectorAll("table.mlpipe-heat")) {
    const columns = table.querySelectorAll("thead tr:first-child th").length - 1;
    for (const row of table.querySelectorAll("tbody tr")) {
      const cells = row.querySelectorAll("td").length;
      if (cells !== columns) {
        problems.push(`heatmap row of ${cells} cells under ${columns} windows: ${describe(row)}`);
      }
      const line = parseFloat(getComputedStyle(row).fontSize) * 1.6;
      if (row.getBoundingClientRect().height > 2 * line) {
        problems.push(`heatmap row wraps: ${describe(row)}`);
      }
    }
    for (const cell of table.querySelectorAll("td.drifted")) {
      heatCells += 1;
      const style = getComputedStyle(cell);
      if (!cell.textContent.includes("\u25b2") || style.fontWeight < 600) {
        problems.push(`drifted cell not marked: ${describe(cell)}`);
      }
    }
  }
  const seen = new Map();
  for (const h of document.querySelectorAll("h1, h2, h3")) {
    const text = h.textContent.trim();
    if (seen.has(text)) problems.push(`heading repeated: "${text}"`);
    seen.set(text, true);
  }
  const summary = document.querySelector(".summary");
  if (!summary) {
    problems.push("no summary block");
  } else {
    const first = document.querySelector("body > section");
    const after = first && summary.compareDocumentPosition(first);
    if (first && (after & Node.DOCUMENT_POSITION_FOLLOWING) === 0) {
      problems.push("the summary is not above the sections");
    }
    for (const a of summary.querySelectorAll("a[href^='#']")) {
      if (!document.getElementById(a.getAttribute("href").slice(1))) {
        problems.push(`summary link to a missing anchor: ${a.getAttribute("href")}`);
      }
    }
  }
  return {
    problems,
    counts: {numeric: numeric.length, images: images.length, charts: charts.length,
             drifted: heatCells, headings: seen.size, height: doc.scrollHeight},
  };
}
"""


def _shrink(path):
    """Re-save a screenshot with a 128-colour palette (a third of the bytes;
    the page is mostly flat colour), when Pillow is installed."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(
            colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    small.save(path, optimize=True)


def check(report, screenshot=None, top=None, width=1200, top_height=1500):
    """Render ``report``, write the screenshots, return (problems, counts)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        raise SystemExit(f"check_report: no Chromium at {executable} (set $CHROMIUM)")
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": 900},
        )
        page = context.new_page()
        page.goto(Path(report).resolve().as_uri())
        page.wait_for_load_state("load")
        result = page.evaluate(CHECKS)
        if screenshot:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=screenshot, full_page=True)
        if top:
            Path(top).parent.mkdir(parents=True, exist_ok=True)
            # full_page lets the clip reach below the 900 px window.
            page.screenshot(
                path=top,
                full_page=True,
                clip={"x": 0, "y": 0, "width": width, "height": top_height},
            )
        context.close()
    for path in (screenshot, top):
        if path:
            _shrink(path)
    return result["problems"], result["counts"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "report", help="the HTML file written by `mlpipe demo --report` or RunStore.report().save"
    )
    parser.add_argument("--screenshot", help="write a full-page PNG here")
    parser.add_argument("--top", help="write a PNG of the top of the page here")
    parser.add_argument("--width", type=int, default=1200, help="window width in px")
    args = parser.parse_args(argv)
    problems, counts = check(args.report, args.screenshot, args.top, args.width)
    print(
        f"check_report: {counts['numeric']} numeric cells, {counts['images']} images, "
        f"{counts['charts']} charts, {counts['drifted']} drifted heatmap cells, "
        f"{counts['headings']} headings, page {counts['height']} px high at {args.width} px"
    )
    for problem in problems:
        print(f"check_report: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
