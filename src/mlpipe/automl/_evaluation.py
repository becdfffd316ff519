"""How one candidate pipeline is scored: cross-validation over folds fixed at
fit, with the caller's metadata (``sample_weight``, the scorer's metadata)
cut to each fold.

TPOT 1.1 scores a candidate in ``tpot_estimator/cross_val_utils.py``
(``cross_val_score_objective``): ``cv.split(X, y)``, ``fit(X_train, y_train)``
and ``scorer(est, X_test, y_test)``. No groups reach the splitter, no
``sample_weight`` reaches the fit or the scorer, and ``TPOTEstimator.fit``
refits the best pipeline with ``fit(X, y)``. So mlpipe hands TPOT's evolver
(``tpot.evolvers.BaseEvolver``, the engine under ``TPOTEstimator``) its own
objective: :class:`CandidateObjectives`, which fits and scores each candidate
over the folds split once by :func:`make_folds`, as ``GridSearchCV`` does.
"""

import inspect
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import column_or_1d

from mlpipe.utils._sklearn_compat import num_samples


class Folds:
    """The train/test row positions of every fold, and the metadata to cut
    per fold: ``sample_weight`` for the candidates' fit, ``score_params`` for
    the primary scorer (both whole-length; cut with :func:`take`)."""

    def __init__(self, splits, n_samples, sample_weight=None, score_params=None):
        self.splits = splits
        self.n_samples = n_samples
        self.sample_weight = sample_weight
        self.score_params = dict(score_params or {})

    def fit_weight(self, rows):
        return None if self.sample_weight is None else self.sample_weight[rows]

    def score_params_at(self, rows):
        return {k: take(v, rows, self.n_samples) for k, v in self.score_params.items()}


def take(value, rows, n_samples):
    """``value`` at ``rows`` when it has one entry per sample, else unchanged
    (GridSearchCV's rule for fit and score parameters)."""
    if isinstance(value, str) or not hasattr(value, "__len__"):
        return value
    try:
        if num_samples(value) != n_samples:
            return value
    except TypeError:
        return value
    if isinstance(value, (pd.Series, pd.DataFrame)):
        return value.iloc[rows]
    return np.asarray(value)[rows]


def make_folds(cv, X, y, *, classification, random_state, split_params):
    """The folds every candidate is scored on, split once.

    An int ``cv`` means shuffled (stratified, for classification) K-fold, as
    TPOT does; as in TPOT, classes with fewer rows than folds are then left
    out of the cross-validation (they cannot appear in every fold; the final
    refit still sees them). A splitter or an iterable of splits is used as
    given, on every row, with ``split_params`` (``groups``).
    """
    n = len(y)
    if isinstance(cv, Integral):
        splitter = (StratifiedKFold if classification else KFold)(
            n_splits=cv, shuffle=True, random_state=random_state
        )
        keep = np.ones(n, dtype=bool)
        if classification:
            labels, counts = np.unique(y, return_counts=True)
            keep = np.isin(y, labels[counts >= cv])
        rows = np.flatnonzero(keep)
        params = {k: take(v, rows, n) for k, v in split_params.items()}
        splits = splitter.split(X.iloc[rows], y[rows], **params)
        return [(rows[train], rows[test]) for train, test in splits]
    splitter = check_cv(cv, y, classifier=classification)
    return [
        (np.asarray(train), np.asarray(test))
        for train, test in splitter.split(X, y, **split_params)
    ]


def fit_candidate(pipeline, X, y, sample_weight=None):
    """Fit ``pipeline``; ``sample_weight`` weights its learner (the final
    step, in nested pipelines too), the steps before it are fitted unweighted.

    The learner is fitted directly rather than through ``Pipeline.fit``'s
    ``step__sample_weight`` parameters, which metadata routing refuses.
    """
    if sample_weight is None:
        return pipeline.fit(X, y)
    if not isinstance(pipeline, Pipeline):
        return pipeline.fit(X, y, sample_weight=sample_weight)
    if len(pipeline.steps) > 1:
        head = pipeline[:-1]
        X = head.fit_transform(X, y)
        # With `memory`, Pipeline fits clones and stores them in the slice's
        # own list of steps.
        pipeline.steps[:-1] = head.steps
    fit_candidate(pipeline.steps[-1][1], X, y, sample_weight)
    return pipeline


def accepts_sample_weight(estimator_or_class):
    fit = getattr(estimator_or_class, "fit", None)
    return fit is not None and "sample_weight" in inspect.signature(fit).parameters


class CandidateObjectives:
    """TPOT objective function: the cross-validated objectives of one
    candidate, ``[primary score, *other scores]``.

    ``primary(est, X, y, **score_params)`` gets the scorer's metadata of the
    test fold; each of ``others(est, X, y)`` (complexity, fairness) none. A
    class, not a closure, so that dask can send it to worker processes; the
    data (``X``, ``y``, ``folds``) come as TPOT's ``objective_kwargs``.
    """

    # TPOT's time limit (func_timeout) names the function it stopped.
    __name__ = "cross_validated_objectives"

    def __init__(self, primary, others=(), memory=None, config=None):
        self.primary = primary
        self.others = list(others)
        self.memory = memory
        self.config = dict(config or {})

    def __call__(self, individual, X, y, folds, **_):
        # scikit-learn's configuration is per thread: a dask worker runs with
        # the defaults unless it is given the caller's (metadata routing,
        # output container...), as scikit-learn's own Parallel does.
        with config_context(**self.config):
            return self._scores(individual, X, y, folds)

    def _scores(self, individual, X, y, folds):
        pipeline = individual.export_pipeline(memory=self.memory)
        scores = []
        for train, test in folds.splits:
            est = fit_candidate(clone(pipeline), X.iloc[train], y[train], folds.fit_weight(train))
            X_test, y_test = X.iloc[test], y[test]
            fold = [float(self.primary(est, X_test, y_test, **folds.score_params_at(test)))]
            fold += [float(other(est, X_test, y_test)) for other in self.others]
            scores.append(fold)
        return np.mean(scores, axis=0)


def flatten(pipeline):
    """One flat Pipeline with readable step names instead of TPOT's nesting,
    without identity steps."""
    steps = []

    def walk(est):
        if isinstance(est, Pipeline):
            for _, sub in est.steps:
                walk(sub)
        else:
            steps.append(est)

    walk(pipeline)
    # The "no selection" choice is an identity FunctionTransformer: drop it.
    identity = [est for est in steps if isinstance(est, FunctionTransformer) and est.func is None]
    if len(identity) < len(steps):
        steps = [est for est in steps if not any(est is i for i in identity)]
    names, seen = [], {}
    for est in steps:
        name = type(est).__name__.lower()
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}{seen[name]}")
    return Pipeline(list(zip(names, steps, strict=True)))


def individuals(space, rng):
    """The individual generator TPOT's evolver draws its first generation from."""
    while True:
        yield space.generate(rng)


def refit_best(evaluated, names, weights, X, y, sample_weight):
    """The best evaluated pipeline refitted on all of ``X``, ``y``, and its row.

    Best as TPOTEstimator picks it: the weighted objectives sorted
    lexicographically, first objective first; a pipeline that fails on all
    the data (rare: e.g. a selection that keeps no feature) gives way to the
    next one.
    """
    scores = evaluated[names].apply(pd.to_numeric, errors="coerce")
    scores = scores[scores.notna().any(axis=1)]
    order = (scores * weights).sort_values(by=names, ascending=False).index
    errors = []
    for idx in order:
        pipeline = flatten(evaluated.loc[idx, "Individual"].export_pipeline())
        try:
            fit_candidate(pipeline, X, y, sample_weight)
        except Exception as exc:  # a candidate's own failure, as during the search
            errors.append(exc)
            continue
        return pipeline, scores.loc[idx]
    raise ValueError(
        f"None of the {len(order)} evaluated pipelines could be refitted on all the "
        f"data; the first error was: {errors[0] if errors else 'no pipeline was scored'}"
    )


def check_fit_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sample_weight = column_or_1d(sample_weight)
    if sample_weight.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be numeric, got dtype {sample_weight.dtype}.")
    sample_weight = sample_weight.astype(float)
    if len(sample_weight) != n_samples:
        raise ValueError(
            f"sample_weight has {len(sample_weight)} entries but X has {n_samples} rows."
        )
    bad = np.flatnonzero(~np.isfinite(sample_weight) | (sample_weight < 0))
    if len(bad):
        raise ValueError(
            f"sample_weight must be finite and non-negative; {len(bad)} entries are not "
            f"(first at row {bad[0]}: {sample_weight[bad[0]]!r})."
        )
    return sample_weight


def check_learners_take_weights(learner_steps):
    refusing = [
        s.estimator.__name__ for s in learner_steps if not accepts_sample_weight(s.estimator)
    ]
    if refusing:
        raise ValueError(
            f"sample_weight was given, but the learners {refusing} of the search space "
            "take no sample_weight in fit; remove them from search_space['learner']."
        )


def objective_name(scorer):
    """The name TPOT gives a scorer: its metric function's name."""
    func = getattr(scorer, "_score_func", scorer)
    return getattr(func, "__name__", type(func).__name__)


def scorer_accepts_sample_weight(scorer):
    """GridSearchCV's test without routing: the scorer (or its metric
    function) takes ``sample_weight``."""
    func = getattr(scorer, "_score_func", scorer)
    try:
        return "sample_weight" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
