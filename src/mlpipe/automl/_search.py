"""PipelineSearch: evolutionary search over pipelines, on TPOT 1.x."""

import contextlib
import logging
import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score, check_scoring, get_scorer, r2_score
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from threadpoolctl import threadpool_limits

from mlpipe._config import get_config as get_mlpipe_config
from mlpipe.automl._evaluation import (
    CandidateObjectives,
    Folds,
    check_fit_weight,
    check_learners_take_weights,
    individuals,
    make_folds,
    objective_name,
    refit_best,
    scorer_accepts_sample_weight,
)
from mlpipe.automl._export import pipeline_to_code
from mlpipe.automl._results import results_table
from mlpipe.automl._spaces import PRESETS, STAGES, Step, build_space, preset_steps
from mlpipe.automl._steps import TabularEncoder, check_encodable
from mlpipe.automl._tpot import import_tpot
from mlpipe.utils._dataframe import check_frame, check_kinds, column_kind, reject_infinite
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._optional import import_optional
from mlpipe.utils._plain import frame_from_state, frame_state
from mlpipe.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    fit_context,
    routing_enabled,
)


def _best_has(attr):
    """For ``available_if``: the fitted best pipeline has ``attr``; before fit,
    any search that may be a classification one."""

    def check(self):
        if hasattr(self, "best_estimator_"):
            return hasattr(self.best_estimator_, attr)
        return self.task != "regression"

    return check


class PipelineSearch(MlpipeEstimatorMixin, BaseEstimator):
    """Evolutionary search over pipelines of mlpipe and scikit-learn steps.

    Every candidate is ``imputation -> encoding -> selection -> learner``:
    :class:`~mlpipe.impute.TypedImputer` (or KNN / iterative imputation after
    encoding), :class:`TabularEncoder` (one-hot or ordinal, with a scaler),
    optional feature selection, and a linear model, random forest, extra
    trees or histogram gradient boosting (and XGBoost / LightGBM in the
    ``"full"`` preset). TPOT 1.x runs the search (NSGA-II, so accuracy and
    pipeline complexity, and optionally a fairness metric, are traded off
    together). The first generation starts with one default pipeline per
    learner (scikit-learn's default HistGradientBoosting, logistic
    regression, random forest, ...; see ``start_with_defaults``), the rest is
    random. The result, ``best_estimator_``, is a plain scikit-learn
    :class:`~sklearn.pipeline.Pipeline` that needs neither TPOT nor dask.

    Raw DataFrames with missing values and string or categorical columns are
    searched as they are.

    Parameters
    ----------
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` decides from ``y`` at fit: a float target means regression,
        integer, string and boolean labels mean classification (say
        ``"regression"`` for an integer count). Say it explicitly to make
        ``is_classifier`` right before fit (``GridSearchCV`` and
        ``cross_val_score`` stratify by it).

    search_space : {"light", "default", "full"} or dict, default="default"
        Preset of steps; see the user guide for what each holds. A dict
        ``{stage: [Step, ...]}`` replaces the steps of the stages it names
        (``"imputation"``, ``"encoding"``, ``"selection"``, ``"learner"``) and
        keeps a preset's steps for the others: ``"default"``, or the one named
        by the key ``"preset"``.

    extra_steps : list of :class:`Step`, default=None
        Your own steps with their hyperparameter ranges, added to the stage
        each names.

    scoring : str or callable, default=None
        What the search maximises; a scikit-learn scorer name or
        ``scorer(estimator, X, y)``. None means ROC AUC (one-vs-rest for more
        than two classes) for classification, negative mean squared error for
        regression. It is also what :meth:`score` reports.

    cv : int or cross-validation generator, default=5
        Folds of the cross-validation each candidate is scored by.

    max_time_mins : float, default=5
        Wall-clock budget of the whole search, final refit included: new
        candidates start until 80% of it.

    max_eval_time_mins : float, default=1
        Budget of one candidate's cross-validation, capped at a tenth of
        ``max_time_mins``; slower ones are recorded as ``"TIMEOUT"`` and
        dropped.

    generations : int, default=None
        Number of generations; None runs until ``max_time_mins``. Set it to
        get the same best pipeline from the same ``random_state``.

    population_size : int, default=20
        Candidates per generation.

    start_with_defaults : bool, default=True
        Put a default pipeline per learner of the search space at the start
        of the first generation, before the random candidates (what
        auto-sklearn and FLAML do): the first imputer and encoder of their
        stages (``TypedImputer`` with median imputation, then
        ``TabularEncoder`` with standard scaling: ordinal codes for tree
        ensembles where the encoder offers them, i.e. not in ``"light"``,
        one-hot for the others), no feature selection, and the
        learner at its own default hyperparameters (clipped into the step's
        ranges; e.g. scikit-learn's default HistGradientBoosting, logistic
        regression with ``C=1``). Boosting comes first, then linear models,
        then the rest; with a ``population_size`` smaller than the number of
        learners, only the first ones are seeded. Your own learner steps are
        seeded the same way, from their estimator's defaults. Seeds keep the
        whole search space of their steps, so later generations mutate and
        cross them like any other candidate. ``False`` starts from random
        candidates only.

    early_stop : int, default=None
        Stop after this many generations without improvement.

    complexity_objective : bool, default=True
        Also minimise pipeline complexity (TPOT's count of learned
        parameters), so that simpler pipelines win ties.

    fairness : dict, default=None
        A fairness objective to minimise, e.g.
        ``{"metric": "demographic_parity_difference", "sensitive_feature": "sex"}``:
        ``metric`` is the name of a difference metric of
        :mod:`mlpipe.fairness` or a callable
        ``metric(y_true, y_pred, *, sensitive_features)``, and
        ``sensitive_feature`` a column of ``X``. An optional ``pos_label``
        (the favourable label, passed to the metric) is needed for text
        labels: a ``pos_label`` that is not one of the labels of ``y``
        raises at ``fit``.

    n_jobs : int, default=None
        Candidates evaluated at once (dask workers); ``-1`` means one per
        core. ``None`` takes ``mlpipe.get_config()["n_jobs"]`` (set with
        :func:`mlpipe.set_config`), which is 1 unless set. Ignored when
        ``client`` is given.

    processes : bool, default=False
        With ``n_jobs > 1``, run the dask workers as processes rather than
        threads. Processes need the ``if __name__ == "__main__":`` guard in
        scripts; threads (the default) do not.

    client : dask.distributed.Client, default=None
        Evaluate candidates on this dask cluster (several machines).

    memory : str or None, default=None
        Passed to TPOT: a folder where fitted pipeline prefixes are cached and
        shared between candidates.

    random_state : int, default=None
        Seed of the search and of every learner that takes a seed.

    verbose : int, default=0
        0 is silent; 1 shows a progress bar (tqdm) per generation; higher
        values are passed to TPOT.

    Attributes
    ----------
    best_estimator_ : Pipeline
        The best pipeline, refitted on all of ``X`` and ``y``.

    best_score_ : float
        Its cross-validated score under ``scoring``.

    results_ : DataFrame
        Every evaluated pipeline: ``pipeline``, ``generation``, one column per
        objective, ``eval_seconds`` and ``error`` (``"INVALID"`` for a
        candidate that raised, ``"TIMEOUT"`` for one over budget).

    pareto_front_ : DataFrame
        The rows of ``results_`` on the Pareto front of the objectives.

    task_ : {"classification", "regression"}
        The task searched.

    classes_ : ndarray
        Class labels (classification only).

    search_seconds_ : float
        Wall time of the search.

    kinds_ : dict
        The kind of each input column at fit (numeric, categorical, ...);
        a batch whose column changed kind is refused with a TypeError.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    tpot.TPOTEstimator : The engine.
    sklearn.model_selection.GridSearchCV : Exhaustive search over given pipelines.

    Examples
    --------
    >>> from mlpipe.automl import PipelineSearch
    >>> from mlpipe.datasets import load_credit
    >>> X, y = load_credit(return_X_y=True, unknown_as_missing=True)
    >>> search = PipelineSearch(task="classification", search_space="light",
    ...                         generations=1, population_size=4, cv=3,
    ...                         random_state=0).fit(X, y)  # doctest: +SKIP
    >>> search.best_estimator_  # a plain scikit-learn Pipeline  # doctest: +SKIP
    """

    _parameter_constraints = {
        "task": [StrOptions({"auto", "classification", "regression"})],
        "search_space": [StrOptions(set(PRESETS)), dict],
        "extra_steps": [list, None],
        "scoring": [str, callable, None],
        "cv": ["cv_object"],
        "max_time_mins": [Interval(Real, 0, None, closed="neither")],
        "max_eval_time_mins": [Interval(Real, 0, None, closed="neither")],
        "generations": [Interval(Integral, 1, None, closed="left"), None],
        "population_size": [Interval(Integral, 2, None, closed="left")],
        "start_with_defaults": ["boolean"],
        "early_stop": [Interval(Integral, 1, None, closed="left"), None],
        "complexity_objective": ["boolean"],
        "fairness": [dict, None],
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "processes": ["boolean"],
        "client": [HasMethods(["submit"]), None],
        "memory": [str, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    # The search builds its candidates itself and fits them with
    # sample_weight: it consumes it, as LogisticRegressionCV does (fit keeps
    # the GridSearchCV signature fit(X, y=None, **params)).
    __metadata_request__fit = {"sample_weight": None}

    def __init__(
        self,
        *,
        task="auto",
        search_space="default",
        extra_steps=None,
        scoring=None,
        cv=5,
        max_time_mins=5,
        max_eval_time_mins=1,
        generations=None,
        population_size=20,
        start_with_defaults=True,
        early_stop=None,
        complexity_objective=True,
        fairness=None,
        n_jobs=None,
        processes=False,
        client=None,
        memory=None,
        random_state=None,
        verbose=0,
    ):
        self.task = task
        self.search_space = search_space
        self.extra_steps = extra_steps
        self.scoring = scoring
        self.cv = cv
        self.max_time_mins = max_time_mins
        self.max_eval_time_mins = max_eval_time_mins
        self.generations = generations
        self.population_size = population_size
        self.start_with_defaults = start_with_defaults
        self.early_stop = early_stop
        self.complexity_objective = complexity_objective
        self.fairness = fairness
        self.n_jobs = n_jobs
        self.processes = processes
        self.client = client
        self.memory = memory
        self.random_state = random_state
        self.verbose = verbose

    # -- set-up ---------------------------------------------------------------

    def _resolve_task(self, y):
        if self.task != "auto":
            return self.task
        # A float target is a quantity even when its values happen to be whole
        # numbers (diabetes progression, prices); labels are ints, strings, bools.
        if y.dtype.kind == "f":
            return "regression"
        return "classification"

    def _steps(self, classification):
        if isinstance(self.search_space, dict):
            spec = dict(self.search_space)
            steps = preset_steps(spec.pop("preset", "default"), classification=classification)
            for stage, stage_steps in spec.items():
                if stage not in STAGES:
                    raise ValueError(
                        f"search_space names stage {stage!r}; stages are {list(STAGES)}."
                    )
                if not stage_steps:
                    raise ValueError(f"search_space[{stage!r}] must hold at least one Step.")
                steps[stage] = [_check_step(s) for s in stage_steps]
        else:
            steps = preset_steps(self.search_space, classification=classification)
        for step in self.extra_steps or []:
            step = _check_step(step)
            steps[step.stage].append(step)
        return steps

    def _primary_scorer(self, classification, n_classes):
        """``scorer(estimator, X, y, **score_params)`` the search maximises."""
        if self.scoring is not None:
            return get_scorer(self.scoring)
        if classification:
            return get_scorer("roc_auc" if n_classes == 2 else "roc_auc_ovr")
        return get_scorer("neg_mean_squared_error")

    def _fairness_scorer(self, X, y):
        spec = dict(self.fairness)
        unknown = set(spec) - {"metric", "sensitive_feature", "pos_label"}
        if unknown or "sensitive_feature" not in spec:
            raise ValueError(
                "fairness takes {'metric': ..., 'sensitive_feature': <column>, "
                f"'pos_label': <favourable label, optional>}}; got keys {sorted(spec)}."
            )
        column = spec["sensitive_feature"]
        if not isinstance(X, pd.DataFrame) or column not in X.columns:
            raise ValueError(
                f"fairness sensitive_feature={column!r} must be a column of the X "
                "DataFrame given to fit."
            )
        metric = spec.get("metric", "demographic_parity_difference")
        if isinstance(metric, str):
            from mlpipe import fairness as fairness_module

            if not metric.endswith("_difference") or not hasattr(fairness_module, metric):
                raise ValueError(
                    f"fairness metric {metric!r} is not a difference metric of "
                    "mlpipe.fairness; use e.g. 'demographic_parity_difference' or "
                    "'equalized_odds_difference', or pass a callable."
                )
            metric = getattr(fairness_module, metric)
        kwargs = {"pos_label": spec["pos_label"]} if "pos_label" in spec else {}
        try:
            # Once on y itself, so that a label the metric cannot measure (the
            # default pos_label=1 with text labels) fails here, by name, and
            # not in every candidate of the search.
            metric(y, y, sensitive_features=X[column], **kwargs)
        except ValueError as exc:
            raise ValueError(
                f"the fairness objective cannot be computed on y: {exc} In "
                "PipelineSearch, the fairness dict takes it: "
                "fairness={..., 'pos_label': <label>}."
            ) from exc
        return _FairnessScorer(metric, column, kwargs)

    # -- fit ------------------------------------------------------------------

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **params):
        """Search for the best pipeline, then refit it on all of ``X``, ``y``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw training data; missing values and text columns are allowed.

        y : array-like of shape (n_samples,)
            Target (required; ``None`` is refused).

        **params : dict
            Metadata, routed as :class:`~sklearn.model_selection.GridSearchCV`
            routes it:

            - ``sample_weight`` (array-like of shape (n_samples,)) weights the
              learner of every candidate (its final step; the imputation,
              encoding and selection steps are fitted unweighted), in each
              fold and in the final refit. The search builds its candidates
              itself, so it consumes ``sample_weight`` as
              :class:`~sklearn.linear_model.LogisticRegressionCV` does; nested
              in another meta-estimator under metadata routing, say
              ``set_fit_request(sample_weight=True)``. It also reaches the
              scorer of each test fold: without metadata routing when the
              scorer accepts it, with routing when the scorer requests it,
              e.g. ``scoring=get_scorer("roc_auc").set_score_request(
              sample_weight=True)``. The complexity and fairness objectives
              are unweighted.
            - ``groups`` goes to the ``cv`` splitter (e.g.
              :class:`~sklearn.model_selection.GroupKFold`), so no group is
              split between a fold's train and test rows.
            - With ``sklearn.set_config(enable_metadata_routing=True)``, other
              metadata goes to the scorer and the splitter that request it.

        Returns
        -------
        self : object
            The fitted search.
        """
        if y is None:
            raise ValueError("PipelineSearch requires y to be passed, but the target y is None.")
        tpot = import_tpot()
        X = check_frame(self, X, reset=True, min_samples=2)
        reject_infinite(self, X)
        self.kinds_ = {col: column_kind(X[col]) for col in X.columns}
        frame = X
        # Columns are named as given (pandas, polars...); columns that have no
        # string names get the names scikit-learn gives them, x0, x1, ...
        if not hasattr(self, "feature_names_in_"):
            X = X.set_axis([f"x{i}" for i in range(X.shape[1])], axis=1)
        y = _check_y(y, len(X))
        self.task_ = self._resolve_task(y)
        classification = self.task_ == "classification"
        if classification:
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"PipelineSearch needs at least 2 classes in y for classification; "
                    f"got only one class: {self.classes_[0]!r}."
                )
        else:
            y = np.asarray(y, dtype=float)

        primary = self._primary_scorer(classification, len(getattr(self, "classes_", [])))
        sample_weight, split_params, score_params = self._route_metadata(params, primary)
        sample_weight = check_fit_weight(sample_weight, len(X))
        if classification and sample_weight is not None:
            weighted = np.unique(y[sample_weight > 0])
            if len(weighted) < 2:
                raise ValueError(
                    "sample_weight leaves fewer than 2 classes with positive weight "
                    f"(only {list(weighted)}); PipelineSearch needs at least 2 classes "
                    "to search a classifier."
                )
        steps = self._steps(classification)
        if all(issubclass(step.estimator, TabularEncoder) for step in steps["encoding"]):
            # Every candidate would fail on these columns, one by one.
            check_encodable("PipelineSearch", frame, self.kinds_)
        if sample_weight is not None:
            check_learners_take_weights(steps["learner"])

        others, names, weights = [], [objective_name(primary)], [1.0]
        if self.complexity_objective:
            others.append(tpot.objectives.complexity_scorer)
            names.append("complexity_scorer")
            weights.append(-1.0)
        if self.fairness is not None:
            fairness = self._fairness_scorer(X, y)
            others.append(fairness)
            names.append(fairness.__name__)
            weights.append(-1.0)
        space = build_space(steps, self._seed(), seed_defaults=self.start_with_defaults)
        folds = Folds(
            make_folds(
                self.cv,
                X,
                y,
                classification=classification,
                random_state=self._seed(),
                split_params=split_params,
            ),
            len(y),
            sample_weight,
            score_params,
        )

        n_jobs = self._n_jobs()
        start = time.perf_counter()
        with contextlib.ExitStack() as stack:
            # What TPOTEstimator sets (globally, at construction) for its
            # evolver: a worker busy with one long candidate is not declared
            # dead, and a candidate that kills its worker is not retried.
            dask = import_optional("dask", extra="automl", purpose="AutoML")
            stack.enter_context(
                dask.config.set(
                    {
                        "distributed.scheduler.worker-ttl": None,
                        "distributed.scheduler.allowed-failures": 1,
                    }
                )
            )
            # Candidates run one per worker: one BLAS/OpenMP thread each (set
            # here for the final refit, in _local_client for the workers of
            # our own cluster; a cluster passed as `client` is left as it is).
            # A HistGradientBoosting fit with 2 OpenMP threads on 2 shared
            # cores was measured 30-700x slower than with one.
            stack.enter_context(threadpool_limits(limits=1))
            client = (
                self.client
                if self.client is not None
                else stack.enter_context(_local_client(n_jobs, self.processes))
            )
            rng = np.random.default_rng(self._seed())
            evolver = tpot.evolvers.BaseEvolver(
                individual_generator=individuals(space, rng),
                objective_functions=[
                    CandidateObjectives(primary, others, memory=self.memory, config=get_config())
                ],
                objective_function_weights=weights,
                objective_names=names,
                objective_kwargs={
                    "X": client.scatter(X),
                    "y": client.scatter(y),
                    "folds": client.scatter(folds),
                },
                population_size=self.population_size,
                generations=self.generations,
                # New evaluations stop at 80% of the budget: a running one may
                # overrun by its own limit (below), and the final refit of the
                # best pipeline on all the data needs the rest.
                max_time_mins=0.8 * self.max_time_mins,
                # TPOT looks at the clock only when a candidate finishes or hits
                # its own limit, so one candidate may overrun the budget by its
                # limit: capping it at a tenth of the budget keeps that within 10%.
                max_eval_time_mins=min(self.max_eval_time_mins, self.max_time_mins / 10),
                early_stop=self.early_stop,
                n_jobs=n_jobs,
                client=client,
                verbose=self.verbose,
                rng=rng,
            )
            try:
                evolver.optimize()
            except Exception as exc:
                if "No individuals could be evaluated" not in str(exc):
                    raise
                raise self._nothing_evaluated(len(y)) from exc
            evaluated = evolver.population.evaluated_individuals.copy()
            scored = evaluated[names].apply(pd.to_numeric, errors="coerce").notna().any(axis=1)
            if not scored.any():
                raise self._nothing_evaluated(len(y))
            tpot.utils.get_pareto_frontier(evaluated, column_names=names, weights=weights)
            self.best_estimator_, best = refit_best(evaluated, names, weights, X, y, sample_weight)
        self.search_seconds_ = time.perf_counter() - start

        self.results_ = results_table(evaluated, names)
        self.pareto_front_ = self.results_[self.results_["pareto_front"]].drop(
            columns="pareto_front"
        )
        self.best_score_ = float(best[names[0]])
        self.objective_names_ = names
        return self

    def _nothing_evaluated(self, n_rows):
        return ValueError(
            f"None of the {self.population_size} pipelines of the first "
            "generation could be evaluated on this data: each raised an error "
            "or ran over the time limit of one candidate (max_eval_time_mins="
            f"{min(self.max_eval_time_mins, self.max_time_mins / 10):g}). Check "
            f"that cross-validation can split y (cv={self.cv!r}, {n_rows} rows), "
            "that every test fold can be scored (with sample_weight: by rows of "
            "positive weight), and that X is valid for imputation and encoding; "
            "fitting one pipeline by hand shows the error."
        )

    def _route_metadata(self, params, scorer):
        """``(sample_weight, split params, score params)`` from fit's metadata:
        with routing, where the splitter and the scorer request it; without,
        as GridSearchCV does (``groups`` to the splitter, ``sample_weight`` to
        the scorer when it accepts it)."""
        if routing_enabled():
            routed = process_routing(self, "fit", **params)
            return (
                params.get("sample_weight"),
                dict(routed.splitter.split),
                dict(routed.scorer.score),
            )
        unknown = set(params) - {"sample_weight", "groups"}
        if unknown:
            raise ValueError(
                f"PipelineSearch.fit got {sorted(unknown)}; without metadata routing it "
                "takes sample_weight and groups only. To pass metadata that the scorer "
                "or the cv splitter request, enable routing with "
                "sklearn.set_config(enable_metadata_routing=True)."
            )
        sample_weight = params.get("sample_weight")
        split_params = {"groups": params["groups"]} if params.get("groups") is not None else {}
        score_params = {}
        if sample_weight is not None:
            if scorer_accepts_sample_weight(scorer):
                score_params["sample_weight"] = sample_weight
            else:
                warnings.warn(
                    f"The scoring {scorer} does not support sample_weight, which may "
                    "lead to statistically incorrect results when fitting PipelineSearch "
                    "with sample_weight.",
                    UserWarning,
                    stacklevel=3,
                )
        return sample_weight, split_params, score_params

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        The search consumes ``sample_weight`` in ``fit`` (for its
        candidates); the scorer and the ``cv`` splitter get what they request.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating the routing information.
        """
        task = getattr(self, "task_", self.task)
        scorer = self._primary_scorer(task != "regression", len(getattr(self, "classes_", "ab")))
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(scorer=scorer, method_mapping=MethodMapping().add(caller="fit", callee="score"))
            .add(splitter=self.cv, method_mapping=MethodMapping().add(caller="fit", callee="split"))
        )

    # The tables of the search are DataFrames, which skops cannot save: a
    # saved search keeps them as plain data.
    _TABLES = ("results_", "pareto_front_")

    def __getstate__(self):
        # A copy: object.__getstate__ returns the __dict__ itself.
        state = dict(super().__getstate__())
        for name in self._TABLES:
            if isinstance(state.get(name), pd.DataFrame):
                state[name] = frame_state(state[name])
        return state

    def __setstate__(self, state):
        state = dict(state)
        for name in self._TABLES:
            if isinstance(state.get(name), dict):
                state[name] = frame_from_state(state[name])
        super().__setstate__(state)

    def _n_jobs(self):
        """The number of workers: ``n_jobs``, else mlpipe's ``n_jobs`` setting
        (1 when unset); negative counts from the number of cores."""
        n_jobs = get_mlpipe_config()["n_jobs"] if self.n_jobs is None else self.n_jobs
        return 1 if n_jobs is None else effective_n_jobs(n_jobs)

    def _seed(self):
        """The seed handed to TPOT and the learners (None stays None)."""
        if self.random_state is None or isinstance(self.random_state, Integral):
            return self.random_state
        return int(np.random.RandomState(self.random_state).randint(2**31 - 1))

    # -- the fitted pipeline ---------------------------------------------------

    def _input(self, X):
        check_is_fitted(self, "best_estimator_")
        X = check_frame(self, X, reset=False)
        reject_infinite(self, X)
        X = check_kinds(self, X, self.kinds_)
        if not hasattr(self, "feature_names_in_"):
            X = X.set_axis([f"x{i}" for i in range(X.shape[1])], axis=1)
        return X

    def predict(self, X):
        """Predict with the best pipeline.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw data with the columns seen at fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predictions of ``best_estimator_``: class labels for a
            classification search, values for a regression search.
        """
        X = self._input(X)
        return self.best_estimator_.predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the best pipeline.

        Only available when the best pipeline has ``predict_proba`` (a
        classification search whose learner has it).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw data with the columns seen at fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, columns in the order of
            ``classes_``.
        """
        X = self._input(X)
        return self.best_estimator_.predict_proba(X)

    @available_if(_best_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log of the class probabilities from the best pipeline.

        Only available when the best pipeline has ``predict_log_proba``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw data with the columns seen at fit.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, columns in the order of
            ``classes_``.
        """
        X = self._input(X)
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_best_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the best pipeline.

        Only available when the best pipeline has ``decision_function`` (e.g.
        a linear model or gradient boosting, not a random forest).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw data with the columns seen at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The best pipeline's ``decision_function``: one score per row for
            two classes (positive favours ``classes_[1]``), one per class
            otherwise.
        """
        X = self._input(X)
        return self.best_estimator_.decision_function(X)

    def score(self, X, y):
        """Score the best pipeline on ``X`` and ``y``.

        The score is ``scoring`` if given, else accuracy (classification) or
        R² (regression), as scikit-learn estimators do.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw data with the columns seen at fit.

        y : array-like of shape (n_samples,)
            True targets.

        Returns
        -------
        score : float
            The score of ``best_estimator_``; higher is better.
        """
        X = self._input(X)
        if self.scoring is not None:
            return float(
                check_scoring(self.best_estimator_, self.scoring)(self.best_estimator_, X, y)
            )
        y_pred = self.best_estimator_.predict(X)
        if self.task_ == "classification":
            return float(accuracy_score(y, y_pred))
        return float(r2_score(y, y_pred))

    def export(self, path=None):
        """Write a Python script that rebuilds the best pipeline with plain imports.

        Parameters
        ----------
        path : str or path-like, default=None
            Where to write it; None only returns the code.

        Returns
        -------
        code : str
            The script. It defines ``make_pipeline()`` and, run as a program
            with a CSV file and a target column, fits and saves the pipeline.
        """
        check_is_fitted(self, "best_estimator_")
        code = pipeline_to_code(
            self.best_estimator_,
            header=(
                f"Best pipeline found by mlpipe.automl.PipelineSearch "
                f"(cross-validated {self.objective_names_[0]} = {self.best_score_:.4f}, "
                f"{len(self.results_)} pipelines evaluated)."
            ),
        )
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(code)
        return code

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, RegressorTags

        tags = super().__sklearn_tags__()
        task = getattr(self, "task_", self.task)
        if task == "classification":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        elif task == "regression":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        return tags


@contextlib.contextmanager
def _local_client(n_jobs, processes):
    """A dask cluster on this machine for one search: no dashboard web server,
    quiet logs, closed afterwards."""
    distributed = import_optional("distributed", extra="automl", purpose="AutoML")
    with (
        distributed.LocalCluster(
            n_workers=n_jobs,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # Thread limits of OpenMP and BLAS belong to a thread: the one set in
        # fit() does not reach the workers' threads, where a new thread starts
        # with as many OpenMP threads as cores. Each worker has one thread;
        # it sets the limit once, for every candidate it will run.
        workers = list(client.scheduler_info()["workers"])
        client.gather(
            [
                client.submit(_one_thread, pure=False, workers=[w], allow_other_workers=False)
                for w in workers
            ]
        )
        yield client


def _one_thread():
    """Limit BLAS and OpenMP to one thread in the calling thread, for good."""
    threadpool_limits(limits=1)
    return True


def _check_step(step):
    if not isinstance(step, Step):
        raise TypeError(
            f"search spaces take mlpipe.automl.Step objects, got {step!r}; "
            "e.g. Step(SVC, {'C': (0.01, 100.0, 'log')})."
        )
    return step


class _FairnessScorer:
    """``scorer(estimator, X, y)``: a fairness difference of the predictions on
    a fold, across the groups of one column of ``X``. A class (not a closure)
    so that dask can send it to worker processes."""

    def __init__(self, metric, column, kwargs):
        self.metric = metric
        self.column = column
        self.kwargs = kwargs
        self.__name__ = getattr(metric, "__name__", "fairness")

    def __call__(self, estimator, X, y):
        predicted = estimator.predict(X)
        return float(self.metric(y, predicted, sensitive_features=X[self.column], **self.kwargs))


def _check_y(y, n_samples):
    y = column_or_1d(y, warn=True)
    if len(y) != n_samples:
        raise ValueError(f"X has {n_samples} rows but y has {len(y)}.")
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinity; drop or fill those rows first.")
    if y.dtype == object and pd.isna(y).any():
        raise ValueError("y contains missing values; drop those rows first.")
    return y
