"""Explanation: SHAP values of a batch, in the raw input columns."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlpipe._report import Report, html_table, report_html
from mlpipe.utils._optional import import_optional
from mlpipe.utils._scalar import python_scalar

_PURPOSE = "explaining models"
PLOT_KINDS = ("bar", "beeswarm", "waterfall")


@dataclass(repr=False)
class Explanation(Report):
    """SHAP values of a batch of predictions, one per raw input column.

    Made by :func:`explain` and :meth:`PipelineExplainer.explain`. For every
    row the values plus the base value equal the model's output (within
    ``tolerance``, checked when the explanation was made).

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features) or \
            (n_samples, n_features, n_outputs)
        SHAP values. 2-D for regression and binary classification (the
        positive class, ``classes_[1]``); 3-D for multiclass, one slice per
        class in ``output_names`` order.

    base_values : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        The expected output over the background: the output with no feature
        known.

    data : DataFrame of shape (n_samples, n_features)
        The explained rows as they were given, raw values and dtypes.

    feature_names : list of str
        The raw input columns, in ``data`` order.

    output : {"probability", "log_odds", "predict"}
        What is explained: ``predict_proba``, ``decision_function`` or
        ``predict``.

    output_names : list
        The class each output explains (the positive class for binary), or
        ``["prediction"]`` for regression.

    method : {"tree", "linear", "kernel", "exact"}
        The shap algorithm used.

    tolerance : float
        The largest allowed difference between values plus base value and
        the model's output.

    max_additivity_error : float
        The largest difference actually found.

    Attributes
    ----------
    title : str
        Heading of the printed report.

    See Also
    --------
    explain : Make an explanation of a fitted pipeline.
    PipelineExplainer : Make explanations of many batches with one explainer.
    shap.Explanation : The shap library's own form, returned by :meth:`to_shap`.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from mlpipe.explain import explain
    >>> X = pd.DataFrame({"size": [50.0, 80.0, 120.0, 65.0, 95.0],
    ...                   "rooms": [2.0, 3.0, 5.0, 2.0, 4.0]})
    >>> model = LinearRegression().fit(X, 3 * X["size"] + 10 * X["rooms"])
    >>> explanation = explain(model, X)
    >>> explanation.method, explanation.output_names
    ('linear', ['prediction'])
    >>> explanation.values[0].round(2).tolist(), float(explanation.base_values[0].round(2))
    ([-96.0, -12.0], 278.0)
    >>> float(explanation.model_output()[0].round(2)), float(model.predict(X)[0].round(2))
    (170.0, 170.0)
    >>> explanation.importance().round(1).to_dict()
    {'size': 61.2, 'rooms': 10.4}
    """

    values: np.ndarray
    base_values: np.ndarray
    data: pd.DataFrame
    feature_names: list
    output: str
    output_names: list
    method: str
    tolerance: float = 1e-6
    max_additivity_error: float = field(default=0.0)

    title = "Explanation"

    @property
    def is_multiclass(self):
        """True when ``values`` has one slice per class."""
        return self.values.ndim == 3

    def __len__(self):
        return self.values.shape[0]

    def model_output(self):
        """Return the model output the values add up to.

        Returns
        -------
        output : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            ``base_values`` plus the sum of ``values`` over the features: the
            explained output of each row (one column per class for
            multiclass), equal to the model's within ``tolerance``.
        """
        return self.base_values + self.values.sum(axis=1)

    def _slice(self, target):
        """Values of one output: 2-D (n_samples, n_features)."""
        if not self.is_multiclass:
            if target is not None and target not in self.output_names:
                raise ValueError(
                    f"target={target!r} is not an explained output; this "
                    f"explanation explains {self.output_names}."
                )
            return self.values, self.base_values
        if target is None:
            raise ValueError(
                "This explanation has one output per class; pass "
                f"target=<class>, one of {self.output_names}."
            )
        k = self._target_index(target)
        return self.values[:, :, k], self.base_values[:, k]

    def _target_index(self, target):
        for k, name in enumerate(self.output_names):
            if name == target:
                return k
        raise ValueError(
            f"target={target!r} is not an explained class; the classes are {self.output_names}."
        )

    def importance(self, target=None):
        """Global importance: the mean absolute SHAP value of each raw column.

        Parameters
        ----------
        target : class label, default=None
            For multiclass, the class whose values to average; None sums the
            per-class importances (as shap's multiclass bar plot stacks them).

        Returns
        -------
        importance : Series
            Indexed by raw column name, largest first, named ``"importance"``.
        """
        if self.is_multiclass and target is None:
            mean_abs = np.abs(self.values).mean(axis=0).sum(axis=1)
        else:
            mean_abs = np.abs(self._slice(target)[0]).mean(axis=0)
        imp = pd.Series(
            mean_abs, index=pd.Index(self.feature_names, name="feature"), name="importance"
        )
        return imp.sort_values(ascending=False, kind="stable")

    def to_frame(self):
        """The values as a tidy DataFrame: one line per row, feature (and class).

        Returns
        -------
        frame : DataFrame
            Columns ``row`` (the label in ``data.index``), ``feature``,
            ``value`` (the raw value), ``shap``, and ``output`` (the class)
            for multiclass.
        """
        n, m = self.values.shape[:2]
        rows = np.repeat(np.asarray(self.data.index, dtype=object), m)
        features = np.tile(np.asarray(self.feature_names, dtype=object), n)
        raw = self.data.astype(object).to_numpy().reshape(-1)
        if not self.is_multiclass:
            return pd.DataFrame(
                {"row": rows, "feature": features, "value": raw, "shap": self.values.reshape(-1)}
            )
        parts = []
        for k, name in enumerate(self.output_names):
            parts.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "feature": features,
                        "value": raw,
                        "output": [name] * (n * m),
                        "shap": self.values[:, :, k].reshape(-1),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def summary(self):
        """Return what is explained, by which method, in one line.

        Returns
        -------
        summary : str
            The numbers of rows and raw columns, the explained output, the
            shap method and the additivity error found against the
            tolerance.
        """
        what = {
            "probability": "predicted probability",
            "log_odds": "decision function",
            "predict": "prediction",
        }[self.output]
        of = (
            f" of {python_scalar(self.output_names[0])!r}"
            if self.output != "predict" and not self.is_multiclass
            else ""
        )
        return (
            f"{len(self)} row(s) x {len(self.feature_names)} raw column(s), {what}{of} "
            f"explained by the {self.method} explainer (additivity error "
            f"{self.max_additivity_error:.1e} <= {self.tolerance:.0e})"
        )

    def __str__(self):
        imp = self.importance().to_frame().reset_index()
        return f"{self.title}: {self.summary()}\n{imp.to_string(index=False)}"

    def _repr_html_(self):
        imp = self.importance().to_frame().reset_index()
        table = html_table(imp, caption="Global importance: mean |SHAP value| per raw column")
        return report_html(self.title, self.summary(), table)

    def _row_target(self, row, target):
        if not self.is_multiclass or target is not None:
            return target
        # The class the model ranks highest in that row: its prediction.
        return self.output_names[int(np.argmax(self.model_output()[row]))]

    def reasons(self, row=0, n=3, *, target=None, direction="both"):
        """The top reasons behind one prediction, as a lender states them.

        Parameters
        ----------
        row : int, default=0
            Position of the row in ``data`` (0-based, as in ``data.iloc``).

        n : int, default=3
            Number of reasons.

        target : class label, default=None
            For multiclass, the class to explain; None explains the class the
            model predicts for that row.

        direction : {"both", "up", "down"}, default="both"
            ``"both"`` ranks columns by the size of their contribution;
            ``"down"`` keeps only those that lower the output (the adverse
            reasons of a declined credit), ``"up"`` only those that raise it.

        Returns
        -------
        reasons : DataFrame
            ``n`` lines (fewer when fewer columns move the output that way),
            largest first, with columns ``feature``, ``value`` (raw),
            ``contribution`` (SHAP value) and ``reason`` (a sentence).
        """
        if direction not in ("both", "up", "down"):
            raise ValueError(f"direction must be 'both', 'up' or 'down', got {direction!r}.")
        if not 0 <= row < len(self):
            raise IndexError(f"row={row} is out of range for {len(self)} explained row(s).")
        target = self._row_target(row, target)
        contrib = self._slice(target)[0][row]
        order = np.argsort(-np.abs(contrib), kind="stable")
        if direction == "up":
            order = [i for i in order if contrib[i] > 0]
        elif direction == "down":
            order = [i for i in order if contrib[i] < 0]
        order = list(order)[:n]
        name = python_scalar(target if target is not None else self.output_names[0])
        # A class named by a number reads "class 1", not "the probability of 1".
        label = f"{name!r}" if isinstance(name, str) else f"class {name!r}"
        what = {
            "probability": f"the probability of {label}",
            "log_odds": f"the decision score of {label}",
            "predict": "the prediction",
        }[self.output]
        lines = []
        for i in order:
            feature = self.feature_names[i]
            value = python_scalar(self.data.iloc[row, i])
            verb = "raises" if contrib[i] > 0 else "lowers"
            lines.append(
                {
                    "feature": feature,
                    "value": value,
                    "contribution": float(contrib[i]),
                    "reason": f"{feature} = {_show(value)} {verb} {what} by {abs(contrib[i]):.3g}",
                }
            )
        # An object column keeps each raw value as it was (6 stays 6 beside a NaN).
        return pd.DataFrame(
            {
                key: pd.Series(
                    [line[key] for line in lines], dtype=object if key == "value" else None
                )
                for key in ("feature", "value", "contribution", "reason")
            }
        )

    def reason_codes(self, n=3, *, target=None, direction="both"):
        """Top reasons of every row, one column per rank.

        Parameters
        ----------
        n : int, default=3
            Number of reasons per row.

        target : class label, default=None
            For multiclass, the class to explain; None explains, in each row,
            the class the model predicts for it. As in :meth:`reasons`.

        direction : {"both", "up", "down"}, default="both"
            Which contributions count, as in :meth:`reasons`.

        Returns
        -------
        codes : DataFrame
            Indexed like ``data``, columns ``reason_1`` ... ``reason_n``, each a
            short code ``"<feature>=<value> (<signed contribution>)"``; empty
            strings where a row has fewer reasons.
        """
        table = []
        for row in range(len(self)):
            r = self.reasons(row, n, target=target, direction=direction)
            codes = reason_codes_of(r)
            table.append(codes + [""] * (n - len(codes)))
        return pd.DataFrame(
            table, index=self.data.index, columns=[f"reason_{k + 1}" for k in range(n)]
        )

    def to_shap(self):
        """Return a :class:`shap.Explanation`, so every shap plot works.

        Categorical and text columns become their integer codes in ``data``
        (shap colours points by number) and keep their raw values in
        ``display_data``.

        Returns
        -------
        explanation : shap.Explanation
            The same values, base values and feature names (and the class
            names as ``output_names`` for multiclass), with numeric ``data``
            and the raw values as ``display_data``.
        """
        shap = import_optional("shap", purpose=_PURPOSE)
        numeric, display = self._plot_data()
        return shap.Explanation(
            values=self.values,
            base_values=self.base_values,
            data=numeric,
            display_data=display,
            feature_names=list(self.feature_names),
            output_names=list(self.output_names) if self.is_multiclass else None,
        )

    def _plot_data(self):
        numeric = np.column_stack(
            [_as_number(self.data.iloc[:, j]) for j in range(self.data.shape[1])]
        )
        return numeric, self.data.astype(object).to_numpy()

    def _shap_one(self, target, rows):
        """A shap.Explanation of one output (2-D, or 1-D for one row)."""
        shap = import_optional("shap", purpose=_PURPOSE)
        values, base = self._slice(target)
        numeric, display = self._plot_data()
        return shap.Explanation(
            values=values[rows],
            base_values=base[rows],
            data=numeric[rows],
            display_data=display[rows],
            feature_names=list(self.feature_names),
        )

    def plot(self, kind="bar", *, row=0, target=None, max_display=10, ax=None):
        """Plot the explanation.

        Parameters
        ----------
        kind : {"bar", "beeswarm", "waterfall"}, default="bar"
            ``"bar"``: global importance (:meth:`importance`); ``"beeswarm"``:
            every row's value of every column (shap's beeswarm);
            ``"waterfall"``: how the columns move one row from the base value
            to its output (shap's waterfall).

        row : int, default=0
            The row of a waterfall plot (position in ``data``).

        target : class label, default=None
            For multiclass, the class to plot (bar: None sums over classes;
            waterfall: None is the predicted class).

        max_display : int, default=10
            Most columns shown.

        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None. shap's waterfall has no
            ``ax`` argument: it is drawn on ``ax``'s figure (made current).

        Returns
        -------
        ax : matplotlib Axes
            The Axes drawn on (for a waterfall, the main Axes of shap's
            figure).
        """
        if kind not in PLOT_KINDS:
            raise ValueError(f"kind must be one of {list(PLOT_KINDS)}, got {kind!r}.")
        plt = import_optional("matplotlib.pyplot", purpose="plotting explanations")
        if kind == "bar":
            if ax is None:
                _, ax = plt.subplots()
            self._plot(ax, target=target, max_display=max_display)
            return ax
        shap = import_optional("shap", purpose=_PURPOSE)
        if kind == "beeswarm":
            if self.is_multiclass and target is None:
                target = self.output_names[0]
            expl = self._shap_one(target, slice(None))
            return shap.plots.beeswarm(expl, max_display=max_display, ax=ax, show=False)
        if not 0 <= row < len(self):
            raise IndexError(f"row={row} is out of range for {len(self)} explained row(s).")
        expl = self._shap_one(self._row_target(row, target), row)
        if ax is None:
            plt.figure()
        else:
            plt.sca(ax)
        drawn = shap.plots.waterfall(expl, max_display=max_display, show=False)
        return drawn.figure.axes[0]  # shap returns the last of its twin axes

    def _plot(self, ax, target=None, max_display=10):
        imp = self.importance(target).iloc[:max_display][::-1]
        ax.barh([str(i) for i in imp.index], imp.to_numpy())
        ax.set_xlabel("mean |SHAP value|")
        ax.set_title(f"Importance ({self.output})")


def _as_number(series):
    """A numeric view of a raw column for colouring plots: category codes
    for non-numeric columns, NaN for missing values."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    codes, _ = pd.factorize(series, sort=False)
    codes = codes.astype("float64")
    codes[codes < 0] = np.nan
    return codes


def _show(value, quote=True):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "missing"
    if isinstance(value, str) and quote:
        return repr(value)
    return str(value)


def reason_codes_of(reasons):
    """Short codes ``"<feature>=<value> (<signed contribution>)"`` of a
    :meth:`Explanation.reasons` frame."""
    return [
        f"{f}={_show(v, quote=False)} ({c:+.3g})"
        for f, v, c in zip(
            reasons["feature"], reasons["value"], reasons["contribution"], strict=True
        )
    ]
