"""PipelineSearch against TPOT's own default search and a tuned HistGradientBoosting.

Same wall budget and one core for each of three methods, run one after the
other on the same holdout split:

- ``pipeline_search``: ``mlpipe.automl.PipelineSearch(task=..., cv=5,
  max_time_mins=B, n_jobs=1, random_state=seed)`` on the raw frame (missing
  values and string/categorical columns as they are).
- ``tpot_default``: ``tpot.TPOTClassifier`` / ``TPOTRegressor`` with TPOT's
  own default search space (``"linear"``) and scorer (``roc_auc_ovr`` /
  ``neg_mean_squared_error``), ``max_time_mins=B``, ``n_jobs=1``,
  ``random_state=seed``, ``cv=5`` (TPOT's default is 10; 5 matches the other
  two), ``max_eval_time_mins=1`` (PipelineSearch's default; TPOT's own, 10,
  lets one slow candidate overrun the budget by minutes, since TPOT checks
  the budget only when a candidate finishes or times out), dask workers as
  threads (``processes=False``), and the minimal
  preprocessing TPOT needs: its own ``preprocessing=True`` (most-frequent /
  mean imputation, one-hot encoding of ``categorical_features``) on the data
  sets with missing values or categorical columns, none on the others.
- ``hgb_tuned``: ``HistGradientBoostingClassifier`` / ``Regressor``
  (``categorical_features="from_dtype"``, text columns made ``category``,
  missing values native) tuned by random search over learning_rate,
  max_leaf_nodes, l2_regularization and min_samples_leaf with 5-fold CV,
  sampling candidates until 90% of the budget is spent, then refit on all of
  the training data (the same time rule PipelineSearch follows).

Holdout: 25% (stratified for classification), ``random_state=seed``. Score:
ROC AUC for binary classification, accuracy for multiclass (ROC AUC one-vs-rest
is recorded too, in ``auc``), R² for regression. The searches maximise the
same objective: ROC AUC (one-vs-rest for multiclass), negative MSE.

Data sets: the credit data (``load_credit(unknown_as_missing=True)``),
breast_cancer, wine, digits, diabetes (regression) and ``synthetic``: a
seeded ``make_classification`` frame with four columns binned into text
categories and 10% of all values missing.

Noise: each row also records ``score_se``, the bootstrap standard error of its
holdout score (200 resamples of the holdout rows). ``paired()`` compares
PipelineSearch with each other method seed by seed (same split): the mean
paired difference, its standard error over seeds (sd / sqrt(n)), and a loss
"beyond noise" when the mean difference is below -2 SE.

The full table is made by the script (not CI)::

    python benchmarks/bench_automl.py --budget-mins 1 --seeds 0 1 2 --out automl.csv
    python benchmarks/bench_automl.py --summarize automl.csv   # tables of saved rows
    python benchmarks/bench_automl.py --memory-check   # step reuse (memory=)

``pytest benchmarks/bench_automl.py --benchmark-only`` runs the three methods
once on the credit data with a tiny budget.
"""

import os

# One core per method: BLAS and OpenMP (HistGradientBoosting) threads too.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TPOT_SKIP_UPDATE_CHECK", "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import loguniform, randint  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
    make_classification,
)
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    KFold,
    ParameterSampler,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from threadpoolctl import threadpool_limits  # noqa: E402

from mlpipe.automl import PipelineSearch  # noqa: E402
from mlpipe.automl._tpot import import_tpot  # noqa: E402
from mlpipe.datasets import load_credit  # noqa: E402

DATASETS = ("credit", "breast_cancer", "wine", "digits", "diabetes", "synthetic")
METHODS = ("pipeline_search", "tpot_default", "hgb_tuned")
GROUP = "automl: credit data, 3 methods, tiny budget"


# -- data -----------------------------------------------------------------------


def _synthetic(seed=0):
    """1500 rows, 12 columns: 8 numeric, 4 binned into text categories; 10% missing."""
    X, y = make_classification(
        n_samples=1500,
        n_features=12,
        n_informative=6,
        n_redundant=2,
        flip_y=0.03,
        random_state=seed,
    )
    frame = pd.DataFrame(X, columns=[f"num{i}" for i in range(12)])
    rng = np.random.default_rng(seed)
    for i in range(4):  # informative columns among them: make_classification puts them first
        col = f"num{i * 2}"
        bins = pd.qcut(frame[col], q=5, labels=[f"lvl{k}" for k in range(5)])
        frame[f"cat{i}"] = bins.astype(object)
        frame = frame.drop(columns=col)
    for col in frame.columns:
        mask = rng.random(len(frame)) < 0.10
        frame.loc[mask, col] = np.nan if frame[col].dtype.kind == "f" else None
    return frame, pd.Series(y, name="target")


def load(name):
    """(X frame, y, task) of a benchmark data set."""
    if name == "credit":
        X, y = load_credit(return_X_y=True, unknown_as_missing=True)
        return X, y, "classification"
    if name == "synthetic":
        X, y = _synthetic()
        return X, y, "classification"
    loader = {
        "breast_cancer": load_breast_cancer,
        "wine": load_wine,
        "digits": load_digits,
        "diabetes": load_diabetes,
    }[name]
    X, y = loader(return_X_y=True, as_frame=True)
    task = "regression" if name == "diabetes" else "classification"
    return X, y, task


def _categorical_columns(X):
    return [c for c in X.columns if X[c].dtype.kind not in "biuf"]


def _messy(X):
    return bool(_categorical_columns(X)) or bool(X.isna().any().any())


# -- methods --------------------------------------------------------------------


def _objective(task, n_classes):
    if task == "regression":
        return "neg_mean_squared_error"
    return "roc_auc" if n_classes == 2 else "roc_auc_ovr"


def fit_pipeline_search(X, y, task, budget_mins, seed, start_with_defaults=True):
    search = PipelineSearch(
        task=task,
        max_time_mins=budget_mins,
        random_state=seed,
        cv=5,
        n_jobs=1,
        start_with_defaults=start_with_defaults,
    )
    search.fit(X, y)
    return search, str(search.best_estimator_.steps)


def fit_pipeline_search_no_defaults(X, y, task, budget_mins, seed):
    """Ablation: the first generation all random (``start_with_defaults=False``)."""
    return fit_pipeline_search(X, y, task, budget_mins, seed, start_with_defaults=False)


def fit_tpot_default(X, y, task, budget_mins, seed):
    tpot = import_tpot()
    cls = tpot.TPOTClassifier if task == "classification" else tpot.TPOTRegressor
    messy = _messy(X)
    est = cls(
        max_time_mins=budget_mins,
        # PipelineSearch's default; TPOT's own, 10, let one candidate keep a
        # 0.2-minute search running for 167 s (diabetes, seed 0).
        max_eval_time_mins=1,
        n_jobs=1,
        random_state=seed,
        cv=5,
        preprocessing=messy,
        categorical_features=_categorical_columns(X) or None if messy else None,
        processes=False,
        verbose=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return est, str(est.fitted_pipeline_.steps[-1][1]).replace("\n", " ")[:400]


def _hgb_frame(X):
    X = X.copy()
    for col in _categorical_columns(X):
        X[col] = X[col].astype("category")
    return X


def fit_hgb_tuned(X, y, task, budget_mins, seed):
    """Time-bounded random search: candidates until 90% of the budget, then refit."""
    start = time.perf_counter()
    X = _hgb_frame(X)
    if task == "classification":
        base = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
        cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    else:
        base = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=seed)
        cv = KFold(5, shuffle=True, random_state=seed)
    scoring = _objective(task, y.nunique())
    space = {
        "learning_rate": loguniform(0.01, 0.3),
        "max_leaf_nodes": randint(4, 65),
        "l2_regularization": loguniform(1e-6, 1.0),
        "min_samples_leaf": randint(2, 51),
    }
    best, best_params, n_tried = -np.inf, {}, 0
    deadline = start + 0.9 * budget_mins * 60
    # The default configuration first, then random ones.
    candidates = [{}, *ParameterSampler(space, n_iter=10_000, random_state=seed)]
    for params in candidates:
        if time.perf_counter() >= deadline:
            break
        est = clone(base).set_params(**params)
        score = cross_val_score(est, X, y, cv=cv, scoring=scoring).mean()
        n_tried += 1
        if score > best:
            best, best_params = score, params
    model = (
        HistGradientBoostingClassifier
        if task == "classification"
        else HistGradientBoostingRegressor
    )
    final = model(categorical_features="from_dtype", random_state=seed, **best_params)
    final.fit(X, y)
    final.n_candidates_ = n_tried
    return final, f"{n_tried} candidates; best {best_params}"


FIT = {
    "pipeline_search": fit_pipeline_search,
    "tpot_default": fit_tpot_default,
    "hgb_tuned": fit_hgb_tuned,
    "pipeline_search_no_defaults": fit_pipeline_search_no_defaults,
}


def holdout_scores(model, X, y, task, method, n_boot=200):
    """Holdout score, ROC AUC, and ``score_se``: the bootstrap standard error of
    the score over resamples of the holdout rows (its sampling noise)."""
    if method == "hgb_tuned":
        X = _hgb_frame(X)
    y = np.asarray(y)
    if task == "regression":
        pred = model.predict(X)
        metric, out = (lambda idx: r2_score(y[idx], pred[idx])), {"auc": np.nan}
    else:
        proba = model.predict_proba(X)
        if len(np.unique(y)) == 2:
            metric = lambda idx: roc_auc_score(y[idx], proba[idx, 1])  # noqa: E731
            out = {"auc": metric(np.arange(len(y)))}
        else:
            pred = model.predict(X)
            metric = lambda idx: accuracy_score(y[idx], pred[idx])  # noqa: E731
            out = {"auc": roc_auc_score(y, proba, multi_class="ovr")}
    out["score"] = metric(np.arange(len(y)))
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if task == "classification" and len(np.unique(y[idx])) < len(np.unique(y)):
            continue
        boot.append(metric(idx))
    out["score_se"] = float(np.std(boot, ddof=1))
    return out


def run_one(name, method, seed, budget_mins):
    """One method on one data set and seed: a dict row of the results table."""
    X, y, task = load(name)
    stratify = y if task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, stratify=stratify, random_state=seed
    )
    metric = "r2" if task == "regression" else ("roc_auc" if y.nunique() == 2 else "accuracy")
    row = {
        "dataset": name,
        "method": method,
        "seed": seed,
        "budget_mins": budget_mins,
        "metric": metric,
    }
    start = time.perf_counter()
    try:
        with threadpool_limits(limits=1):
            model, desc = FIT[method](X_tr, y_tr, task, budget_mins, seed)
            row["fit_seconds"] = time.perf_counter() - start
            row.update(holdout_scores(model, X_te, y_te, task, method))
        row["error"] = ""
        row["model"] = desc
    except Exception as exc:  # a failing method is a result too
        row["fit_seconds"] = time.perf_counter() - start
        row.update(score=np.nan, auc=np.nan, score_se=np.nan, model="")
        row["error"] = f"{type(exc).__name__}: {exc}"[:500]
        traceback.print_exc()
    row["wall_seconds"] = time.perf_counter() - start
    return row


def run(datasets=DATASETS, seeds=(0, 1), budget_mins=1.0, methods=METHODS, out=None):
    """Holdout scores of every method on every data set and seed, as a DataFrame.

    With ``out``, every row is appended to that CSV as soon as it is measured.
    """
    rows = []
    for seed in seeds:
        for name in datasets:
            for method in methods:
                row = run_one(name, method, seed, budget_mins)
                rows.append(row)
                print(
                    f"{name:14} {method:16} seed={seed} {row['metric']}={row['score']:.4f} "
                    f"wall={row['wall_seconds']:.1f}s {row['error'][:80]}",
                    flush=True,
                )
                if out is not None:
                    pd.DataFrame([row]).to_csv(
                        out, mode="a", header=not os.path.exists(out), index=False
                    )
    return pd.DataFrame(rows)


def summarize(results):
    """Mean and per-seed holdout scores, by data set and method."""
    table = results.pivot_table(index=["dataset", "method"], columns="seed", values="score")
    table.columns = [f"seed {s}" for s in table.columns]
    table.insert(0, "mean", table.mean(axis=1))
    table["wall s (mean)"] = results.groupby(["dataset", "method"])["wall_seconds"].mean()
    return table


def paired(
    results,
    method="pipeline_search",
    against=("tpot_default", "hgb_tuned", "pipeline_search_no_defaults"),
):
    """``method`` minus each other method, paired by data set and seed (same split).

    ``diff`` is the mean paired difference over seeds, ``se`` its standard
    error (sample standard deviation of the per-seed differences over
    sqrt(n)), ``z`` = diff / se; a loss is "beyond noise" when diff < -2 se.
    ``holdout_se`` is the mean bootstrap standard error of one holdout score
    (the sampling noise of a single split), for scale.
    """
    scores = results.pivot_table(index=["dataset", "seed"], columns="method", values="score")
    rows = []
    for other in against:
        if method not in scores or other not in scores:
            continue
        d = (scores[method] - scores[other]).dropna()
        for name, diffs in d.groupby(level="dataset"):
            n = len(diffs)
            se = diffs.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            holdout = results[(results.dataset == name) & results.method.isin([method, other])]
            rows.append(
                {
                    "dataset": name,
                    "vs": other,
                    "n_seeds": n,
                    "diff": diffs.mean(),
                    "se": se,
                    "z": diffs.mean() / se if se else np.nan,
                    "per_seed": " ".join(f"{v:+.4f}" for v in diffs),
                    "holdout_se": holdout["score_se"].mean() if "score_se" in holdout else np.nan,
                    "loss_beyond_noise": bool(diffs.mean() < -2 * se) if n > 1 else None,
                }
            )
    return pd.DataFrame(rows)


# -- step reuse -------------------------------------------------------------------


def memory_check(seed=0, generations=3, population_size=10):
    """PipelineSearch with and without ``memory=``: wall time and best pipeline."""
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    out = {}
    for label in ("memory=None", "memory=<tmpdir>"):
        with tempfile.TemporaryDirectory() as tmp, threadpool_limits(limits=1):
            search = PipelineSearch(
                task="classification",
                generations=generations,
                population_size=population_size,
                max_time_mins=60,
                cv=5,
                n_jobs=1,
                random_state=seed,
                memory=tmp if label != "memory=None" else None,
            )
            start = time.perf_counter()
            search.fit(X, y)
            seconds = time.perf_counter() - start
            out[label] = {
                "wall_seconds": seconds,
                "evaluated": len(search.results_),
                "best_cv": search.best_score_,
                "best": str(search.best_estimator_.steps),
            }
        print(
            f"{label}: {seconds:.1f}s, {len(search.results_)} evaluated, "
            f"best cv {search.best_score_:.4f}",
            flush=True,
        )
    same = out["memory=None"]["best"] == out["memory=<tmpdir>"]["best"]
    print(f"same best pipeline: {same}")
    for label, r in out.items():
        print(f"{label} best: {r['best']}")
    return out, same


# -- pytest-benchmark (nox -s bench): the three methods once, tiny budget ----------

TINY_BUDGET = 0.25


@pytest.fixture(scope="module")
def credit_split():
    X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def _bench(benchmark, credit_split, method):
    X_tr, X_te, y_tr, y_te = credit_split
    wall = {}

    def fit():
        start = time.perf_counter()
        with threadpool_limits(limits=1):
            model = FIT[method](X_tr, y_tr, "classification", TINY_BUDGET, 0)[0]
        wall["seconds"] = time.perf_counter() - start
        return model

    model = benchmark.pedantic(fit, rounds=1, iterations=1)
    auc = holdout_scores(model, X_te, y_te, "classification", method)["score"]
    benchmark.extra_info["holdout_roc_auc"] = auc
    # Share of the wall budget used, side by side for the three methods.
    used = wall["seconds"] / (TINY_BUDGET * 60)
    benchmark.extra_info["budget_used"] = used
    assert 0.5 < auc <= 1.0
    return used


@pytest.mark.benchmark(group=GROUP)
def test_pipeline_search(benchmark, credit_split):
    benchmark.extra_info["role"] = "mlpipe"
    _bench(benchmark, credit_split, "pipeline_search")


@pytest.mark.benchmark(group=GROUP)
def test_tpot_default(benchmark, credit_split):
    benchmark.extra_info["role"] = "peer"
    _bench(benchmark, credit_split, "tpot_default")


@pytest.mark.benchmark(group=GROUP)
def test_hgb_tuned(benchmark, credit_split):
    benchmark.extra_info["role"] = "peer"
    _bench(benchmark, credit_split, "hgb_tuned")


# -- the time budget: how much of max_time_mins each search uses -------------------

BUDGET_GROUP = "automl: share of a 0.25 min budget used (credit, light space, cv=3)"


@pytest.mark.benchmark(group=BUDGET_GROUP)
def test_time_budget_pipeline_search(benchmark, credit_split):
    # Moved from tests/automl (a wall-clock claim): the budget holds, final
    # refit included, within 10%; with no generation limit the search uses
    # most of it (new candidates start until 80% of it).
    X_tr, _, y_tr, _ = credit_split
    benchmark.extra_info["role"] = "mlpipe"

    def fit():
        return PipelineSearch(
            task="classification",
            search_space="light",
            population_size=6,
            cv=3,
            max_time_mins=TINY_BUDGET,
            random_state=0,
        ).fit(X_tr, y_tr)

    search = benchmark.pedantic(fit, rounds=1, iterations=1)
    used = search.search_seconds_ / (TINY_BUDGET * 60)
    benchmark.extra_info["budget_used"] = used
    assert 0.7 <= used <= 1.1, used


@pytest.mark.benchmark(group=BUDGET_GROUP)
def test_time_budget_tpot(benchmark, credit_split):
    # The peer: TPOT's own estimator with the same budget and evaluation cap.
    X_tr, _, y_tr, _ = credit_split
    benchmark.extra_info["role"] = "peer"
    wall = {}

    def fit():
        start = time.perf_counter()
        model = fit_tpot_default(X_tr, y_tr, "classification", TINY_BUDGET, 0)[0]
        wall["seconds"] = time.perf_counter() - start
        return model

    benchmark.pedantic(fit, rounds=1, iterations=1)
    benchmark.extra_info["budget_used"] = wall["seconds"] / (TINY_BUDGET * 60)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-mins", type=float, default=1.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(FIT))
    parser.add_argument("--out", default=None, help="CSV, appended to row by row")
    parser.add_argument(
        "--summarize",
        nargs="+",
        metavar="CSV",
        help="only print the tables of CSV files written by --out",
    )
    parser.add_argument(
        "--memory-check",
        action="store_true",
        help="only measure step reuse (memory=) on the credit data",
    )
    args = parser.parse_args(argv)
    if args.memory_check:
        memory_check()
        return
    if args.summarize:
        results = pd.concat([pd.read_csv(f) for f in args.summarize], ignore_index=True)
    else:
        results = run(args.datasets, args.seeds, args.budget_mins, args.methods, args.out)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(summarize(results).round(4))
        print(paired(results).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
