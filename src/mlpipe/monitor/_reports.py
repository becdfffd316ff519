"""What the run store's lineage and staleness queries return."""

from dataclasses import dataclass, field

import pandas as pd

from mlpipe._report import Report


@dataclass
class Lineage(Report):
    """Where a run's data came from: its runs, their data and the model.

    Returned by :meth:`RunStore.lineage`. The walk starts at a run (a
    prediction batch, say), follows its parent runs up to the root (the
    batch), then the runs that read the same input (MLTRACE's IO pointers:
    the validation and drift runs of the same rows), and ends at the model of
    those runs with its training data's fingerprint, and at the reference the
    drift runs compared the rows with.

    Parameters
    ----------
    run_id : str
        The run the walk started from.

    frame : DataFrame
        The walk, see :meth:`to_frame`.

    model : dict or None
        The model's row in the store (``model_id``, ``name``, ``version``,
        ``estimator``, ``saved_at``, ``fitted_at``, ``training_sha256``,
        ...); None when no run of the walk names a model.

    training_data : dict or None
        ``sha256``, ``n_rows`` and ``n_columns`` of the model's training data
        (from its manifest); None without a model or a recorded fingerprint.

    references : list of dict
        The references the drift runs of the walk were compared with:
        ``run_id``, ``sha256``, ``n_rows``, ``n_columns``.

    See Also
    --------
    RunStore.lineage : The query that builds it.
    RunStore.runs : All runs, as a table.

    Examples
    --------
    >>> from mlpipe.monitor import RunStore
    >>> store = RunStore(":memory:")
    >>> run = store.record_predictions([0, 1, 1, 0], X=[[1.0], [2.0], [3.0], [4.0]])
    >>> lineage = store.lineage(run)
    >>> lineage.to_frame()[["relation", "kind", "role", "n_rows"]]
      relation         kind    role  n_rows
    0     self  predictions   input       4
    1     self  predictions  output       4
    >>> lineage.model is None
    True
    """

    title = "Lineage"

    run_id: str
    frame: pd.DataFrame = field(repr=False)
    model: dict | None = None
    training_data: dict | None = None
    references: list = field(default_factory=list)

    def to_frame(self):
        """Return one row per data set each run of the walk read or wrote.

        Returns
        -------
        frame : DataFrame
            Columns ``relation`` (``"self"``, ``"parent"`` (any ancestor),
            ``"same_input"`` or ``"model"``), ``depth`` (0 for the run, 1 for
            its parent, ...; the model rows take one more than the deepest
            run), ``run_id``, ``kind``, ``step``, ``status``, ``started_at``
            (UTC), ``model_id``, ``role`` (``"input"``, ``"output"``,
            ``"reference"``, ``"labels"``; for the model ``"training"`` and
            ``"target"``; missing for a run that recorded no data),
            ``sha256``, ``n_rows`` and ``n_columns``.
        """
        return self.frame.copy()

    def summary(self):
        """Return the walk in one line.

        Returns
        -------
        summary : str
            The run, its model and training data, and its references.
        """
        parts = [f"run {self.run_id}"]
        if self.model is not None:
            parts.append(f"model {self.model['model_id'][:12]} ({self.model.get('name')})")
        if self.training_data is not None:
            data = self.training_data
            parts.append(f"training data {data['sha256'][:12]} ({data['n_rows']} rows)")
        if self.references:
            shown = ", ".join(r["sha256"][:12] for r in self.references)
            parts.append(f"reference {shown}")
        return "; ".join(parts)


@dataclass
class StalenessReport(Report):
    """Whether a model is stale, and which rule said so.

    Returned by :meth:`RunStore.staleness`, which also records it as a run
    of kind ``"staleness"``. Two rules: the model's training data is older
    than ``max_age`` (its manifest's ``fitted_at``, else ``saved_at``), or
    ``k`` of its last ``m`` drift windows drifted.

    Parameters
    ----------
    model_id : str
        The model checked.

    stale : bool
        Whether a rule fired.

    rules : DataFrame
        One row per rule checked, see :meth:`to_frame`.

    run_id : str or None
        The staleness run recorded (None with ``record=False``).

    See Also
    --------
    RunStore.staleness : The check that returns it.

    Examples
    --------
    >>> import datetime
    >>> from mlpipe.monitor import RunStore
    >>> store = RunStore(":memory:")
    >>> saved = {"format": "mlpipe-model", "saved_at": "2026-01-01T00:00:00+00:00"}
    >>> model = store.add_model(saved, name="credit")
    >>> now = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    >>> report = store.staleness(model, max_age="30D", now=now)
    >>> report.stale, report.fired
    (True, ['max_age'])
    """

    title = "Staleness"

    model_id: str
    stale: bool
    rules: pd.DataFrame = field(repr=False)
    run_id: str | None = None

    @property
    def fired(self):
        """The rules that fired, by name (``"max_age"``, ``"drift_windows"``)."""
        return self.rules.loc[self.rules["fired"], "rule"].tolist()

    def to_frame(self):
        """Return one row per rule checked.

        Returns
        -------
        frame : DataFrame
            Columns ``rule`` (``"max_age"`` or ``"drift_windows"``),
            ``fired`` (bool), ``value`` (the training data's age in seconds,
            or the number of drifted windows), ``threshold`` (``max_age`` in
            seconds, or ``k``) and ``detail`` (the rule's reading in words).
        """
        return self.rules.copy()

    def summary(self):
        """Return the verdict in one line.

        Returns
        -------
        summary : str
            ``"stale: ..."`` with the details of the rules that fired, or
            ``"not stale: ..."``.
        """
        fired = self.rules[self.rules["fired"]]
        shown = fired if len(fired) else self.rules
        text = "; ".join(shown["detail"].tolist())
        return f"{'stale' if self.stale else 'not stale'}: {text}"
