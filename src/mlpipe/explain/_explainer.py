"""PipelineExplainer and explain(): SHAP values of a whole fitted pipeline in
the user's raw column names."""

import logging
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from mlpipe.explain._explanation import Explanation, reason_codes_of
from mlpipe.explain._folding import FoldingError, fold_values, source_columns
from mlpipe.utils._dataframe import as_frame
from mlpipe.utils._monitoring import suspended
from mlpipe.utils._optional import import_optional
from mlpipe.utils._scalar import python_scalar
from mlpipe.utils._sklearn_compat import (
    HasMethods,
    Interval,
    LinearClassifierMixin,
    LinearModel,
    StrOptions,
    check_is_fitted,
    validate_params,
)

METHODS = ("auto", "tree", "linear", "kernel", "exact")
OUTPUTS = ("auto", "probability", "log_odds", "predict")
# All four methods are additive by construction (TreeSHAP and LinearSHAP
# exactly, Kernel SHAP by a constraint of its regression, Exact by a
# telescoping sum); what is left is float rounding. The check is
# |base + sum(values) - output| <= TOLERANCE * max(1, |output|).
TOLERANCE = 1e-6
AUDIT_LOGGER = "mlpipe.explain.audit"

_PURPOSE = "explaining models"


def _shap():
    with warnings.catch_warnings():
        # shap's colour maps use matplotlib API that matplotlib marks as
        # pending deprecation; that is shap's business, not the user's.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return import_optional("shap", purpose=_PURPOSE)


class PipelineExplainer:
    """Explain a fitted pipeline's predictions in its raw input columns.

    Wraps shap so that a whole scikit-learn ``Pipeline`` (a
    ``ColumnTransformer`` with encoders, scalers and mlpipe's imputers and
    validators, then a model) is explained as the user sees it: one SHAP
    value per raw input column, one-hot columns and missing indicators
    summed back into the column they came from. Build it once with a
    background sample, then call :meth:`explain` or :meth:`predict` on
    every batch.

    Parameters
    ----------
    model : fitted estimator or Pipeline
        A classifier or a single-output regressor, fitted.

    background : DataFrame of shape (n_background, n_features), default=None
        Rows that stand for "feature unknown" (a sample of the training
        data); the base value is the model's mean output over them. At most
        ``max_background`` rows are used, drawn with ``random_state``. Tree
        models use it only to explain boosted trees' probabilities;
        otherwise TreeSHAP's path-dependent algorithm takes the training
        distribution recorded in the trees. None uses the explained batch
        itself where a background is needed.

    method : {"auto", "tree", "linear", "kernel", "exact"}, default="auto"
        ``"tree"``: shap's TreeExplainer on the transformed data;
        ``"linear"``: shap's LinearExplainer on the transformed data;
        ``"kernel"``: shap's KernelExplainer on the raw frame, string and
        categorical columns included; it enumerates every coalition, so
        gives exact Shapley values, up to 11 raw columns and samples 2059
        coalitions beyond; ``"exact"``: shap's Exact explainer on the raw
        frame (the same values as kernel up to 11 columns; shap compiles it
        with numba on first use, about 10 s per process). ``"auto"`` picks
        tree, then linear, when the model is one and the output is one they
        explain exactly, else kernel (also when the data reaching the model
        turns out not to be numeric: a model that takes text itself).

    output : {"auto", "probability", "log_odds", "predict"}, default="auto"
        What to explain. ``"probability"``: ``predict_proba``;
        ``"log_odds"``: ``decision_function`` (the log-odds for logistic
        regression and gradient boosting, per-class logits for their
        multiclass forms, a margin for an SVM); ``"predict"``: regression
        predictions. ``"auto"``: ``"predict"`` for regressors;
        ``"log_odds"`` for classifiers with a ``decision_function``, else
        ``"probability"``.

    max_background : int, default=100
        Most background rows used; model-agnostic explainers cost one model
        call per background row per coalition.

    audit_log : bool or logging.Logger, default=False
        If set, :meth:`predict` logs one INFO record per prediction with its
        top ``n_reasons`` reasons, to the logger ``"mlpipe.explain.audit"``
        (True) or to the given logger.

    n_reasons : int, default=3
        Number of reasons logged per prediction.

    random_state : int, RandomState instance or None, default=0
        Seed of the background draw and of Kernel SHAP's coalition sample.

    Attributes
    ----------
    method_ : str
        The method used.

    output_ : str
        The output explained.

    feature_names_ : list of str
        The raw input columns.

    See Also
    --------
    explain : One call for one batch.
    Explanation : The result.

    Notes
    -----
    Every explanation is checked: for each row, the SHAP values plus the base
    value must equal the model's output to ``1e-6`` (relative for outputs
    larger than 1), or a ``ValueError`` says where they differ. A raw column
    the pipeline drops gets SHAP values of 0. A step that mixes columns (PCA,
    polynomial features) cannot be folded back; ``"auto"`` then explains the
    raw frame with a model-agnostic explainer.

    Examples
    --------
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.explain import PipelineExplainer
    >>> X, y = load_credit(return_X_y=True)
    >>> pre = make_column_transformer(
    ...     (OneHotEncoder(), ["sex", "housing", "purpose"]),
    ...     (StandardScaler(), ["age", "duration", "credit_amount"]))
    >>> model = make_pipeline(pre, LogisticRegression()).fit(X, y)
    >>> explainer = PipelineExplainer(model, background=X)
    >>> explanation = explainer.explain(X.iloc[:5])
    >>> explainer.method_, explanation.values.shape
    ('linear', (5, 9))
    >>> explanation.feature_names[:3]
    ['sex', 'job', 'housing']
    """

    def __init__(
        self,
        model,
        *,
        background=None,
        method="auto",
        output="auto",
        max_background=100,
        audit_log=False,
        n_reasons=3,
        random_state=0,
    ):
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}.")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {list(OUTPUTS)}, got {output!r}.")
        if not isinstance(max_background, Integral) or max_background < 1:
            raise ValueError(f"max_background must be a positive int, got {max_background!r}.")
        if not isinstance(n_reasons, Integral) or n_reasons < 1:
            raise ValueError(f"n_reasons must be a positive int, got {n_reasons!r}.")
        if not (isinstance(audit_log, bool | logging.Logger)):
            raise TypeError(f"audit_log must be a bool or a logging.Logger, got {audit_log!r}.")
        check_is_fitted(model)
        self.model = model
        self.method = method
        self.output = output
        self.max_background = max_background
        self.audit_log = audit_log
        self.n_reasons = n_reasons
        self.random_state = random_state

        if isinstance(model, Pipeline):
            self._pre = model[:-1] if len(model) > 1 else None
            self._final = model[-1]
        else:
            self._pre, self._final = None, model
        self._has_names = hasattr(model, "feature_names_in_")
        n = getattr(model, "n_features_in_", None)
        if self._has_names:
            self.feature_names_ = [str(c) for c in model.feature_names_in_]
        elif n is not None:
            self.feature_names_ = [f"x{i}" for i in range(n)]
        else:
            raise ValueError(
                f"{type(model).__name__} has no n_features_in_; mlpipe.explain needs a "
                "fitted scikit-learn estimator or Pipeline."
            )
        self.output_ = self._resolve_output()
        self.background = background
        self._background = None
        if background is not None:
            bg = self._check_X(background, "background")
            self._background = _sample(bg, max_background, random_state)
        self._tree_output = None
        self._cached = None  # the shap explainer, when it does not depend on X
        self.method_ = self._resolve_method()

    # -- resolution ---------------------------------------------------------

    def _resolve_output(self):
        model, output = self.model, self.output
        if is_classifier(model):
            self.classes_ = list(model.classes_)
            self._binary = len(self.classes_) == 2
            if output == "auto":
                output = "log_odds" if hasattr(model, "decision_function") else "probability"
            if output == "predict":
                raise ValueError(
                    "output='predict' explains a regressor; for a classifier use "
                    "'probability' or 'log_odds'."
                )
            method = "predict_proba" if output == "probability" else "decision_function"
            if not hasattr(model, method):
                raise ValueError(
                    f"output={output!r} needs {type(model).__name__}.{method}, which this "
                    "model does not have (an SVC needs probability=True for "
                    "predict_proba; a random forest has no decision_function)."
                )
            self.output_names_ = [self.classes_[1]] if self._binary else self.classes_
            return output
        if not is_regressor(model):
            raise TypeError(
                f"{type(model).__name__} is neither a classifier nor a regressor; "
                "mlpipe.explain explains predictions of either."
            )
        if output not in ("auto", "predict"):
            raise ValueError(
                f"output={output!r} is for classifiers; a regressor explains 'predict'."
            )
        self._binary = False
        self.output_names_ = ["prediction"]
        return "predict"

    def _resolve_method(self):
        method = self.method
        if method in ("kernel", "exact"):
            return method
        if method == "auto" or method == "tree":
            why = self._tree_obstacle()
            if why is None:
                return "tree"
            if method == "tree":
                raise self._error_class(why)(f"method='tree' cannot explain this model: {why}")
        if method == "auto" or method == "linear":
            why = self._linear_obstacle()
            if why is None:
                return "linear"
            if method == "linear":
                raise self._error_class(why)(f"method='linear' cannot explain this model: {why}")
        return "kernel"

    def _fold_obstacle(self):
        try:
            self._sources = source_columns(self._pre, len(self.feature_names_))
        except FoldingError as exc:
            self._fold_error = str(exc)
            return self._fold_error
        return None

    def _error_class(self, why):
        return FoldingError if why == getattr(self, "_fold_error", None) else ValueError

    def _tree_obstacle(self):
        shap = _shap()
        try:
            probe = shap.TreeExplainer(self._final)
        except Exception as exc:  # shap raises several types for unsupported models
            return f"shap's TreeExplainer does not support {type(self._final).__name__} ({exc})."
        categorical = getattr(self._final, "is_categorical_", None)
        if categorical is not None and np.any(categorical):
            return (
                f"{type(self._final).__name__} splits natively on categorical "
                "features, which shap's TreeExplainer reads as numeric thresholds."
            )
        tree_output = probe.model.tree_output
        wanted = {
            "probability": ("probability", "log_odds"),
            "log_odds": ("log_odds",),
            "predict": ("raw_value",),
        }[self.output_]
        if tree_output not in wanted:
            return (
                f"its trees hold {tree_output} values, from which TreeSHAP cannot "
                f"explain output={self.output_!r} exactly."
            )
        self._tree_output = tree_output
        if self._tree_needs_background() and len(self.output_names_) > 1:
            return (
                "TreeSHAP explains the probabilities of boosted trees for binary "
                "classification only."
            )
        why = self._fold_obstacle()
        if why is None and not self._tree_needs_background():
            self._cached = probe  # path-dependent: the probe is the explainer
        return why

    def _tree_needs_background(self):
        return self._tree_output == "log_odds" and self.output_ == "probability"

    def _linear_obstacle(self):
        final = self._final
        if not isinstance(final, LinearClassifierMixin | LinearModel):
            return f"{type(final).__name__} is not a linear model."
        if self.output_ == "probability":
            return "LinearSHAP explains the linear output (log-odds), not probabilities."
        if is_regressor(final) and np.ndim(final.coef_) > 1 and np.shape(final.coef_)[0] > 1:
            return "multi-output regression is not supported."
        return self._fold_obstacle()

    # -- input --------------------------------------------------------------

    def _check_X(self, X, what="X"):
        # An array's columns are the model's, by position: as_frame labels them
        # with its names and checks their count (x0, x1, ... for a model fitted
        # without names, which then keeps positions as labels).
        frame = as_frame(X, names=self.feature_names_, caller="the model", what=what)
        labelled = isinstance(X, pd.DataFrame) or hasattr(X, "to_pandas")
        if not self._has_names and not labelled:
            frame = frame.set_axis(range(frame.shape[1]), axis=1)
        if len(frame) == 0:
            raise ValueError(f"{what} has 0 rows; there is nothing to explain.")
        if self._has_names:
            missing = [c for c in self.feature_names_ if c not in frame.columns]
            if missing:
                raise ValueError(f"{what} lacks column(s) {missing} that the model was fitted on.")
            unseen = [c for c in frame.columns if str(c) not in self.feature_names_]
            if unseen:
                raise ValueError(
                    f"{what} has column(s) {unseen} unseen at fit; pass only the "
                    f"model's columns {self.feature_names_}."
                )
            if [str(c) for c in frame.columns] != self.feature_names_:
                raise ValueError(
                    f"{what} has the model's columns in another order; select them "
                    f"in the order seen at fit: X[{self.feature_names_}]."
                )
        return frame

    def _model_input(self, frame):
        return frame if self._has_names else frame.to_numpy()

    def _output_of(self, estimator, X):
        if self.output_ == "probability":
            proba = np.asarray(estimator.predict_proba(X), dtype=float)
            return proba[:, 1] if self._binary else proba
        if self.output_ == "log_odds":
            return np.asarray(estimator.decision_function(X), dtype=float)
        pred = np.asarray(estimator.predict(X), dtype=float)
        if pred.ndim == 2 and pred.shape[1] == 1:
            pred = pred[:, 0]
        if pred.ndim != 1:
            raise ValueError("mlpipe.explain explains single-output regressors only.")
        return pred

    # -- explaining ---------------------------------------------------------

    def explain(self, X):
        """Explain the model's output on ``X``.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Raw rows, as given to the model's ``predict``. Not modified.

        Returns
        -------
        explanation : Explanation
            SHAP values per raw column; values plus base value equal the
            model's output on every row (checked).

        Notes
        -----
        The background and the perturbed rows the explainer runs through
        the pipeline are not production traffic: a
        :class:`~mlpipe.drift.DriftMonitor` in it records none of them and
        calls no callback, and a :class:`~mlpipe.validation.SchemaValidator`
        checks them but keeps its ``last_report_``.
        """
        frame = self._check_X(X)
        with suspended():
            return self._explain(frame)

    def _explain(self, frame):
        if self.method_ in ("tree", "linear"):
            try:
                values, base, expected = self._explain_transformed(frame)
            except _NotNumeric as exc:
                if self.method != "auto":
                    raise ValueError(
                        f"method={self.method!r} cannot explain this model: {exc}"
                    ) from None
                # Only now is it known that the model takes text: explain the
                # raw frame instead, from now on.
                self.method_ = "kernel"
                values, base, expected = self._explain_raw(frame)
        else:
            values, base, expected = self._explain_raw(frame)
        total = base + values.sum(axis=1)
        error = np.abs(total - expected)
        scaled = error / np.maximum(1.0, np.abs(expected))
        if not np.all(scaled <= TOLERANCE):
            worst = np.unravel_index(int(np.argmax(scaled)), scaled.shape)
            raise ValueError(
                f"SHAP values do not add up to the model output: in row {worst[0]} "
                f"(label {frame.index[worst[0]]!r}) base + values = {total[worst]:.8g} but "
                f"the model gives {expected[worst]:.8g} (method={self.method_!r}). "
                "This is a bug in mlpipe.explain or shap; please report it."
            )
        return Explanation(
            values=values,
            base_values=base,
            data=frame.copy(),
            feature_names=list(self.feature_names_),
            output=self.output_,
            output_names=list(self.output_names_),
            method=self.method_,
            tolerance=TOLERANCE,
            max_additivity_error=float(error.max()),
        )

    def __call__(self, X):
        """Same as :meth:`explain`."""
        return self.explain(X)

    def _background_for(self, frame):
        if self._background is not None:
            return self._background
        return _sample(frame, self.max_background, self.random_state)

    def _background_matrix(self, frame, dense):
        """The transformed background; without one of its own, the batch
        itself when it is small enough, whose transform is ``dense`` already
        (a wide encoder is slow to run twice)."""
        background = self._background_for(frame)
        if background is frame:
            return dense
        return self._transform(background)[1]

    def _transform(self, frame):
        X_in = self._model_input(frame)
        Xt = self._pre.transform(X_in) if self._pre is not None else X_in
        dense = Xt.toarray() if hasattr(Xt, "toarray") else Xt
        try:
            return Xt, np.asarray(dense, dtype=float)
        except (TypeError, ValueError) as exc:
            raise _NotNumeric(
                f"the data reaching {type(self._final).__name__} is not numeric ({exc})."
            ) from None

    def _explain_transformed(self, frame):
        shap = _shap()
        Xt, dense = self._transform(frame)
        expected = self._output_of(self._final, Xt)
        if self.method_ == "tree":
            # Path-dependent TreeSHAP needs no background (the trees record how
            # the training data split) and is exact; the interventional one
            # is needed only to explain boosted trees' log-odds as
            # probabilities (in shap 0.51 it is not additive for multiclass).
            if not self._tree_needs_background():
                explainer = self._cached or shap.TreeExplainer(
                    self._final, feature_perturbation="tree_path_dependent"
                )
                self._cached = explainer
            elif self._cached is not None:
                explainer = self._cached
            else:
                bg = self._background_matrix(frame, dense)
                explainer = shap.TreeExplainer(
                    self._final,
                    data=bg,
                    feature_perturbation="interventional",
                    model_output="probability",
                )
                if self._background is not None:
                    self._cached = explainer
            raw = explainer.shap_values(dense, check_additivity=False)
        else:
            if self._cached is not None:
                explainer = self._cached
            else:
                bg = self._background_matrix(frame, dense)
                explainer = shap.LinearExplainer(self._final, bg)
                if self._background is not None:
                    self._cached = explainer
            raw = explainer.shap_values(dense)
        values, base = self._shape(
            np.asarray(raw, dtype=float), explainer.expected_value, len(frame)
        )
        values = fold_values(values, self._sources, len(self.feature_names_))
        return values, base, expected

    def _shape(self, values, expected_value, n):
        """Bring shap's output to (n, f) / (n,) or (n, f, K) / (n, K)."""
        base = np.asarray(expected_value, dtype=float).reshape(-1)
        if values.ndim == 3 and values.shape[2] == 1:
            values = values[:, :, 0]
        if self._binary and values.ndim == 3 and values.shape[2] == 2:
            values, base = values[:, :, 1], base[1:]
        if values.ndim == 2:
            return values, np.full(n, base[0])
        return values, np.tile(base, (n, 1))

    def _explain_raw(self, frame):
        shap = _shap()
        background = self._background_for(frame)
        codec = _Codec([background, frame], frame)
        bg_codes, X_codes = codec.codes[: len(background)], codec.codes[len(background) :]
        model = self.model

        def predict(Z):
            # Masked rows repeat whenever a background row agrees with the
            # explained one; the model sees each distinct row once.
            unique, inverse = np.unique(Z, axis=0, return_inverse=True)
            out = self._output_of(model, self._model_input(codec.decode(unique)))
            return out[inverse.reshape(-1)]

        expected = self._output_of(model, self._model_input(frame))
        if self.method_ == "exact":
            masker = shap.maskers.Independent(bg_codes, max_samples=len(bg_codes))
            result = shap.explainers.Exact(predict, masker)(X_codes, silent=True)
            values = np.asarray(result.values, dtype=float)
            base = np.asarray(result.base_values, dtype=float)
            if values.ndim == 3 and values.shape[2] == 1:
                values, base = values[:, :, 0], base.reshape(len(frame), -1)[:, 0]
            return values, base, expected
        # Kernel SHAP samples coalitions with numpy's global generator when it
        # cannot enumerate them all: seed it, and give the caller's state back.
        state = np.random.get_state()  # noqa: NPY002
        try:
            np.random.seed(check_random_state(self.random_state).randint(2**31 - 1))  # noqa: NPY002
            explainer = shap.KernelExplainer(predict, bg_codes)
            raw = explainer.shap_values(X_codes, l1_reg=False, silent=True)
        finally:
            np.random.set_state(state)  # noqa: NPY002
        values, base = self._shape(
            np.asarray(raw, dtype=float), explainer.expected_value, len(frame)
        )
        return values, base, expected

    # -- predictions with an audit trail --------------------------------------

    def predict(self, X):
        """Predict with the model; with ``audit_log`` set, log why.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Raw rows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``model.predict(X)``, unchanged.

        Notes
        -----
        Each logged record's message reads ``row=<label> prediction=<y>
        output=<explained output> reasons: <reason codes>``, and the record
        carries the same as a dict in its ``mlpipe_audit`` attribute for
        structured log handlers.
        """
        frame = self._check_X(X)
        y_pred = self.model.predict(self._model_input(frame))
        if self.audit_log is False:
            return y_pred
        logger = (
            self.audit_log
            if isinstance(self.audit_log, logging.Logger)
            else logging.getLogger(AUDIT_LOGGER)
        )
        if not logger.isEnabledFor(logging.INFO):
            return y_pred
        explanation = self.explain(frame)
        outputs = explanation.model_output()
        for i, label in enumerate(frame.index):
            reasons = explanation.reasons(i, self.n_reasons)
            codes = reason_codes_of(reasons)
            out = outputs[i]
            shown = (
                f"{out:.4g}"
                if np.ndim(out) == 0
                else "[" + ", ".join(f"{o:.4g}" for o in out) + "]"
            )
            record = {
                "row": label,
                "prediction": python_scalar(y_pred[i]),
                "output": self.output_,
                "value": np.asarray(out).tolist(),
                "reasons": reasons[["feature", "value", "contribution"]].to_dict("records"),
            }
            logger.info(
                "row=%s prediction=%s %s=%s reasons: %s",
                label,
                record["prediction"],
                self.output_,
                shown,
                "; ".join(codes),
                extra={"mlpipe_audit": record},
            )
        return y_pred


@validate_params(
    {
        "model": [HasMethods(["predict"])],
        "X": ["array-like"],
        "background": ["array-like", None],
        "method": [StrOptions(set(METHODS))],
        "output": [StrOptions(set(OUTPUTS))],
        "max_background": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def explain(
    model, X, *, background=None, method="auto", output="auto", max_background=100, random_state=0
):
    """Explain a fitted pipeline's output on ``X`` in its raw input columns.

    A shortcut for ``PipelineExplainer(model, ...).explain(X)``; see
    :class:`PipelineExplainer` for the parameters.

    Parameters
    ----------
    model : fitted estimator or Pipeline
        The model to explain.

    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Raw rows to explain.

    background : {array-like, DataFrame}, default=None
        Rows standing for "feature unknown"; None uses ``X`` where one is
        needed (pass a training sample to explain a few rows).

    method : {"auto", "tree", "linear", "kernel", "exact"}, default="auto"
        The shap algorithm.

    output : {"auto", "probability", "log_odds", "predict"}, default="auto"
        What to explain.

    max_background : int, default=100
        Most background rows used.

    random_state : int, RandomState instance or None, default=0
        Seed of the background draw and of Kernel SHAP's coalition sample.

    Returns
    -------
    explanation : Explanation
        The SHAP values of every row of ``X``, one per raw input column,
        with the base values, the explained rows and the method used.

    See Also
    --------
    PipelineExplainer : The explainer to keep when explaining many batches.
    Explanation : What is returned: importances, reasons and plots.

    Examples
    --------
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> from mlpipe.datasets import CREDIT_CATEGORICAL, load_credit
    >>> from mlpipe.explain import explain
    >>> X, y = load_credit(return_X_y=True)
    >>> pre = make_column_transformer(
    ...     (OneHotEncoder(), list(CREDIT_CATEGORICAL)), remainder="passthrough")
    >>> forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
    >>> model = make_pipeline(pre, forest).fit(X, y)
    >>> explanation = explain(model, X.iloc[:100])
    >>> explanation.method, explanation.output
    ('tree', 'probability')
    >>> explanation.importance().index[0]
    'checking_account'
    >>> explanation.reasons(0, n=2)["feature"].tolist()
    ['checking_account', 'duration']
    """
    explainer = PipelineExplainer(
        model,
        background=background,
        method=method,
        output=output,
        max_background=max_background,
        random_state=random_state,
    )
    return explainer.explain(X)


class _NotNumeric(ValueError):
    """The transformed data holds text, which TreeSHAP and LinearSHAP cannot take."""


def _sample(frame, n, random_state):
    if len(frame) <= n:
        return frame
    rng = check_random_state(random_state)
    rows = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[rows]


class _Codec:
    """Integer codes for the raw columns, so shap's maskers (which subtract
    and compare numbers) can mask string, categorical and missing values;
    ``decode`` rebuilds the frame with the original dtypes for the model."""

    def __init__(self, frames, like):
        full = pd.concat(frames, ignore_index=True)
        self.columns = like.columns
        self.dtypes = like.dtypes
        self.tables = []
        self.codes = np.empty(full.shape, dtype=float)
        for j in range(full.shape[1]):
            codes, uniques = pd.factorize(full.iloc[:, j], use_na_sentinel=False)
            self.codes[:, j] = codes
            self.tables.append(uniques)

    def decode(self, Z):
        Z = np.asarray(Z).astype(np.intp)
        data = {}
        for j, table in enumerate(self.tables):
            series = pd.Series(table.take(Z[:, j]))
            dtype = self.dtypes.iloc[j]
            if series.dtype != dtype:
                try:
                    cast = series.astype(dtype)
                except (TypeError, ValueError):
                    cast = series
                # A cast that turns values into missing ones (a category the
                # dtype lacks) would change the data: keep the wider type.
                if not (cast.isna() & series.notna()).any():
                    series = cast
            data[j] = series
        frame = pd.DataFrame(data)
        frame.columns = self.columns
        return frame
