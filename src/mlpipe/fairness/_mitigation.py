"""Bias mitigation as scikit-learn meta-estimators: reweighing before the
model (Kamiran & Calders) and per-group thresholds after it."""

import warnings
from numbers import Integral, Number

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.utils import check_consistent_length, get_tags
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, has_fit_parameter

from mlpipe.exceptions import FairnessWarning
from mlpipe.fairness._groups import group_label, make_groups
from mlpipe.fairness._metrics import check_weights
from mlpipe.utils._dataframe import check_frame, describe_columns, has_feature_names
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._plain import index_from_state, index_state
from mlpipe.utils._sklearn_compat import (
    HasMethods,
    StrOptions,
    check_is_fitted,
    fit_context,
    routing_enabled,
)


class _SensitiveMetaMixin(MlpipeEstimatorMixin):
    """Finding the sensitive groups of X, and fitting the inner estimator."""

    def _default_estimator(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    def _sensitive_values(self, X, frame, sensitive_features):
        name = type(self).__name__
        spec = self.sensitive_feature
        if spec is not None and sensitive_features is not None:
            raise ValueError(
                f"{name} got both sensitive_feature={spec!r} and "
                "sensitive_features=...; give the groups one way only."
            )
        if sensitive_features is not None:
            return sensitive_features
        if spec is None:
            raise ValueError(
                f"{name} needs the sensitive groups: set sensitive_feature=<column> "
                "or pass sensitive_features=<array> (for instance through "
                "metadata routing in a Pipeline or GridSearchCV)."
            )
        if callable(spec):
            return spec(X)
        labels = spec if isinstance(spec, list) else [spec]
        positions = []
        for label in labels:
            if isinstance(label, str):
                if label not in frame.columns:
                    raise ValueError(
                        f"sensitive_feature={label!r} is not a column of X; its "
                        f"columns are {describe_columns(frame.columns, 10)}."
                    )
                positions.append(frame.columns.get_loc(label))
            else:
                if not -frame.shape[1] <= label < frame.shape[1]:
                    raise ValueError(
                        f"sensitive_feature={label!r} is out of range for X with "
                        f"{frame.shape[1]} column(s)."
                    )
                positions.append(label)
        sub = frame.iloc[:, positions]
        return sub.iloc[:, 0] if len(positions) == 1 else sub

    def _groups(self, X, frame, sensitive_features):
        values = self._sensitive_values(X, frame, sensitive_features)
        return make_groups(values, frame.shape[0])

    def _reject_mixed_columns(self, frame):
        # An object column mixing numbers and text breaks encoders deep in the
        # inner pipeline with an error that names no column; name it here.
        mixed = [
            c for c in frame.columns if frame[c].dtype == object and _numbers_and_text(frame[c])
        ]
        if mixed:
            raise TypeError(
                f"column(s) {describe_columns(mixed)} of X mix numbers and text in one "
                f"object column; {type(self).__name__} passes X to its estimator, "
                "whose encoders need one type per column. Cast them, e.g. "
                "X[col].astype(str)."
            )

    def _check_y(self, X_frame, y, sample_weight):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        check_consistent_length(X_frame, y)
        return y, check_weights(sample_weight, len(y), of="y")

    def _inner_params(self, fit_params):
        if routing_enabled():
            routed = process_routing(self, "fit", **fit_params)
            params = dict(routed.estimator.fit)
        else:
            params = dict(fit_params)
        params.pop("sample_weight", None)
        return params

    def _fit_inner(self, estimator, X, y, weights, params):
        """Fit with ``weights`` as sample_weight; a Pipeline gets them on its last step."""
        if (
            isinstance(estimator, Pipeline)
            and has_fit_parameter(estimator.steps[-1][1], "sample_weight")
            and not (routing_enabled() and params)
        ):
            # The weights are ours and meant for the model, not for a scaler
            # that happens to take sample_weight too: give them to the last
            # step, the same way whether or not metadata routing is on.
            step = estimator.steps[-1][0]
            with config_context(enable_metadata_routing=False):
                return estimator.fit(X, y, **{f"{step}__sample_weight": weights}, **params)
        if routing_enabled() or has_fit_parameter(estimator, "sample_weight"):
            return estimator.fit(X, y, sample_weight=weights, **params)
        raise TypeError(
            f"{type(self).__name__} passes weights as sample_weight, but "
            f"{type(estimator).__name__}.fit does not accept sample_weight. Use an "
            "estimator (or a Pipeline whose last step) that does."
        )

    def get_metadata_routing(self):
        """Metadata routing of this meta-estimator.

        It consumes ``sensitive_features`` and ``sample_weight`` itself and
        routes any other fit parameter to ``estimator``.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating the routing information.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                estimator=self._default_estimator(),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._default_estimator())
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.categorical = inner.input_tags.categorical
        tags.input_tags.sparse = False
        return tags


def _numbers_and_text(series):
    if not pd.api.types.infer_dtype(series, skipna=True).startswith("mixed"):
        return False
    kinds = set(map(type, series.dropna()))
    text = {k for k in kinds if issubclass(k, str)}
    numbers = {k for k in kinds if issubclass(k, Number) and not issubclass(k, bool)}
    return bool(text) and bool(numbers) and kinds == text | numbers


def _inner_X(X, frame):
    # The inner estimator sees X as the caller gave it (a DataFrame keeps its
    # dtypes for a ColumnTransformer). An array given to a wrapper fitted on
    # a frame goes on as the frame check_frame matched to fit's names by
    # position (an inner ColumnTransformer selects columns by name); other
    # sequences become arrays.
    if isinstance(X, pd.DataFrame):
        return X
    if has_feature_names(frame):
        return frame
    return X if isinstance(X, np.ndarray) else frame.to_numpy()


def _has(attr):
    def check(self):
        owner = self.estimator_ if hasattr(self, "estimator_") else self._default_estimator()
        return hasattr(owner, attr)

    return check


class ReweighingClassifier(_SensitiveMetaMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit a classifier with weights that make the label independent of the group.

    Kamiran & Calders' reweighing: a row of group ``s`` and class ``c`` gets
    the weight ``P(s) P(c) / P(s, c)``, so under the weights every group has
    the same base rate, and the classifier is fitted with them as
    ``sample_weight`` (times any ``sample_weight`` given). Prediction is the
    inner classifier's; it needs no sensitive feature.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier whose ``fit`` takes ``sample_weight``, or a Pipeline
        whose last step does. ``None`` means ``LogisticRegression()``.

    sensitive_feature : str, int, list or callable, default=None
        Where the sensitive feature is found in ``X``: a column name (a
        DataFrame), a column position, a list of them (intersectional
        groups), or a callable ``f(X)`` returning the group of each row (for
        age bands, say; a module-level function, so the model pickles).
        ``None`` means it is passed as ``sensitive_features=`` to ``fit``
        (and ``predict`` where needed), directly or through scikit-learn's
        metadata routing.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.

    weights_ : DataFrame
        The weight of each (group, class) cell: one row per group, one
        column per class. Cells without rows are NaN. A view built on each
        access from the plain arrays the classifier keeps (so that it can be
        saved with skops).

    classes_ : ndarray of shape (n_classes,)
        The class labels.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    GroupThresholdClassifier : Mitigates after the model instead of before.

    Notes
    -----
    Reference: F. Kamiran and T. Calders, "Data preprocessing techniques for
    classification without discrimination", Knowledge and Information
    Systems 33 (2012). The sensitive column stays in ``X``; drop it in the
    inner pipeline if the model must not see it.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.fairness import ReweighingClassifier
    >>> X = pd.DataFrame({"group": [0, 0, 0, 0, 1, 1, 1, 1],
    ...                   "x": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]})
    >>> y = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    >>> clf = ReweighingClassifier(sensitive_feature="group").fit(X, y)
    >>> clf.weights_.round(3).to_numpy().tolist()  # rows: groups, columns: classes
    [[2.0, 0.667], [0.667, 2.0]]
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "sensitive_feature": [str, Integral, list, callable, None],
    }

    def __init__(self, *, estimator=None, sensitive_feature=None):
        self.estimator = estimator
        self.sensitive_feature = sensitive_feature

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, sensitive_features=None, sample_weight=None, **fit_params):
        """Compute the reweighing weights and fit the classifier with them.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class labels.

        sensitive_features : array-like or DataFrame, default=None
            The groups of the rows, when ``sensitive_feature`` is None.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights multiplied into the reweighing weights.

        **fit_params : dict
            Passed to ``estimator.fit`` (through metadata routing when it is
            enabled).

        Returns
        -------
        self : object
            The fitted classifier.
        """
        frame = check_frame(self, X, reset=True)
        self._reject_mixed_columns(frame)
        y, weights = self._check_y(frame, y, sample_weight)
        groups = self._groups(X, frame, sensitive_features)
        classes, y_codes = np.unique(y, return_inverse=True)
        n_groups, n_classes = groups.n_groups, len(classes)
        joint = np.bincount(
            groups.codes * n_classes + y_codes,
            weights=weights,
            minlength=n_groups * n_classes,
        ).reshape(n_groups, n_classes)
        total = joint.sum()
        if total <= 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit.")
        expected = np.outer(joint.sum(axis=1), joint.sum(axis=0)) / total
        with np.errstate(invalid="ignore", divide="ignore"):
            table = np.where(joint > 0, expected / joint, np.nan)
        row_weights = weights * np.nan_to_num(table[groups.codes, y_codes])
        params = self._inner_params(fit_params)
        self.estimator_ = clone(self._default_estimator())
        self._fit_inner(self.estimator_, _inner_X(X, frame), y, row_weights, params)
        self.classes_ = getattr(self.estimator_, "classes_", classes)
        # Plain data, which skops can save; weights_ is the table view.
        self._group_labels = index_state(groups.index)
        self._weights = (table, classes)
        return self

    @property
    def weights_(self):
        """The weight of each (group, class) cell, one row per group (a new view on each access)."""
        check_is_fitted(self, "estimator_")
        table, classes = self._weights
        return pd.DataFrame(table, index=index_from_state(self._group_labels), columns=classes)

    def predict(self, X):
        """Predict with the reweighed classifier.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The class labels ``estimator_`` predicts; no sensitive feature
            is needed.
        """
        check_is_fitted(self)
        frame = check_frame(self, X, reset=False)
        return self.estimator_.predict(_inner_X(X, frame))

    @available_if(_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the reweighed classifier.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, columns in the order of
            ``classes_``.
        """
        check_is_fitted(self)
        frame = check_frame(self, X, reset=False)
        return self.estimator_.predict_proba(_inner_X(X, frame))

    @available_if(_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the reweighed classifier.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The decision function of ``estimator_``: one score per row for
            two classes (positive favours ``classes_[1]``), one per class
            otherwise.
        """
        check_is_fitted(self)
        frame = check_frame(self, X, reset=False)
        return self.estimator_.decision_function(_inner_X(X, frame))


class GroupThresholdClassifier(
    _SensitiveMetaMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """Pick one decision threshold per group to meet a fairness constraint.

    A post-processor for a binary classifier: on the training data (or on
    the data given to ``fit`` with ``prefit=True``) it finds, for every
    target rate, the threshold of each group whose selection rate
    (demographic parity) or true positive rate (equal opportunity) is
    closest to it, and keeps the target with the highest accuracy. Unlike
    fairlearn's ``ThresholdOptimizer``, prediction is deterministic: one
    threshold per group, no randomisation between two.

    Parameters
    ----------
    estimator : estimator object, default=None
        A binary classifier with ``predict_proba`` or ``decision_function``.
        ``None`` means ``LogisticRegression()``.

    sensitive_feature : str, int, list or callable, default=None
        Where the sensitive feature is found in ``X``: a column name (a
        DataFrame), a column position, a list of them (intersectional
        groups), or a callable ``f(X)`` returning the group of each row (for
        age bands, say; a module-level function, so the model pickles).
        ``None`` means it is passed as ``sensitive_features=`` to ``fit``
        (and ``predict`` where needed), directly or through scikit-learn's
        metadata routing.

    constraint : {"demographic_parity", "equal_opportunity"}, \
            default="demographic_parity"
        Equalise the selection rate, or the true positive rate, of the groups.

    prefit : bool, default=False
        If True, ``estimator`` is already fitted and ``fit`` only picks the
        thresholds (give it held-out data); otherwise a clone is fitted first.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted classifier.

    thresholds_ : Series
        The threshold of each group (index: the groups seen at fit). A row is
        predicted ``classes_[1]`` when its score is at least its group's
        threshold. A view built on each access from the plain arrays the
        classifier keeps (so that it can be saved with skops).

    target_rate_ : float
        The common selection rate (or true positive rate) aimed at.

    default_threshold_ : float
        The threshold for groups not seen at fit: the one that gives the
        whole training population the target rate. Such groups also raise a
        :class:`~mlpipe.exceptions.FairnessWarning`.

    classes_ : ndarray of shape (2,)
        The class labels; ``classes_[1]`` is the favourable one.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    ReweighingClassifier : Mitigates before the model instead of after.

    Notes
    -----
    Groups are finite, so a rate can only be met to within the step of one
    row of the smallest group; the achieved rates are in ``audit_fairness``
    of the predictions. Equal opportunity needs every group to have a
    positive example.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mlpipe.fairness import GroupThresholdClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"group": np.repeat([0, 1], 50),
    ...                   "x": np.r_[rng.normal(0, 1, 50), rng.normal(1, 1, 50)]})
    >>> y = (X["x"] + rng.normal(0, 0.5, 100) > 0.5).astype(int)
    >>> clf = GroupThresholdClassifier(sensitive_feature="group").fit(X, y)
    >>> pred = clf.predict(X)
    >>> [float(pred[X["group"] == g].mean()) for g in (0, 1)]
    [0.38, 0.38]
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "sensitive_feature": [str, Integral, list, callable, None],
        "constraint": [StrOptions({"demographic_parity", "equal_opportunity"})],
        "prefit": ["boolean"],
    }

    def __init__(
        self,
        *,
        estimator=None,
        sensitive_feature=None,
        constraint="demographic_parity",
        prefit=False,
    ):
        self.estimator = estimator
        self.sensitive_feature = sensitive_feature
        self.constraint = constraint
        self.prefit = prefit

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, sensitive_features=None, sample_weight=None, **fit_params):
        """Fit the classifier (unless ``prefit``) and pick the thresholds.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Binary class labels.

        sensitive_features : array-like or DataFrame, default=None
            The groups of the rows, when ``sensitive_feature`` is None.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, for the classifier and the rates.

        **fit_params : dict
            Passed to ``estimator.fit`` (through metadata routing when it is
            enabled).

        Returns
        -------
        self : object
            The fitted classifier.
        """
        frame = check_frame(self, X, reset=True)
        self._reject_mixed_columns(frame)
        y, weights = self._check_y(frame, y, sample_weight)
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError(
                "Only binary classification is supported. "
                f"{type(self).__name__} got y with {len(classes)} classes: "
                f"{classes[:5].tolist()}."
            )
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs two classes in y, got one class: {classes.tolist()}."
            )
        groups = self._groups(X, frame, sensitive_features)
        inner_X = _inner_X(X, frame)
        if self.prefit:
            check_is_fitted(self._default_estimator())
            self.estimator_ = self._default_estimator()
        else:
            params = self._inner_params(fit_params)
            self.estimator_ = clone(self._default_estimator())
            if sample_weight is None:
                self.estimator_.fit(inner_X, y, **params)
            else:
                self._fit_inner(self.estimator_, inner_X, y, weights, params)
        self.classes_ = np.asarray(getattr(self.estimator_, "classes_", classes))
        if len(self.classes_) != 2 or not np.array_equal(np.sort(self.classes_), classes):
            raise ValueError(
                f"the estimator's classes {self.classes_.tolist()} do not match the "
                f"labels of y {classes.tolist()}."
            )
        scores = self._scores(inner_X)
        positive = y == self.classes_[1]
        target, thresholds, default = _fit_thresholds(
            scores, positive, weights, groups, self.constraint
        )
        self.target_rate_ = target
        # Plain data, which skops can save; thresholds_ is the Series view.
        self._group_labels = index_state(groups.index)
        self._thresholds = np.asarray(thresholds, dtype=np.float64)
        self.default_threshold_ = default
        return self

    @property
    def thresholds_(self):
        """The threshold of each group seen at fit (a new view on each access)."""
        check_is_fitted(self, "estimator_")
        return pd.Series(
            self._thresholds, index=index_from_state(self._group_labels), name="threshold"
        )

    def _scores(self, X):
        est = self.estimator_
        if hasattr(est, "predict_proba"):
            return np.asarray(est.predict_proba(X))[:, 1]
        if hasattr(est, "decision_function"):
            return np.asarray(est.decision_function(X)).ravel()
        raise TypeError(
            f"{type(self).__name__} needs scores: {type(est).__name__} has neither "
            "predict_proba nor decision_function."
        )

    def predict(self, X, *, sensitive_features=None):
        """Predict ``classes_[1]`` where the score reaches the row's group threshold.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Input data.

        sensitive_features : array-like or DataFrame, default=None
            The groups of the rows, when ``sensitive_feature`` is None.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``classes_[1]`` where the row's score (probability of
            ``classes_[1]``, or decision function) is at least its group's
            threshold, ``classes_[0]`` elsewhere.

        Warns
        -----
        FairnessWarning
            When rows belong to a group not seen at fit; they get
            ``default_threshold_``.
        """
        check_is_fitted(self)
        frame = check_frame(self, X, reset=False)
        groups = self._groups(X, frame, sensitive_features)
        where = index_from_state(self._group_labels).get_indexer(groups.index)
        unseen = np.flatnonzero(where < 0)
        if len(unseen):
            labels = [group_label(groups.index, i) for i in unseen]
            n_rows = int(np.isin(groups.codes, unseen).sum())
            warnings.warn(
                f"{n_rows} row(s) belong to group(s) not seen at fit: {labels[:10]}; "
                f"they get the population threshold {self.default_threshold_:.4g}.",
                FairnessWarning,
            )
        table = np.where(
            where >= 0,
            self._thresholds[np.maximum(where, 0)],
            self.default_threshold_,
        )
        scores = self._scores(_inner_X(X, frame))
        return np.where(scores >= table[groups.codes], self.classes_[1], self.classes_[0])

    def score(self, X, y, *, sensitive_features=None, sample_weight=None):
        """Return the accuracy of :meth:`predict` on ``X`` and ``y``.

        ``ClassifierMixin.score`` calls ``predict(X)`` alone, which has no
        groups unless ``sensitive_feature`` finds them in ``X``; this one
        takes them, so that :class:`~sklearn.model_selection.GridSearchCV`
        and :func:`~sklearn.model_selection.cross_val_score` can route them
        to the test folds (``set_score_request(sensitive_features=True)``
        under metadata routing).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,)
            True labels of ``X``.

        sensitive_features : array-like or DataFrame, default=None
            The groups of the rows, when ``sensitive_feature`` is None.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.accuracy_score` of
            ``predict(X, sensitive_features=sensitive_features)``.
        """
        y_pred = self.predict(X, sensitive_features=sensitive_features)
        return float(accuracy_score(y, y_pred, sample_weight=sample_weight))

    def get_metadata_routing(self):
        """Metadata routing of this meta-estimator.

        It consumes ``sensitive_features`` (at fit, predict and score) and
        ``sample_weight`` (at fit and score) itself and routes any other fit
        parameter to ``estimator``.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating the routing information.
        """
        return super().get_metadata_routing()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _group_curves(scores, positive, weights):
    """Rates of one group at every distinct threshold, from "select none" to
    "select all": (thresholds, selected weight, true-positive weight)."""
    # A row of weight 0 is as good as absent: it must not place a threshold.
    keep = weights > 0
    scores, positive, weights = scores[keep], positive[keep], weights[keep]
    order = np.argsort(-scores, kind="stable")
    s, p, w = scores[order], positive[order], weights[order]
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # last row of each value
    cum_w = np.r_[0.0, np.cumsum(w)[last]]
    cum_tp = np.r_[0.0, np.cumsum(w * p)[last]]
    values = s[last]
    # Selecting the top k distinct values: threshold halfway to the next.
    thresholds = np.r_[np.inf, (values[:-1] + values[1:]) / 2, -np.inf]
    return thresholds, cum_w, cum_tp


def _closest(rates, target):
    """Index of the rate closest to each target (rates ascending)."""
    right = np.clip(np.searchsorted(rates, target), 0, len(rates) - 1)
    left = np.clip(right - 1, 0, len(rates) - 1)
    return np.where(np.abs(rates[left] - target) <= np.abs(rates[right] - target), left, right)


def _fit_thresholds(scores, positive, weights, groups, constraint):
    """The per-group thresholds of the most accurate target rate."""
    curves, totals = [], []
    for g in range(groups.n_groups):
        rows = groups.codes == g
        thr, sel, tp = _group_curves(scores[rows], positive[rows], weights[rows])
        n, pos = weights[rows].sum(), (weights[rows] * positive[rows]).sum()
        denominator = n if constraint == "demographic_parity" else pos
        if denominator <= 0:
            what = "rows" if constraint == "demographic_parity" else "positive examples"
            raise ValueError(
                f"group {group_label(groups.index, g)!r} has no {what} with "
                f"non-zero weight, so its {constraint.replace('_', ' ')} rate is "
                "undefined."
            )
        rate = (sel if constraint == "demographic_parity" else tp) / denominator
        # Correct predictions: true positives plus unselected negatives.
        correct = tp + (n - pos) - (sel - tp)
        curves.append((thr, np.maximum.accumulate(rate), correct))
        totals.append((n, pos))
    candidates = np.unique(np.concatenate([c[1] for c in curves]))
    if len(candidates) > 2001:
        candidates = np.linspace(0.0, 1.0, 2001)
    accuracy = np.zeros(len(candidates))
    picks = []
    for _, rate, correct in curves:
        k = _closest(rate, candidates)
        picks.append(k)
        accuracy += correct[k]
    best = int(np.argmax(accuracy))
    target = float(candidates[best])
    thresholds = np.array([thr[k[best]] for (thr, _, _), k in zip(curves, picks, strict=True)])
    # The population threshold for unseen groups, at the same target.
    thr, sel, tp = _group_curves(scores, positive, weights)
    pooled = (
        sel / weights.sum()
        if constraint == "demographic_parity"
        else tp / max((weights * positive).sum(), np.finfo(float).tiny)
    )
    default = float(thr[_closest(np.maximum.accumulate(pooled), np.array([target]))[0]])
    return target, thresholds, default
