"""check_data_quality and check_leakage against naive, loop-based oracles."""

from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from mlpipe.datasets import load_credit
from mlpipe.validation import DataQualityReport, check_data_quality, check_leakage


def _is_missing(v):
    return v is None or (isinstance(v, float) and v != v)


def _key(v):
    return "__missing__" if _is_missing(v) else v


def dirty_frame(seed=0, n=200):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 3, n),
            "b": rng.choice(["x", "y"], n),
            "const": 5,
            "rare": np.where(np.arange(n) == 7, 1.0, 0.0),
            "gappy": np.where(rng.random(n) < 0.7, np.nan, 1.0),
            "empty": np.nan,
            "ident": [f"id{i}" for i in range(n)],
            "mixed": pd.Series(
                [("t" if i % 3 else i) if i % 5 else 2.5 for i in range(n)], dtype=object
            ),
            "y": rng.permutation(np.repeat([0, 1, 2], [n - n // 10 - 1, n // 10 - 1, 2])),
        }
    )
    df.loc[[10, 11], :] = df.loc[[3, 3], :].to_numpy()  # exact duplicates of row 3
    return df


def oracle(
    df, target, near_constant=0.99, max_missing=0.5, max_cardinality=0.5, min_class_share=0.1
):
    """The same findings computed with plain Python loops."""
    rows = [tuple(_key(v) for v in r) for r in df.itertuples(index=False)]
    features = [c for c in df.columns if c != target]
    n = len(df)
    out = {}
    seen, dups = set(), 0
    for r in rows:
        dups += r in seen
        seen.add(r)
    if dups:
        out[("duplicate_rows", None)] = ("warning", dups)
    for c in features:
        values = df[c].tolist()
        missing = sum(_is_missing(v) for v in values)
        if missing == n:
            out[("missing", c)] = ("error", n)
            continue
        if missing / n >= max_missing:
            out[("missing", c)] = ("warning", missing)
        counts = Counter(_key(v) for v in values)
        if len(counts) == 1:
            out[("constant", c)] = ("warning", n)
        elif max(counts.values()) / n >= near_constant:
            out[("near_constant", c)] = ("info", max(counts.values()))
        present = [v for v in values if not _is_missing(v)]
        if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype):
            distinct = len(set(present))
            if (
                all(isinstance(v, str) for v in present)
                and distinct > 1
                and (distinct / len(present) >= max_cardinality)
            ):
                out[("high_cardinality", c)] = ("warning", len(present))
            families = Counter("number" if isinstance(v, int | float) else "text" for v in present)
            if len(families) > 1:
                out[("mixed_types", c)] = ("warning", len(present) - families.most_common(1)[0][1])
    labels = Counter(df[target].tolist())
    for label, count in labels.items():
        if count / n < min_class_share:
            severity = "error" if count / n < min_class_share / 10 else "warning"
            out[("class_imbalance", target)] = out.get(("class_imbalance", target), [])
            out[("class_imbalance", target)].append((label, severity, count))
    groups = defaultdict(set)
    feature_rows = [tuple(_key(v) for v in r) for r in df[features].itertuples(index=False)]
    for fr, label in zip(feature_rows, df[target].tolist(), strict=True):
        groups[fr].add(label)
    conflicts = sum(len(groups[fr]) > 1 for fr in feature_rows)
    if conflicts:
        out[("conflicting_labels", None)] = ("error", conflicts)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_data_quality_matches_oracle(seed):
    df = dirty_frame(seed)
    report = check_data_quality(df, target="y")
    expected = oracle(df, "y")
    got = {}
    for f in report.findings:
        if f.check == "class_imbalance":
            got.setdefault((f.check, f.column), []).append(f.severity + str(f.n_rows))
        else:
            got[(f.check, f.column)] = (f.severity, f.n_rows)
    want = {
        k: sorted(s + str(c) for _, s, c in v) if k[0] == "class_imbalance" else v
        for k, v in expected.items()
    }
    got = {k: sorted(v) if k[0] == "class_imbalance" else v for k, v in got.items()}
    assert got == want
    # The frame was built so that every kind of finding occurs.
    assert {k[0] for k in got} == {
        "duplicate_rows",
        "constant",
        "near_constant",
        "missing",
        "high_cardinality",
        "mixed_types",
        "class_imbalance",
    } | ({"conflicting_labels"} if ("conflicting_labels", None) in want else set())
    severities = [f.severity for f in report.findings]
    order = {"error": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.get)


def test_conflicting_labels_against_oracle():
    X, y = load_credit(return_X_y=True)
    df = X[["sex", "job", "housing"]].assign(risk=y.to_numpy())
    report = check_data_quality(df, target="risk")
    expected = oracle(df, "risk")
    finding = next(f for f in report.findings if f.check == "conflicting_labels")
    assert ("error", finding.n_rows) == expected[("conflicting_labels", None)]
    assert finding.n_rows > 0


def test_target_given_as_values():
    df = pd.DataFrame({"x": [1, 1, 2, 3]})
    report = check_data_quality(df, target=np.array([0, 1, 1, 1]))
    assert [(f.check, f.n_rows) for f in report.findings] == [("conflicting_labels", 2)]
    with pytest.raises(ValueError, match="target has 3 value"):
        check_data_quality(df, target=[0, 1, 1])
    with pytest.raises(ValueError, match="'risk' is not a column"):
        check_data_quality(df, target="risk")


def test_clean_credit_data_has_no_warning():
    X, y = load_credit(return_X_y=True)
    report = check_data_quality(X.assign(risk=y), target="risk")
    assert report.passed, report.to_frame()
    assert isinstance(report, DataQualityReport)


def test_report_views():
    report = check_data_quality(dirty_frame(), target="y")
    frame = report.to_frame()
    assert list(frame.columns) == [
        "check",
        "column",
        "severity",
        "n_rows",
        "share",
        "value",
        "message",
        "rows",
    ]
    assert frame["share"].tolist() == [f.n_rows / 200 for f in report.findings]
    assert report.summary().endswith("in 200 row(s)")
    assert "Data quality report" in report._repr_html_()
    assert not report.passed


def naive_shared(train, test):
    seen = {tuple(_key(v) for v in r) for r in train.itertuples(index=False)}
    return [
        i
        for i, r in zip(test.index, test.itertuples(index=False), strict=True)
        if tuple(_key(v) for v in r) in seen
    ]


def test_shared_rows_against_oracle():
    X, y = load_credit(return_X_y=True)
    df = X.assign(risk=y)
    train, test = train_test_split(df, test_size=0.3, random_state=0)
    test = pd.concat([test, train.iloc[[5, 17, 40]]])  # leaked rows
    report = check_leakage(train, test, target="risk")
    shared = naive_shared(train.drop(columns="risk"), test.drop(columns="risk"))
    assert len(shared) >= 3
    finding = next(f for f in report.findings if f.check == "shared_rows")
    assert finding.n_rows == len(shared)
    assert finding.rows == shared[:3]
    assert finding.share == len(shared) / len(test)


def test_shared_rows_compare_values_not_dtypes():
    train = pd.DataFrame({"a": pd.Categorical(["x", "y"]), "b": [1.0, np.nan]})
    test = pd.DataFrame({"a": pd.array(["y", "z"], dtype="str"), "b": [np.nan, 1.0]})
    report = check_leakage(train, test)
    assert [(f.check, f.rows) for f in report.findings] == [("shared_rows", [0])]


def test_target_leak_is_found_and_scored():
    from sklearn.metrics import balanced_accuracy_score

    X, y = load_credit(return_X_y=True)
    rng = np.random.default_rng(0)
    flipped = y.to_numpy().copy()
    flips = rng.choice(len(y), 20, replace=False)
    flipped[flips] = 1 - flipped[flips]
    df = X.assign(
        status=np.where(flipped == 1, "paid", "default"),  # recorded after the fact
        score=flipped * 10.0 + rng.normal(0, 1, len(y)),
        risk=y.to_numpy(),
    )
    train, test = train_test_split(df, test_size=0.3, random_state=0)
    report = check_leakage(train, test, target="risk")
    leaks = {f.column: f for f in report.findings if f.check == "target_leak"}
    assert set(leaks) == {"status", "score"}
    # Oracle for the categorical leak: the majority label per value in train.
    majority = train.groupby("status")["risk"].agg(lambda s: s.mode().iloc[0])
    predicted = test["status"].map(majority)
    expected = balanced_accuracy_score(test["risk"], predicted)
    assert leaks["status"].value == pytest.approx(expected)
    assert leaks["status"].severity == "error"


def test_no_leak_in_honest_credit_split():
    X, y = load_credit(return_X_y=True)
    train, test = train_test_split(X.assign(risk=y), test_size=0.3, random_state=0)
    report = check_leakage(train, test, target="risk")
    assert [f.check for f in report.findings] == []
    assert report.title == "Leakage report"


def test_regression_target_leak():
    rng = np.random.default_rng(1)
    n = 400
    target = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "noise": rng.normal(size=n),
            "leak": target * 2 + rng.normal(0, 0.01, n),
            "t": target,
        }
    )
    report = check_leakage(df.iloc[:300], df.iloc[300:], target="t")
    assert [f.column for f in report.findings] == ["leak"]
    assert "R^2" in report.findings[0].message


def test_leakage_input_errors():
    a = pd.DataFrame({"x": [1, 2], "y": [0, 1]})
    with pytest.raises(ValueError, match="target 'z' is not a column of train"):
        check_leakage(a, a, target="z")
    with pytest.raises(ValueError, match="same feature columns"):
        check_leakage(a, a.rename(columns={"x": "w"}), target="y")
