"""What every drift detector shares: the compact reference and the base
estimator, which dispatches each column to its test through ``STATISTICS``.

Layers, bottom up: ``_kernels`` (numba) and ``_columns`` (threads, columns,
categories); the statistics ``_ks``, ``_psi``, ``_chi2``, ``_sorted_tests``
(Cramér-von Mises, Anderson-Darling, Wasserstein) and ``_js``; ``_report``
(DriftReport and its assembly); this module; the estimators in
``_detectors`` and ``_monitor``.
"""

import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator

from mlpipe.drift import _chi2, _js, _ks, _psi, _scale
from mlpipe.drift._columns import n_threads
from mlpipe.drift._report import build_report, joint_row, missing_rows
from mlpipe.drift._sorted_tests import AD, CVM, WASSERSTEIN
from mlpipe.utils._dask import is_dask_dataframe
from mlpipe.utils._dataframe import CATEGORICAL, OTHER, check_frame, check_kinds, column_kind
from mlpipe.utils._estimator import MlpipeEstimatorMixin
from mlpipe.utils._sklearn_compat import check_is_fitted, fit_context

# {test name: statistics module}: each has KINDS, fit_statistics and
# score_statistics with one signature (see mlpipe.drift._ks), the way
# scikit-learn's trees keep their criteria in CRITERIA_CLF.
STATISTICS = {
    "ks": _ks,
    "psi": _psi,
    "chi2": _chi2,
    "cvm": CVM,
    "ad": AD,
    "wasserstein": WASSERSTEIN,
    "js": _js,
}
# Tests of the exact sorted reference values: their columns share the KS
# block (``ks_columns``), after the KS-tested ones.
SORTED_TESTS = ("cvm", "ad", "wasserstein")


@dataclass
class DriftReference:
    """Everything a detector keeps of the reference data.

    A detector's ``fit`` builds one and stores it as ``reference_``; it is
    compact (sorted values and an index for KS, bin counts for PSI, category
    counts for chi-square) rather than a copy of the data, and it is all that
    ``detect`` compares a batch with. Users read it; they do not build one.
    The fields are the parameters below, and default to empty for the tests
    a reference does not use.

    Parameters
    ----------
    columns : list
        Column labels, in the order of the data.

    tests : dict
        ``{column: test}``, a test one of ``"ks"``, ``"psi"``, ``"chi2"``,
        ``"cvm"``, ``"ad"``, ``"wasserstein"`` or ``"js"``.

    kinds : dict
        ``{column: kind}`` at fit.

    n_rows : int
        Rows of the reference.

    n_missing : dict
        ``{column: missing values in the reference}``.

    ks_columns : list
        The columns whose sorted values are kept, the rows of ``ks_sorted``:
        those tested with KS first, then those tested with Cramér-von
        Mises, Anderson-Darling or Wasserstein (which read the same block).

    ks_sorted : ndarray of shape (len(ks_columns), n_rows)
        Each KS column's values sorted, missing values (NaN) last.

    ks_counts : ndarray of int64
        Non-missing values of each KS column.

    ks_index : ndarray
        Every ``ks_index_step``-th value of each row of ``ks_sorted`` (a
        sample that lets the KS kernel skip most of the reference).

    ks_index_step : int
        The step of ``ks_index``.

    ks_quantiles : ndarray or list
        201 evenly spaced quantiles of each KS column (the reference curve
        of ``DriftReport.plot``), one row per column; a list, with None for
        a column with no values, when the columns' counts differ.

    psi_numeric : dict
        ``{column: (inner_edges, counts)}``: PSI bins of numeric columns
        tested with PSI or Jensen-Shannon; ``counts`` has one entry per bin.

    categories : dict
        ``{column: list}``: reference categories of categorical columns (PSI,
        Jensen-Shannon and chi-square) and of numeric columns tested by
        chi-square.

    category_counts : dict
        ``{column: ndarray}``: reference count of each category.

    ks_sketches : list or None
        When the reference has more than ``max_reference_rows`` rows, one
        :class:`~mlpipe.drift._sketch.QuantileSketch` per KS column (a
        mergeable summary whose ECDF is within ``rank_error`` of the exact
        one) instead of ``ks_sorted`` and ``ks_index``; None while exact.

    category_order : dict
        ``{column: list}``: the categories of the dtype of a categorical
        column, in order (how chunks merge their category lists).

    See Also
    --------
    KSDrift : Keeps the ``ks_*`` fields.
    PSIDrift : Keeps ``psi_numeric`` and the category fields.
    ChiSquareDrift : Keeps the category fields.
    DriftDetector : Fills the fields of whichever test each column gets.

    Examples
    --------
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.drift import DriftDetector
    >>> X, _ = load_credit(return_X_y=True)
    >>> reference = DriftDetector().fit(X).reference_
    >>> reference.n_rows, reference.ks_columns
    (1000, ['credit_amount', 'duration', 'age'])
    >>> reference.ks_sorted.shape
    (3, 1000)
    >>> reference.categories["housing"]
    ['free', 'own', 'rent']
    """

    columns: list
    tests: dict
    kinds: dict
    n_rows: int
    n_missing: dict
    ks_columns: list = field(default_factory=list)
    ks_sorted: np.ndarray = None
    ks_counts: np.ndarray = None
    ks_index: np.ndarray = None
    ks_index_step: int = 0
    ks_quantiles: object = None
    psi_numeric: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)
    category_counts: dict = field(default_factory=dict)
    ks_sketches: list = None
    category_order: dict = field(default_factory=dict)

    def __getstate__(self):
        # the prepared samples of the sorted-value tests are rebuilt on use
        state = self.__dict__.copy()
        state.pop("_samples", None)
        return state

    @property
    def ks_exact(self):
        """Whether the KS columns keep their exact sorted values."""
        return self.ks_sketches is None

    @property
    def ks_error_bounds(self):
        """Largest error of each KS column's reference ECDF, ``{column: bound}``.

        It bounds the error of the column's KS statistic (0.0 while exact).
        """
        if self.ks_sketches is None:
            return dict.fromkeys(self.ks_columns, 0.0)
        return {c: s.rank_error for c, s in zip(self.ks_columns, self.ks_sketches, strict=True)}

    @property
    def nbytes(self):
        """Bytes held by the arrays of the reference."""
        total = sum(s.nbytes for s in self.ks_sketches or ())
        for array in (self.ks_sorted, self.ks_index):
            total += 0 if array is None else array.nbytes
        for edges, counts in self.psi_numeric.values():
            total += edges.nbytes + counts.nbytes
        for counts in self.category_counts.values():
            total += counts.nbytes
        return total


_DEFAULTS = {
    "alpha": 0.05,
    "correction": "bh",
    "ks_threshold": 0.1,
    "chi2_threshold": 0.1,
    "psi_threshold": 0.2,
    "missing_threshold": 0.05,
    "n_bins": 10,
    "binning": "quantile",
    "eps": 1e-4,
    "alternative": "two-sided",
    "method": "auto",
    "drift_share": None,
    "max_categories": 50,
    "max_discrete": 10,
    "max_reference_rows": 1_000_000,
    "sketch_size": 65536,
    "wasserstein_threshold": 0.1,
    "js_threshold": 0.1,
    "cvm_ties": "midrank",
    "numeric_test": "ks",
}


_PARAM_NAMES = {}


class _BaseDrift(MlpipeEstimatorMixin, BaseEstimator):
    """Fit on a reference, compare batches. Subclasses decide the test of
    each column (``_choose_test``) and name their parameters."""

    def _settings(self):
        # get_params reads the signature of __init__ on every call (~50 us,
        # a sizeable part of scoring a small batch); the names are fixed
        # per class.
        cls = type(self)
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = sorted(self.get_params(deep=False))
        params = {name: getattr(self, name) for name in names}
        out = dict(_DEFAULTS)
        for key, value in params.items():
            if key in out:
                out[key] = value
        # The single-test detectors call their effect threshold "threshold".
        if "threshold" in params:
            out[f"{self._single_test}_threshold"] = params["threshold"]
        # the model's reliance on each column (DriftDetector's importance_),
        # which orders a report's drifted features
        out["importance"] = self.__dict__.get("importance_")
        if out["sketch_size"] % 2:
            raise ValueError(f"sketch_size must be even, got {out['sketch_size']}.")
        return out

    # -- fit ---------------------------------------------------------------

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the reference distribution of every column.

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_features)
            The reference data (training data, or a known-good period).
            Missing values are allowed; infinite values are ordinary values
            to KS and fall in the outer PSI bins. A dask DataFrame is
            summarized on the workers, partition by partition, and the
            summaries merged (see Notes).

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted detector.

        Notes
        -----
        On a dask DataFrame the columns, their kinds and (for
        :class:`DriftDetector`) their tests are learned from the first
        partition, as :meth:`partial_fit` learns them from its first chunk;
        PSI bin edges are the quantiles of all the data (one more pass over
        the partitions when PSI has numeric columns). Everything else is
        what ``fit`` on the computed frame learns: identical while the
        reference has at most ``max_reference_rows`` rows, and KS columns
        sketched beyond.
        """
        if is_dask_dataframe(X):
            _scale.fit_dask(self, X)
            try:
                self._sketched_sorted_tests(self.reference_, self._settings())
            except ValueError:
                _unfit(self)
                raise
            return self
        return self._fit_frame(X)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Add a chunk of the reference to what the detector learned.

        The first call learns the columns, their kinds and tests from its
        chunk, as :meth:`fit` does; later chunks must have the same columns
        in the same order, and of the same kinds. Row, missing-value and
        category counts and PSI bin counts add up exactly; the KS columns
        keep their exact sorted values while the reference has at most
        ``max_reference_rows`` rows, and a mergeable quantile sketch beyond
        (``reference_.ks_error_bounds`` says how close; a report names the
        bounded statistics in ``error_bounds``). PSI's numeric bin edges
        are cut at the first chunk's quantiles (later chunks are counted
        over them): make the first chunk a representative sample, or fit
        on a dask DataFrame, whose edges are those of all the data. The
        sorted KS values grow in place: a ``reference_`` object kept from
        before the call is left without them.

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_features)
            A chunk of the reference data (a record batch of a Parquet
            dataset, a file of a month); a dask DataFrame is summarized on
            its workers.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The detector, fitted on every chunk so far.
        """
        if not hasattr(self, "reference_"):
            try:
                if is_dask_dataframe(X):
                    _scale.fit_dask(self, X)
                    self._sketched_sorted_tests(self.reference_, self._settings())
                    return self
                return self._fit_frame(X)
            except Exception:
                # a refused first chunk leaves nothing behind: scikit-learn
                # validates the parameters of a partial_fit only while the
                # estimator holds no fitted attribute
                _unfit(self)
                raise
        template = self.reference_
        if is_dask_dataframe(X):
            check_frame(self, _scale.meta_of(X), reset=False, min_samples=0)
            check_kinds(self, _scale.meta_of(X), self._kinds_to_check(template))
            chunk = _scale.reference_of_partitions(self, X, template)
        else:
            X = check_frame(self, X, reset=False)
            X = self._check_kinds(X)
            chunk = _scale.chunk_reference(X, template, n_threads())
        settings = self._settings()
        # before the merge, which may take the template's values: refused,
        # the detector keeps its reference
        self._sketched_sorted_tests(template, settings, template.n_rows + chunk.n_rows)
        template.__dict__.pop("_samples", None)  # views of the block, which may grow in place
        try:
            # in place: the reference's sorted KS block grows into the new one
            merged = _scale.merge_references([template, chunk], settings, in_place=True)
        except Exception:
            if template.ks_columns and template.ks_sorted is None and template.ks_sketches is None:
                # failed after its block was taken (out of memory): unfitted,
                # rather than a reference without its values
                for name in (
                    "reference_",
                    "kinds_",
                    "tests_",
                    "n_features_in_",
                    "feature_names_in_",
                ):
                    self.__dict__.pop(name, None)
            raise
        self.reference_ = merged
        _warn_outgrown(self, template, self.reference_)
        return self

    def _fit_frame(self, X, distinct=None):
        settings = self._settings()
        X = check_frame(self, X, reset=True)
        columns = self._selected_columns(X)
        kinds = {}
        for col in columns:
            kind = column_kind(X[col])
            if kind == OTHER:
                raise TypeError(
                    f"{type(self).__name__} cannot compare column {col!r} of dtype "
                    f"{X[col].dtype}; it compares numeric, boolean, categorical, "
                    "string and datetime columns. Drop or convert it first."
                )
            kinds[col] = kind
        tests = self._resolve_tests(X, columns, kinds, settings, distinct)
        probe = DriftReference(columns=columns, tests=tests, kinds=kinds, n_rows=0, n_missing={})
        self._sketched_sorted_tests(probe, settings, len(X))

        n_missing = {col: int(X[col].isna().sum()) for col in columns}
        ref = DriftReference(
            columns=columns, tests=tests, kinds=kinds, n_rows=len(X), n_missing=n_missing
        )
        threads = n_threads()
        for name, statistics in STATISTICS.items():
            tested = [c for c in columns if tests[c] == name]
            if name == "ks":
                # the sorted-value tests' columns join the KS block, after its own
                tested += [c for c in columns if tests[c] in SORTED_TESTS]
            statistics.fit_statistics(ref, X, tested, settings, threads)
        self.reference_ = ref
        self.kinds_ = kinds
        self.tests_ = tests
        return self

    def _selected_columns(self, X):
        all_columns = list(X.columns)
        wanted = getattr(self, "columns", None)
        if wanted is None:
            return all_columns
        if isinstance(wanted, (str, int)) or not hasattr(wanted, "__iter__"):
            wanted = [wanted]
        wanted = list(wanted)
        unknown = [c for c in wanted if c not in set(all_columns)]
        if unknown:
            raise ValueError(
                f"columns names {unknown} that are not in X; its columns are {all_columns[:10]}."
            )
        if not wanted:
            raise ValueError("columns is empty: name at least one column to watch.")
        keep = set(wanted)
        return [c for c in all_columns if c in keep]

    def _resolve_tests(self, X, columns, kinds, settings, distinct=None):
        overrides = getattr(self, "tests", None) or {}
        if not isinstance(overrides, dict):
            raise TypeError(f"tests must be a dict {{column: test}}, got {overrides!r}.")
        unknown = [c for c in overrides if c not in columns]
        if unknown:
            raise ValueError(
                f"tests names column(s) {unknown} that are not in X; its columns "
                f"are {columns[:10]}."
            )
        tests = {}
        for col in columns:
            kind = kinds[col]
            if col in overrides:
                test = overrides[col]
                if test not in STATISTICS:
                    raise ValueError(
                        f"tests[{col!r}]={test!r} is not a test; use one of {list(STATISTICS)}."
                    )
            else:
                # ``distinct``: distinct counts of the whole data (a dask
                # fit), when X is only its first partition
                n_distinct = None if distinct is None else distinct[col]
                test = self._choose_test(X[col], kind, settings, n_distinct)
            if kind not in STATISTICS[test].KINDS:
                raise TypeError(
                    f"{type(self).__name__}: the {test!r} test cannot compare the "
                    f"{kind} column {col!r} (dtype {X[col].dtype}). Choose the "
                    "columns to test with columns=[...], or use DriftDetector, "
                    "which picks chi-square or PSI for such columns."
                )
            tests[col] = test
        return tests

    def _choose_test(self, series, kind, settings, n_distinct=None):
        return self._single_test

    def _sketched_sorted_tests(self, ref, settings, n_rows=None):
        """Refuse a reference of more than ``max_reference_rows`` rows
        (``n_rows``, else ``ref.n_rows``) for the tests of the exact sorted
        values: beyond, the KS block is a quantile sketch, which bounds the
        ECDF (hence KS) but not their statistics."""
        budget = settings["max_reference_rows"]
        n_rows = ref.n_rows if n_rows is None else n_rows
        if budget is None or n_rows <= budget:
            return
        chosen = self._auto_sorted_columns(ref)
        columns = [c for c in ref.columns if ref.tests[c] in SORTED_TESTS and c not in chosen]
        if columns:
            described = ", ".join(f"{c!r}: {ref.tests[c]!r}" for c in columns[:5])
            raise ValueError(
                f"{type(self).__name__}: a reference of {n_rows} rows is more than "
                f"max_reference_rows={budget}, so its sorted values would be replaced by "
                f"a quantile sketch, which the tests {{{described}}} cannot use (the "
                "sketch bounds the ECDF, hence KS, not the Cramér-von Mises, "
                "Anderson-Darling or Wasserstein statistics). Raise max_reference_rows "
                "(or None: 8 bytes a value), or test those columns with 'ks' (bounded "
                "on a sketch) or 'js' (exact at any size)."
            )
        for col in chosen:
            # the automatic choice of a sketched reference (see DriftDetector)
            ref.tests[col] = "ks"
            if hasattr(self, "tests_"):
                self.tests_[col] = "ks"

    def _auto_sorted_columns(self, ref):
        """The columns of ``ref`` whose sorted-value test an automatic choice
        picked (and may replace by KS); none here."""
        return []

    def _outgrown(self, ref, settings):
        """``{column: (distinct values, limit)}`` of the columns whose test,
        picked from the first chunk, ``ref`` has outgrown."""
        return {}

    def _distinct_limit(self, settings):
        """The largest distinct count ``_choose_test`` tells apart (None:
        the test does not depend on it)."""
        return None

    # -- detect and score --------------------------------------------------

    def detect(self, X):
        """Compare a batch with the reference.

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_features)
            The batch, with the columns seen at fit in the same order. A
            dask DataFrame is counted on the workers, partition by
            partition (its values never leave them); the report is the one
            the computed frame would get.

        Returns
        -------
        report : DriftReport
            One row per test (see :meth:`DriftReport.to_frame`) and the
            batch-level verdict ``report.drift``.
        """
        check_is_fitted(self, "reference_")
        raw = X
        if is_dask_dataframe(X):
            tests = self.reference_.tests
            sorted_columns = [c for c in self.reference_.columns if tests[c] in SORTED_TESTS]
            if sorted_columns:
                raise TypeError(
                    f"{type(self).__name__}.detect of a dask DataFrame counts each partition "
                    "against the reference on the workers, which the Cramér-von Mises, "
                    "Anderson-Darling and Wasserstein tests of column(s) "
                    f"{sorted_columns[:5]} cannot use (they need the batch's values). "
                    "Compute the batch first (detect(batch.compute())), or test those "
                    "columns with 'ks' or 'js'."
                )
            meta = _scale.meta_of(X)
            check_frame(self, meta, reset=False, min_samples=0)
            check_kinds(self, meta, self._kinds_to_check(self.reference_))
            return _scale.detect_dask(self, X)
        X = check_frame(self, X, reset=False)
        X = self._check_kinds(X)
        settings = self._settings()
        ref = self.reference_
        threads = n_threads()
        rows = {}
        distributions = {}
        for name, statistics in STATISTICS.items():
            tested = [c for c in ref.columns if ref.tests[c] == name]
            if tested:
                on = _ks_only(ref) if name == "ks" else ref
                rows.update(
                    statistics.score_statistics(on, X, tested, settings, threads, distributions)
                )
        ordered = [rows[col] for col in ref.columns]
        # the sorted-block, chi-square and binned columns counted their
        # non-missing values already
        counted = set(ref.ks_columns) | set(ref.psi_numeric)
        counted.update(col for col in ref.columns if ref.tests[col] == "chi2")
        known = {col: len(X) - rows[col]["n_batch"] for col in counted}
        ordered += missing_rows(ref, X, settings, known)
        joint = self._joint_report(raw)
        if joint is not None:
            ordered.append(joint_row(joint))
        return build_report(ordered, settings, ref.n_rows, len(X), distributions, joint)

    def _joint_report(self, X):
        """The report of a joint test of batch ``X`` as given, run beside
        the per-column tests (``DriftDetector(joint=...)``); None here."""
        return None

    def score(self, X, y=None):
        """Share of the watched features that did not drift in batch ``X``.

        The float scikit-learn's scorers and ``cross_val_score`` expect,
        higher meaning "more like the reference": 1.0 when no feature
        drifted, 0.0 when every watched feature did (a feature drifts when
        its distribution test or its missing-rate test does). The full
        report is :meth:`detect`'s; this is its ``stable_share``.

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_features)
            The batch, with the columns seen at fit in the same order.

        y : None
            Ignored.

        Returns
        -------
        score : float
            ``1 - n_drifted_features / n_watched_features``.
        """
        return self.detect(X).stable_share

    def _check_kinds(self, X):
        return check_kinds(self, X, self._kinds_to_check(self.reference_))

    @staticmethod
    def _kinds_to_check(ref):
        # categories of chi-square and PSI columns compare by value, whatever
        # the dtype they arrive in
        return {
            col: kind
            for col, kind in ref.kinds.items()
            if not (kind == CATEGORICAL and ref.tests[col] in ("chi2", "psi", "js"))
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


def _unfit(est):
    """Drop what a refused first fit left behind: scikit-learn validates
    the parameters of a partial_fit only while the estimator holds no
    fitted attribute."""
    for name in ("reference_", "kinds_", "tests_", "n_features_in_", "feature_names_in_"):
        est.__dict__.pop(name, None)


def _ks_only(ref):
    """``ref`` restricted to its KS-tested columns (the first rows of the
    KS block: views, no copy), for ``_ks``, which scores every row of the
    block; ``ref`` itself when the block has no other columns."""
    k = sum(ref.tests[c] == "ks" for c in ref.ks_columns)
    if k == len(ref.ks_columns):
        return ref

    def head(rows):
        return None if rows is None else rows[:k]

    return dataclasses.replace(
        ref,
        ks_columns=ref.ks_columns[:k],
        ks_sorted=head(ref.ks_sorted),
        ks_counts=head(ref.ks_counts),
        ks_index=head(ref.ks_index),
        ks_quantiles=head(ref.ks_quantiles),
        ks_sketches=head(ref.ks_sketches),
    )


def _warn_outgrown(est, before, after):
    """Warn (once a column) when a chunk of ``partial_fit`` takes a column
    past the distinct-value limit of the test its first chunk picked."""
    settings = est._settings()
    old = est._outgrown(before, settings)
    new = {c: v for c, v in est._outgrown(after, settings).items() if c not in old}
    if new:
        described = ", ".join(f"{c!r} ({n} > {limit})" for c, (n, limit) in new.items())
        warnings.warn(
            f"{type(est).__name__}.partial_fit: the first chunk picked chi-square for "
            f"column(s) {described}, which now have more distinct values than that "
            "choice allows (max_discrete or max_categories). The test stays chi-square "
            "(its table keeps every value); to get the test a fit of all the data "
            f"would pick, pass tests={{column: 'ks' or 'psi'}}, or fit on a dask "
            "DataFrame, whose choice counts every partition.",
            UserWarning,
            stacklevel=4,  # the caller of partial_fit (through fit_context)
        )
