"""ReconstructionDrift: its oracles (scikit-learn's StandardScaler + PCA, a
hand-built one-hot encoding, scipy's permutation test and a brute-force
stratified one), the cross-fitting, the correlation break the per-column
tests miss, mixed frames, bad input and clean batches."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

import mlpipe
from mlpipe.drift import DriftDetector, ReconstructionDrift, ReconstructionDriftReport
from mlpipe.drift._reconstruction_model import permutation_test


def _correlated(n, seed, rho=0.9):
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x0": x0,
            "x1": rho * x0 + np.sqrt(1 - rho**2) * rng.normal(size=n),
            "x2": rng.normal(size=n),
            "x3": rng.exponential(size=n),
        }
    )


def _mixed(n, seed):
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3, 1, n)
    amount[rng.random(n) < 0.15] = np.nan
    colour = rng.choice(["red", "green", "blue", "teal"], size=n, p=[0.5, 0.3, 0.195, 0.005])
    colour = colour.astype(object)
    colour[rng.random(n) < 0.1] = None
    return pd.DataFrame(
        {
            "colour": pd.Series(colour, dtype="str"),
            "size": pd.Categorical(rng.choice(["S", "M", "L"], size=n)),
            "amount": amount,
            "flag": rng.random(n) < 0.3,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "count": rng.poisson(2, n),
        }
    )


def _pca_errors(train, rows, share=0.65):
    scaler = StandardScaler().fit(train)
    pca = PCA(n_components=share, svd_solver="full").fit(scaler.transform(train))
    Z = scaler.transform(rows)
    return np.linalg.norm(Z - pca.inverse_transform(pca.transform(Z)), axis=1), pca.n_components_


# ------------------------------------------------------------------ oracles


def test_errors_equal_standard_scaler_pca_oracle():
    # Numeric data without missing values: the model is StandardScaler + PCA
    # fitted on the reference rows that were not held out (the missing
    # indicators are constant and carry no variance); it scores the held-out
    # rows and every batch row.
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(5, 5))
    X = pd.DataFrame(rng.normal(size=(300, 5)) @ mix, columns=list("abcde"))
    batch = pd.DataFrame(rng.normal(size=(53, 5)) @ mix, columns=list("abcde"))
    detector = ReconstructionDrift(explained_variance=0.65).fit(X)
    held_out = np.zeros(len(X), dtype=bool)
    held_out[detector.holdout_rows_] = True
    assert held_out.sum() == 150
    errors, q = _pca_errors(X[~held_out], X[held_out])
    assert detector.n_components_ == q
    np.testing.assert_allclose(detector.reference_errors_, errors, rtol=1e-9)
    errors, _ = _pca_errors(X[~held_out], batch)
    np.testing.assert_allclose(detector.reconstruction_errors(batch), errors, rtol=1e-9)
    report = detector.detect(batch)
    assert report.mean_error == pytest.approx(errors.mean(), rel=1e-12)
    assert report.reference_error == pytest.approx(detector.reference_errors_.mean())


def _hand_encoded(frame, train):
    """The encoding of ReconstructionDrift written out with pandas:
    categories with at least 1% of the training rows get a one-hot column,
    the others (and unseen ones) an "other" column; a missing indicator for
    every column; the median or most frequent value for a missing one."""
    columns = []
    for col in frame.columns:
        ref = train[col]
        if isinstance(ref.dtype, pd.CategoricalDtype) or ref.dtype == object or ref.dtype == "str":
            counts = ref.astype(object).value_counts()
            kept = counts[counts >= 0.01 * len(train)].index.tolist()
            values = frame[col].astype(object).where(frame[col].notna(), counts.index[0])
            block = pd.DataFrame({f"{col}={v}": (values == v).astype(float) for v in kept})
            block[f"{col}=other"] = (~values.isin(kept)).astype(float)
            columns.append(("cat", block))
        else:
            values = frame[col].astype(float)
            columns.append(("num", values.fillna(ref.astype(float).median()).to_frame()))
        columns.append(("num", frame[col].isna().astype(float).to_frame(f"{col}_missing")))
    return columns


def _hand_matrix(frame, train):
    """Standardised by the training rows, each one-hot block divided by the
    square root of its width."""
    blocks_train = _hand_encoded(train, train)
    blocks = _hand_encoded(frame, train)
    out = []
    for (kind, block_train), (_, block) in zip(blocks_train, blocks, strict=True):
        scaler = StandardScaler().fit(block_train)
        z = scaler.transform(block)
        out.append(z / np.sqrt(block.shape[1]) if kind == "cat" else z)
    return np.hstack(out)


def test_mixed_errors_equal_hand_built_encoding():
    X = _mixed(400, 1).drop(columns=["when", "flag"])
    detector = ReconstructionDrift(explained_variance=0.65).fit(X)
    held_out = np.zeros(len(X), dtype=bool)
    held_out[detector.holdout_rows_] = True
    train = X[~held_out]
    Z_train = _hand_matrix(train, train)
    Z = _hand_matrix(X[held_out], train)
    pca = PCA(n_components=0.65, svd_solver="full").fit(Z_train)
    errors = np.linalg.norm(Z - pca.inverse_transform(pca.transform(Z)), axis=1)
    np.testing.assert_allclose(detector.reference_errors_, errors, rtol=1e-8)


def test_permutation_p_value_equals_scipy_exact():
    rng = np.random.default_rng(3)
    batch, reference = rng.lognormal(size=7), rng.lognormal(size=5)
    exact = stats.permutation_test(
        (batch, reference),
        lambda b, r: np.mean(b),
        permutation_type="independent",
        alternative="greater",
        n_resamples=np.inf,
    ).pvalue
    p, _ = permutation_test([batch], [reference], 40_000, 0.05, np.random.default_rng(0))
    assert abs(p - exact) < 0.006  # 3 standard errors of 40,000 draws


def test_stratified_p_value_equals_brute_force():
    rng = np.random.default_rng(4)
    batch = [rng.normal(size=3), rng.normal(1, 2, size=2)]
    reference = [rng.normal(size=4), rng.normal(1, 2, size=4)]
    pools = [np.r_[b, r] for b, r in zip(batch, reference, strict=True)]
    observed = sum(b.sum() for b in batch)
    sums = [
        [pool[list(c)].sum() for c in itertools.combinations(range(len(pool)), len(b))]
        for pool, b in zip(pools, batch, strict=True)
    ]
    totals = np.add.outer(np.array(sums[0]), np.array(sums[1])).ravel()
    exact = np.mean(totals >= observed - 1e-12)
    p, _ = permutation_test(batch, reference, 40_000, 0.05, np.random.default_rng(0))
    assert abs(p - exact) < 0.008


def test_threshold_is_the_mean_the_p_value_crosses_alpha_at():
    rng = np.random.default_rng(5)
    for _ in range(30):
        shift = rng.uniform(0, 1)
        batch = [rng.normal(shift, size=4), rng.normal(shift, size=3)]
        reference = [rng.normal(size=20), rng.normal(size=20)]
        p, threshold = permutation_test(batch, reference, 199, 0.05, np.random.default_rng(1))
        mean = np.concatenate(batch).mean()
        assert (p <= 0.05) == (mean > threshold)


# ------------------------------------------------------------- the hold-out


def test_reference_errors_are_held_out_not_in_sample():
    # Few rows, many columns: a PCA scores its own training rows much better
    # than new ones. The stored errors are of new rows (the model did not see
    # them), so they match a fresh sample's, not the in-sample ones.
    rng = np.random.default_rng(6)
    mix = rng.normal(size=(20, 20))
    X = pd.DataFrame(rng.normal(size=(100, 20)) @ mix)
    new = pd.DataFrame(rng.normal(size=(4000, 20)) @ mix)
    detector = ReconstructionDrift().fit(X)
    assert len(detector.reference_errors_) == 50
    train = np.setdiff1d(np.arange(100), detector.holdout_rows_)
    in_sample, _ = _pca_errors(X.iloc[train], X.iloc[train], detector.explained_variance)
    held_out = detector.reference_errors_.mean()
    fresh = detector.reconstruction_errors(new)
    assert in_sample.mean() < 0.9 * held_out
    assert abs(held_out - fresh.mean()) < 0.05 * fresh.mean()
    # a clean batch is quiet against the held-out errors, but would be
    # "drift" against the in-sample ones
    assert detector.detect(new.iloc[:200]).p_value > 0.05
    rng = np.random.default_rng(0)
    p_in_sample, _ = permutation_test([fresh[:200]], [in_sample], 999, 0.05, rng)
    assert p_in_sample <= 0.01


def _swap(first, i, second, j):
    """``first`` with its row ``i`` replaced by row ``j`` of ``second``."""
    return pd.concat([first.iloc[:i], second.iloc[[j]], first.iloc[i + 1 :]], ignore_index=True)


def test_a_held_out_row_and_a_batch_row_are_exchangeable():
    # What the level rests on: the model depends on the training rows only,
    # so swapping a held-out reference row with a batch row leaves it, and the
    # pooled errors the permutation deals out, unchanged. (With the former
    # cross-fitting, every reference row also trained the other folds'
    # models, and such a swap changed them.) The rare "teal" and a missing
    # value are among the swapped rows.
    X = _mixed(300, 16)
    ref, batch = X.iloc[:200].reset_index(drop=True), X.iloc[200:].reset_index(drop=True)
    detector = ReconstructionDrift().fit(ref)
    pooled = np.r_[detector.reference_errors_, detector.reconstruction_errors(batch)]
    teal = np.flatnonzero(batch["colour"].to_numpy() == "teal")
    for i, j in [(detector.holdout_rows_[0], 0), (detector.holdout_rows_[-1], teal[0])]:
        swapped = ReconstructionDrift().fit(_swap(ref, i, batch, j))
        np.testing.assert_array_equal(swapped.holdout_rows_, detector.holdout_rows_)
        errors = swapped.reconstruction_errors(_swap(batch, j, ref, i))
        np.testing.assert_allclose(
            np.sort(np.r_[swapped.reference_errors_, errors]), np.sort(pooled), rtol=1e-10
        )
    # a training row swapped in changes the model: the check can fail
    train = np.setdiff1d(np.arange(200), detector.holdout_rows_)
    changed = ReconstructionDrift().fit(_swap(ref, train[0], batch, teal[0]))
    errors = changed.reconstruction_errors(_swap(batch, teal[0], ref, train[0]))
    assert not np.allclose(np.sort(np.r_[changed.reference_errors_, errors]), np.sort(pooled))


# ---------------------------------------------------------------- the story


def test_correlation_break_is_found_while_marginals_are_not():
    X = _correlated(1300, 8)
    ref, batch = X.iloc[:1000], X.iloc[1000:].copy()
    batch["x1"] = np.random.default_rng(8).permutation(batch["x1"].to_numpy())
    assert not DriftDetector().fit(ref).detect(batch).drift
    report = ReconstructionDrift().fit(ref).detect(batch)
    assert isinstance(report, ReconstructionDriftReport)
    assert report.drift and report.p_value <= 0.05
    assert report.mean_error > report.error_threshold > report.reference_error
    assert sorted(report.contributions["feature"][:2]) == ["x0", "x1"]
    frame = report.to_frame()
    assert frame["feature"].tolist() == ["(joint)"] and frame["test"].tolist() == ["reconstruction"]
    assert frame["statistic"].iloc[0] == pytest.approx(report.mean_error)
    assert "DRIFT" in report.summary() and "x1" in repr(report)
    assert len(report.errors) == len(batch)


def test_clean_batch_is_quiet_and_score_is_a_float():
    X = _correlated(1300, 9)
    detector = ReconstructionDrift().fit(X.iloc[:1000])
    report = detector.detect(X.iloc[1000:])
    assert not report.drift and report.p_value > 0.05
    assert detector.score(X.iloc[1000:]) == 1.0
    broken = X.iloc[1000:].assign(x1=lambda f: f["x1"].to_numpy()[::-1])
    assert detector.score(broken) == 0.0


def test_min_increase_keeps_a_small_increase_quiet():
    X = _correlated(6000, 10, rho=0.6)
    ref, batch = X.iloc[:3000], X.iloc[3000:].copy()
    batch.loc[batch.index[:1200], "x1"] = np.random.default_rng(1).permutation(
        batch["x1"].to_numpy()[:1200]
    )
    report = ReconstructionDrift().fit(ref).detect(batch)
    assert report.drift
    increase = report.to_frame()["effect_size"].iloc[0]
    assert 0 < increase < 0.2
    assert not ReconstructionDrift(min_increase=0.2).fit(ref).detect(batch).drift


def test_mixed_types_and_missing_values_without_preprocessing():
    X = _mixed(900, 11)
    ref, batch = X.iloc[:600], X.iloc[600:].copy()
    detector = ReconstructionDrift().fit(ref)
    assert not detector.detect(batch).drift
    # a category the reference lacks floods the batch: drift, named, not an
    # error (its "other" column is constant in the training rows: its
    # variance is floored at one occurrence's, so the category counts as the
    # rarest, not, by the constant-column rule, as less than a common one)
    batch["colour"] = batch["colour"].where(np.arange(len(batch)) % 3 != 0, "violet")
    report = detector.detect(batch)
    assert report.drift and report.p_value <= 0.002
    assert report.contributions["feature"].iloc[0] == "colour"
    assert report.contributions["z"].iloc[0] > 5
    # missing values where the reference had none count through the
    # indicator (a residual of 1 each: weakly, the missing-rate tests of
    # DriftDetector are the ones for it)
    gaps = X.iloc[600:].copy()
    gaps.loc[gaps.index[::2], "count"] = np.nan
    report = detector.detect(gaps)
    assert report.mean_error > report.reference_error
    assert report.contributions["feature"].iloc[0] == "count"
    row = report.contributions.iloc[0]
    assert row["batch"] - row["reference"] == pytest.approx(0.5, abs=0.15)


def test_caller_data_is_not_modified():
    X = _mixed(300, 12)
    ref, batch = X.iloc[:200].copy(), X.iloc[200:].copy()
    before_ref, before_batch = ref.copy(), batch.copy()
    ReconstructionDrift().fit(ref).detect(batch)
    pd.testing.assert_frame_equal(ref, before_ref)
    pd.testing.assert_frame_equal(batch, before_batch)


def test_saved_and_loaded_with_skops(tmp_path):
    X = _mixed(300, 13)
    detector = ReconstructionDrift().fit(X.iloc[:200])
    for name in vars(detector):
        if name.endswith("_"):
            value = getattr(detector, name)
            values = value if isinstance(value, list) else [value]
            assert not any(isinstance(v, pd.DataFrame | pd.Series | pd.Index) for v in values)
    mlpipe.save(detector, tmp_path / "detector.skops")
    loaded = mlpipe.load(tmp_path / "detector.skops")
    first, second = detector.detect(X.iloc[200:]), loaded.detect(X.iloc[200:])
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame())
    pd.testing.assert_frame_equal(first.contributions, second.contributions)


# ---------------------------------------------------------------- bad input


def test_bad_input_gives_clear_errors():
    X = _correlated(200, 14)
    with pytest.raises(ValueError, match="0 sample"):
        ReconstructionDrift().fit(X.iloc[:0])
    with pytest.raises(ValueError, match="minimum of 2"):
        ReconstructionDrift().fit(X.iloc[:1])
    detector = ReconstructionDrift().fit(X)
    with pytest.raises(ValueError, match="0 sample"):
        detector.detect(X.iloc[:0])
    assert np.isfinite(detector.detect(X.iloc[:1]).p_value)  # one row is a (weak) batch
    with pytest.raises(ValueError, match="x2"):
        detector.detect(X.drop(columns="x2"))
    with pytest.raises(ValueError, match="surprise"):
        detector.detect(X.assign(surprise=1.0))
    with pytest.raises(ValueError, match="same order"):
        detector.detect(X[["x1", "x0", "x2", "x3"]])
    with pytest.raises(ValueError, match=r"infinity in column\(s\) 'x3'"):
        detector.detect(X.assign(x3=np.r_[np.inf, X["x3"].to_numpy()[1:]]))
    with pytest.raises(ValueError, match="infinity"):
        ReconstructionDrift().fit(X.assign(x0=-np.inf))
    with pytest.raises(ValueError, match="only missing"):
        ReconstructionDrift().fit(X.assign(x2=np.nan))
    with pytest.raises(TypeError, match="dtype changed"):
        detector.detect(X.assign(x2=X["x2"].astype(str)))
    with pytest.raises(ValueError, match="n_permutations >= 19"):
        ReconstructionDrift(n_permutations=9).fit(X)


# ------------------------------------------------------------ clean batches


def test_false_alarm_rate_on_clean_splits():
    # 100 clean splits of heavy-tailed, skewed data with a small batch, the
    # case where a normal approximation of the mean's null fails: the
    # permutation test's flag rate stays near alpha and its p-values near
    # uniform. Fails if the level is off by a factor of two.
    rng = np.random.default_rng(15)
    flags, p_values = [], []
    for seed in range(100):
        n = 150
        X = pd.DataFrame(
            {
                "a": rng.lognormal(0, 1.5, n),
                "b": rng.standard_t(2, n),
                "c": rng.poisson(0.3, n),
            }
        )
        X["d"] = X["a"] + rng.normal(size=n)
        report = ReconstructionDrift(n_permutations=99, random_state=seed).fit(X.iloc[:100])
        report = report.detect(X.iloc[100:])
        flags.append(report.drift)
        p_values.append(report.p_value)
    assert np.mean(flags) <= 0.1
    assert stats.kstest(p_values, "uniform").pvalue > 0.01
