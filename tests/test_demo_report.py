"""The demo's HTML report is a designed page and its terminal story fits in
100 columns (issue 15, item 3).

The page is parsed with html.parser (no browser: the rendering checks run in
``nox -s report``, docs/_scripts/check_report.py).
"""

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from mlpipe._report import format_p_value, html_table
from mlpipe.datasets import load_credit, make_credit_batch
from tests import _shared

# ------------------------------------------------------------------ a tiny DOM


class _Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, tag=None):
        for c in self.children:
            if isinstance(c, _Node):
                if tag is None or c.tag == tag:
                    yield c
                yield from c.iter(tag)

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


_VOID = {"meta", "img", "br", "hr", "link", "input"}


class _Tree(HTMLParser):
    def __init__(self, page):
        super().__init__()
        self.root = self.node = _Node("#root", [], None)
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, attrs, self.node)
        self.node.children.append(node)
        if tag not in _VOID:
            self.node = node

    def handle_endtag(self, tag):
        node = self.node
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"</{tag}> closes nothing"
        self.node = node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def _parse(page):
    return _Tree(page).root


# ------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # the run of tests/test_cli.py's tests too: run_demo(out, seed=0, report=...)
    text, page = _shared.demo(tmp_path_factory)
    return text, page, _parse(page)


def test_demo_terminal_lines_fit_in_100_columns(demo):
    text = demo[0]
    too_long = [line for line in text.splitlines() if len(line) > 100]
    assert not too_long, f"{len(too_long)} line(s) over 100 columns: {too_long[:3]}"


def test_demo_names_the_positive_class_one_way(demo):
    text, page, _ = demo
    _, y = load_credit(return_X_y=True)
    # Statlog German credit: 700 good risks, 300 bad; the shipped label 1 is good.
    assert int((y == 1).sum()) == 700 and int((y == 0).sum()) == 300
    for view in (text, page):
        assert "probability of 1" not in view
        assert "positive class: bad risk" not in view
        assert "probability of good risk" in view
        positives = re.findall(r"positive class: ([^;)\n<]+\))", view)
        assert positives and set(positives) == {"good risk (risk = 1)"}, positives
    # The evaluation is of that class: its recall is the share of good risks found.
    line = next(line for line in text.splitlines() if "ROC AUC" in line)
    assert "recall" in line


def test_demo_drift_table_shows_why_a_small_p_value_is_not_drift(demo):
    text = demo[0]
    section = text.split("4. A production batch")[1].split("5. Why")[0]
    lines = section.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["feature", "test"])
    assert lines[head].split() == [
        "feature",
        "test",
        "statistic",
        "p_value",
        "threshold",
        "effect_size",
        "effect_threshold",
        "drift",
    ]
    assert "effect_size >= effect_threshold" in " ".join(section.split())  # wrapped prose
    rows = [line.split() for line in lines[head + 1 :] if line.strip()]
    assert len(rows) == 11  # every test, not only the drifted ones
    for feature, test, _, p, threshold, effect, effect_threshold, drift in rows:
        flagged = float(p) <= float(threshold) and float(effect) >= float(effect_threshold)
        assert drift == ("yes" if flagged else "no"), (feature, test)
    truth = make_credit_batch(500, unknown_as_missing=True, random_state=1).drifted
    assert {r[0] for r in rows if r[-1] == "yes"} == set(truth)


def test_demo_page_has_no_terminal_dump(demo):
    _, page, root = demo
    assert not list(root.iter("pre"))
    # The terminal's plain-text tables stay in the terminal.
    assert "base_rate  selection_rate" not in page
    assert "global importance (mean |SHAP|" not in page


def test_demo_page_headings_are_distinct(demo):
    root = demo[2]
    headings = [h.text().strip() for tag in ("h1", "h2", "h3") for h in root.iter(tag)]
    assert len(headings) == len(set(headings)), headings
    assert "Fairness audit by sex" in headings and "Fairness audit by age band" in headings
    sections = [h.text().strip() for h in root.iter("h2") if h.parent.tag == "section"]
    assert [s.split(".")[0] for s in sections] == ["1", "2", "3", "4", "5"]


def test_demo_page_every_image_has_a_caption(demo):
    root = demo[2]
    images = list(root.iter("img"))
    assert len(images) >= 6
    captions = []
    for img in images:
        figure = img.parent
        assert figure.tag == "figure", "an image outside a <figure>"
        after = figure.children[figure.children.index(img) + 1 :]
        caption = [c for c in after if isinstance(c, _Node) and c.tag == "figcaption"]
        assert caption and caption[0].text().strip(), img.attrs.get("alt")
        captions.append(caption[0].text())
    joined = " ".join(captions)
    for what in ("sex", "age band", "drifted features", "holdout applicants"):
        assert what in joined, what
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    from sklearn.model_selection import train_test_split

    test_index = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)[1].index
    for row in (0, 1):  # the waterfalls name their applicant
        assert f"applicant {test_index[row]} (holdout row {row})" in joined
    for feature in make_credit_batch(500, unknown_as_missing=True, random_state=1).drifted:
        assert feature in joined


_NUMBER = re.compile(r"^[-+]?(\d+(\.\d+)?|\.\d+)(e[-+]\d+)?%?$")


def test_demo_page_numbers_are_right_aligned_in_one_format_per_column(demo):
    root = demo[2]
    tables = list(root.iter("table"))
    assert len(tables) >= 8
    n_numeric = 0
    for table in tables:
        heads = [th for th in table.iter("th")]
        columns = {i: [] for i in range(len(heads))}
        for tr in table.iter("tr"):
            for i, td in enumerate(tr.iter("td")):
                columns[i].append(td)
        for i, cells in columns.items():
            name = heads[i].attrs.get("title", "")
            texts = [td.text() for td in cells if td.text()]
            numeric = [td for td in cells if "num" in td.classes]
            for td in cells:
                # a number is marked numeric; a numeric cell holds a number
                assert bool(_NUMBER.match(td.text())) == ("num" in td.classes) or (
                    not td.text() and "num" in td.classes
                ), (name, td.text())
            if numeric:
                n_numeric += len(numeric)
                assert "num" in heads[i].classes, name
                if name in ("p_value", "threshold"):
                    assert all(t == format_p_value(float(t)) for t in texts), (name, texts)
                else:  # fixed precision: the same decimals down the column
                    decimals = {len(t.split(".")[1].rstrip("%")) if "." in t else 0 for t in texts}
                    assert len(decimals) == 1, (name, texts)
    assert n_numeric > 150


def test_demo_page_css_keeps_numbers_on_one_line_and_tables_in_their_box(demo):
    page = demo[1]
    style = page.split("<style>")[1].split("</style>")[0]
    assert re.search(r"td\.num\{[^}]*white-space:nowrap", style)
    assert re.search(r"td\.num\{[^}]*tabular-nums", style)
    assert re.search(r"\.mlpipe-scroll\{overflow-x:auto", style)
    assert re.search(r"th,\.mlpipe-table td\{[^}]*text-align:left", style)
    root = demo[2]
    for table in root.iter("table"):
        assert "mlpipe-scroll" in table.parent.classes or table.parent.tag == "nav"


def test_demo_page_opens_with_a_summary_of_verdicts(demo):
    root = demo[2]
    body = next(root.iter("body"))
    blocks = [c for c in body.children if isinstance(c, _Node)]
    summary = next(b for b in blocks if b.tag == "nav")
    first_section = next(b for b in blocks if b.tag == "section")
    assert blocks.index(summary) < blocks.index(first_section)
    assert "summary" in summary.classes
    rows = {next(tr.iter("th")).text(): next(tr.iter("td")) for tr in summary.iter("tr")}
    assert list(rows) == ["Model", "Fairness", "Validation", "Drift"]
    ids = {n.attrs["id"] for n in root.iter() if "id" in n.attrs}
    for label, td in rows.items():
        link = next(td.iter("a"))
        assert link.attrs["href"].lstrip("#") in ids, label
    assert "ROC AUC" in rows["Model"].text()
    assert "four-fifths rule" in rows["Fairness"].text()
    assert "16 of 500 rows" in rows["Validation"].text()
    assert rows["Drift"].text().startswith("DRIFT in 4 of 9 features")


# ------------------------------------------------------------------ the pieces


def test_format_p_value_is_fixed_width_and_never_wraps():
    assert format_p_value(0.41234) == "0.412"
    assert format_p_value(0.001) == "0.001"
    assert format_p_value(3.2456e-7) == "3.25e-07"
    assert format_p_value(0.0) == "0.000"
    assert format_p_value(np.nan) == "" and format_p_value(None) == ""


def test_html_table_aligns_by_kind_and_formats_per_column():
    frame = pd.DataFrame(
        {
            "feature": ["age", "city"],
            "n": np.array([3, 12]),
            "effect": [0.5, 0.12345],
            "p_value": [0.5, 1e-9],
            "drift": [True, False],
            "rows": [[1, 2], [np.nan]],
            "share": [0.25, np.nan],
        }
    )
    root = _parse(html_table(frame, formats={"share": "{:.1%}"}, caption="A <b> table"))
    (table,) = root.iter("table")
    assert "mlpipe-scroll" in table.parent.classes
    heads = {th.attrs["title"]: th for th in table.iter("th")}
    numeric = {name for name, th in heads.items() if "num" in th.classes}
    assert numeric == {"n", "effect", "p_value", "share"}
    cells = [[td.text() for td in tr.iter("td")] for tr in table.iter("tr")][1:]
    assert cells == [
        ["age", "3", "0.500", "0.500", "yes", "1, 2", "25.0%"],
        ["city", "12", "0.123", "1.00e-09", "no", "missing", ""],
    ]
    assert next(root.iter("p")).text() == "A <b> table"  # escaped, above the box


def test_report_blocks_name_what_they_show():
    from mlpipe.fairness import audit_fairness

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    band = pd.Series(rng.choice(["<25", "25+"], 200), name="age_band")
    html = audit_fairness(
        y_true, y_pred, sensitive_features=band, n_boot=50, random_state=0
    )._repr_html_()
    root = _parse(html)
    assert [h.text() for h in root.iter("h3")] == ["Fairness audit by age band"]
    assert not list(root.iter("pre"))
