"""RunStore.report: the report over time, checked against the store's own queries."""

import datetime
import subprocess
import sys
import warnings
from html.parser import HTMLParser

import numpy as np
import pytest

from mlpipe.datasets import load_credit, make_credit_batch
from mlpipe.drift import DriftDetector
from mlpipe.monitor import MonitoringReport, RunStore
from mlpipe.monitor._timeline import WINDOW_COLUMNS
from mlpipe.utils._sklearn_compat import InvalidParameterError
from mlpipe.validation import SchemaValidator

UTC = datetime.UTC
START = datetime.datetime(2026, 6, 1, tzinfo=UTC)
N_CLEAN, N_DRIFTED = 10, 6
# A feature name a page must escape.
ODD = "<b>&x"
SECTIONS = [
    "Drift per feature across windows",
    "Validation failures and null rates over time",
    "Predictions and group selection rates over time",
    "Realized performance over time",
    "Alarms and retraining runs",
    "Window by window",
]


def _day(i, minutes=0):
    return START + datetime.timedelta(days=i, minutes=minutes)


def _with_odd(X):
    return X.assign(**{ODD: X["age"].astype(float)})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A store of 16 daily windows of model "credit" (10 clean, then 6 drifted,
    every other one with defects), each validated, drift-tested, predicted
    and scored; an alarm and a retraining run after window 11; and 3 drift
    windows of a second model, "other"."""
    X, _ = load_credit(return_X_y=True)
    X = _with_odd(X)
    detector = DriftDetector().fit(X)
    validator = SchemaValidator(on_error="warn").fit(X)
    path = tmp_path_factory.mktemp("timeline") / "m.db"
    store = RunStore(path)
    model = store.add_model({"format": "mlpipe-model", "saved_at": "2026-01-01"}, name="credit")
    other = store.add_model({"format": "mlpipe-model", "saved_at": "2026-02-01"}, name="other")
    runs = {}
    for i in range(N_CLEAN + N_DRIFTED):
        drifted = i >= N_CLEAN
        batch = make_credit_batch(
            200, drift=drifted, defects=drifted and i % 2 == 0, random_state=i
        )
        Xb = _with_odd(batch.X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validator.transform(Xb)
        common = {"model": model, "window": i}
        store.record_validation(validator.last_report_, X=Xb, started_at=_day(i), **common)
        runs[i] = store.record_drift(detector.detect(Xb), started_at=_day(i, 1), **common)
        y_pred = (Xb["credit_amount"].fillna(0) < 4000).astype(int).to_numpy()
        store.record_predictions(y_pred, X=Xb, sensitive="sex", started_at=_day(i, 2), **common)
        accuracy = float(np.mean(y_pred == batch.y.to_numpy()))
        store.record_performance(
            {"accuracy": accuracy, "n_labeled": len(Xb)},
            drop=accuracy < 0.62,
            started_at=_day(i, 3),
            **common,
        )
    store.record_event(
        "alarm",
        status="alarm",
        summary="drift in 2 of 2 windows <now>",
        model=model,
        parent=runs[N_CLEAN + 1],
        started_at=_day(N_CLEAN + 1, 60),
    )
    store.record_event(
        "retraining",
        summary="retrain.sh exited 0",
        model=model,
        started_at=_day(N_CLEAN + 1, 120),
    )
    for i in range(3):
        batch = _with_odd(
            make_credit_batch(200, drift=i == 2, defects=False, random_state=50 + i).X
        )
        store.record_drift(detector.detect(batch), model=other, window=i, started_at=_day(i, 30))
    yield store
    store.close()


@pytest.fixture(scope="module")
def report(recorded):
    return recorded.report(model="credit")


@pytest.fixture(scope="module")
def page(report, tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "monitor.html"
    assert report.save(path) == path
    return path.read_text(encoding="utf-8")


class _Page(HTMLParser):
    """The parts of a page the tests read: headings, heatmap cells, figures."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.headings, self.cells, self.figures, self.tags = [], [], [], [], []
        self._text = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag in ("h2", "td", "figcaption", "th"):
            self._text = []
        if tag == "td" and "data-feature" in attrs:
            self.cells.append({"attrs": attrs, "text": None})
        if tag == "figure":
            self.figures.append({"caption": None, "svg": 0, "heatmap": False})
        if tag == "svg" and self.figures:
            self.figures[-1]["svg"] += 1
        if tag == "table" and "mlpipe-heat" in attrs.get("class", ""):
            self.figures[-1]["heatmap"] = True
        if tag not in ("meta", "line", "circle", "rect", "polyline"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        text = "".join(self._text).strip() if self._text is not None else None
        if tag == "h2":
            self.headings.append(text)
        elif tag == "td" and self.cells and self.cells[-1]["text"] is None:
            self.cells[-1]["text"] = text
        elif tag == "figcaption":
            self.figures[-1]["caption"] = text
        if tag in ("h2", "td", "figcaption", "th"):
            self._text = None
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def _parse(text):
    parser = _Page()
    parser.feed(text)
    parser.close()
    return parser


def test_frame_counts_agree_with_the_stores_own_queries(recorded, report):
    frame = report.to_frame()
    assert list(frame.columns) == list(WINDOW_COLUMNS)
    assert {n: str(d) for n, d in frame.dtypes.items()} == WINDOW_COLUMNS
    windows = frame[frame["window"].notna()].set_index("window")
    assert windows.index.tolist() == list(range(N_CLEAN + N_DRIFTED))
    assert (windows["model_name"] == "credit").all()
    history = recorded.history(model="credit")
    drift_runs = recorded.runs(model="credit", kind="drift").set_index("window")
    assert windows["drift"].tolist() == (drift_runs["status"] == "drift").tolist()
    drifted = history[history["drift"]].groupby("window")["feature"].nunique()
    expected = drifted.reindex(windows.index, fill_value=0)
    assert windows["n_drifted"].tolist() == expected.tolist()
    assert windows["n_features"].tolist() == history.groupby("window")["feature"].nunique().tolist()
    failures = recorded.failures(model="credit")
    errors = failures[failures["severity"] == "error"].groupby("window").size()
    assert (
        windows["n_validation_errors"].tolist()
        == errors.reindex(windows.index, fill_value=0).tolist()
    )
    failed = recorded.runs(model="credit", kind="validation").set_index("window")["status"]
    assert windows["validation_failed"].tolist() == (failed == "failed").tolist()
    nulls = recorded.null_rates(model="credit").groupby("window")["null_rate"].max()
    np.testing.assert_array_equal(windows["max_null_rate"], nulls)
    predictions = recorded.predictions(model="credit")
    positive = predictions.query("statistic == 'rate' and label == '1'").set_index("window")
    np.testing.assert_array_equal(windows["prediction_value"], positive["value"])
    assert (windows["prediction_stat"] == "rate of 1").all()
    accuracy = recorded.performance(model="credit", metric="accuracy").set_index("window")
    np.testing.assert_array_equal(windows["performance"], accuracy["value"])
    drops = recorded.runs(model="credit", kind="performance").set_index("window")["status"]
    assert windows["performance_drop"].tolist() == (drops == "drop").tolist()
    # The alarm's parent is window 11's drift run: it joins that window; the
    # retraining run (no window, no parent) is a row of its own.
    assert windows.loc[N_CLEAN + 1, "n_alarms"] == 1
    assert frame["n_alarms"].sum() == len(recorded.runs(model="credit", kind="alarm"))
    alone = frame[frame["window"].isna()]
    assert alone["kinds"].tolist() == ["retraining"] and alone["n_retraining"].tolist() == [1]
    assert frame["started_at"].is_monotonic_increasing


def test_summary_and_verdicts_count_what_the_store_holds(recorded, report):
    runs = recorded.runs(model="credit", kind="drift")
    drifted = runs[runs["status"] == "drift"]
    first = int(drifted["window"].iloc[0])
    assert first == N_CLEAN
    summary = report.summary()
    assert f"drift in {len(drifted)} of {len(runs)} windows (first: window {first}," in summary
    validation = recorded.runs(model="credit", kind="validation")
    n_failed = int((validation["status"] == "failed").sum())
    assert n_failed == N_DRIFTED // 2
    assert f"validation: {n_failed} of {len(validation)} batches failed" in summary
    assert summary.startswith(f"{N_CLEAN + N_DRIFTED} windows (")
    assert summary.endswith("1 alarm(s), 1 retraining run(s)")
    text = str(report)
    assert text.startswith(f"Monitoring report: {summary}\n")
    assert len(text.splitlines()) == 2 + len(report.to_frame())


def test_heatmap_marks_every_drifted_cell_and_no_other(recorded, page):
    history = recorded.history(model="credit")
    parsed = _parse(page)
    cells = {(c["attrs"]["data-feature"], c["attrs"]["data-run"]): c for c in parsed.cells}
    assert set(cells) == set(zip(history["feature"], history["run_id"], strict=True))
    marked = {key for key, c in cells.items() if "drifted" in c["attrs"]["class"].split()}
    expected = set(history.loc[history["drift"], ["feature", "run_id"]].itertuples(index=False))
    assert marked == expected and len(expected) > 0
    assert (ODD, history.loc[history["drift"], "run_id"].iloc[-1]) in marked
    for (feature, run), cell in cells.items():
        tests = history[(history["feature"] == feature) & (history["run_id"] == run)]
        shown = tests[tests["drift"]] if tests["drift"].any() else tests
        ratio = shown["effect_size"] / shown["effect_threshold"]
        effect = shown.loc[ratio.idxmax(), "effect_size"]
        assert cell["text"] == ("\u25b2" if tests["drift"].any() else "") + f"{effect:.2f}"
    # Columns in time order: the first cell of each row is the oldest window.
    first_run = recorded.runs(model="credit", kind="drift")["run_id"].iloc[0]
    assert parsed.cells[0]["attrs"]["data-run"] == first_run


def test_page_sections_captions_markers_and_escaping(recorded, page):
    parsed = _parse(page)
    assert parsed.headings == ["Summary", *SECTIONS]
    assert parsed.figures and all(f["caption"] for f in parsed.figures)
    heatmaps = [f for f in parsed.figures if f["heatmap"]]
    charts = [f for f in parsed.figures if f["svg"]]
    assert len(heatmaps) == 1
    # Failed checks, null rates, class rates, group rates, accuracy, n_labeled.
    assert len(charts) == 6 and all(f["svg"] == 1 for f in charts)
    assert page.index('class="summary"') < page.index("<section")
    # Every event on every chart, and in the heatmap's marker row.
    assert page.count('<g class="event alarm">') == len(charts)
    assert page.count('<g class="event retraining">') == len(charts)
    assert '<tr class="marks">' in page
    assert "<b>" not in page and "b" not in parsed.tags
    assert "&lt;b&gt;&amp;x" in page and ODD not in page
    assert "&lt;now&gt;" in page
    assert "matplotlib" not in page and "<img" not in page


def test_notebook_view_is_the_page_body(report, page):
    view = report._repr_html_()
    assert view.startswith('<div class="mlpipe-monitor">')
    assert "<body" not in view and "<html" not in view
    body = page.partition("<body>")[2].partition("<footer>")[0]
    # The same page apart from the footer's time stamp.
    assert body in view
    assert "body {" not in view and "body{" not in view


def test_filters_by_model_and_time(recorded):
    other = recorded.report(model="other").to_frame()
    assert other["model_name"].tolist() == ["other"] * 3
    expected = recorded.runs(model="other")["status"].tolist()
    assert other["status"].tolist() == expected
    both = recorded.report()
    assert set(both.to_frame()["model_name"]) == {"credit", "other"}
    assert both.summary().startswith(f"{N_CLEAN + N_DRIFTED + 3} windows (")
    since, until = _day(3), _day(7)
    span = recorded.report(model="credit", since=since, until=until)
    frame = span.to_frame()
    assert frame["window"].tolist() == [3, 4, 5, 6]
    assert len(span.runs) == len(recorded.runs(model="credit", since=since, until=until))
    assert set(span.history["window"]) == {3, 4, 5, 6}
    assert span.since == "2026-06-04T00:00:00.000000+00:00"
    # A timedelta counts back from now: all of these runs are older.
    assert len(recorded.report(since=datetime.timedelta(days=1)).to_frame()) == 0


def test_nothing_matching_gives_a_page_that_says_so(recorded, tmp_path):
    for report in (
        RunStore(tmp_path / "empty.db").report(),
        recorded.report(model="credit", since=_day(400)),
    ):
        assert report.summary().startswith("no runs recorded")
        frame = report.to_frame()
        assert len(frame) == 0 and list(frame.columns) == list(WINDOW_COLUMNS)
        parsed = _parse(report.save(tmp_path / "empty.html").read_text(encoding="utf-8"))
        assert parsed.headings == ["Summary", "Nothing recorded"]
        assert str(report) == f"Monitoring report: {report.summary()}"
    assert "since='2027-07-06" in report.summary()


def test_a_batch_block_is_one_row(detector, clean_batch, store):
    with store.batch("batch-1", X=clean_batch):
        store.record_drift(detector.detect(clean_batch))
        store.record_predictions(np.zeros(len(clean_batch), dtype=int))
    store.record_event("alarm", status="alarm")
    frame = store.report().to_frame()
    assert frame["batch_key"].tolist()[0] == "batch-1"
    assert frame["kinds"].tolist() == ["batch, drift, predictions", "alarm"]
    assert frame["prediction_stat"].tolist()[0] == "rate of 0"
    assert frame["prediction_value"].tolist()[0] == 1.0
    assert isinstance(store.report(), MonitoringReport)


def test_invalid_parameters_name_the_method(store):
    with pytest.raises(InvalidParameterError, match=r"'model' parameter of RunStore\.report"):
        store.report(model=3)
    with pytest.raises(InvalidParameterError, match=r"'until' parameter of RunStore\.report"):
        store.report(until=1.5)
    with pytest.raises(ValueError, match="since must be a datetime"):
        store.report(since="not a time")


def test_the_page_renders_without_matplotlib(tmp_path):
    code = f"""
import sys
sys.modules["matplotlib"] = None  # as if the extra were not installed
from mlpipe.monitor import RunStore
store = RunStore(":memory:")
store.record_predictions([0, 1, 1, 0], sensitive=["a", "a", "b", "b"], window=0)
store.record_performance({{"accuracy": 0.75}}, window=0)
store.report().save({str(tmp_path / "page.html")!r})
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    text = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert _parse(text).headings == ["Summary", *SECTIONS]
    assert "No drift window recorded." in text and "No validation run recorded." in text
