"""The base of every result people read: drift, fairness and validation reports.

A report is a small dataclass with three views: ``to_frame()`` (a tidy
DataFrame), ``_repr_html_()`` (rendered by notebooks) and, where a picture says
more, ``plot(ax=None)`` (matplotlib, imported only when called).
"""

import html

from mlpipe.utils._optional import import_optional


class Report:
    """Base class of mlpipe's result objects.

    Subclasses are dataclasses that implement :meth:`to_frame` and may
    override :meth:`summary` and :meth:`_plot`.
    """

    title = "Report"

    def to_frame(self):
        """Return the report as a tidy :class:`pandas.DataFrame`."""
        raise NotImplementedError

    def summary(self):
        """Return a one-line verdict shown above the table."""
        return f"{len(self.to_frame())} row(s)"

    def __str__(self):
        frame = self.to_frame()
        body = frame.to_string(index=False) if len(frame) else "(empty)"
        return f"{self.title}: {self.summary()}\n{body}"

    def _repr_html_(self):
        frame = self.to_frame()
        table = (
            frame.to_html(index=False, border=0, classes="mlpipe-table", na_rep="")
            if len(frame)
            else "<p><em>(empty)</em></p>"
        )
        return (
            '<div class="mlpipe-report">'
            f"<strong>{html.escape(self.title)}</strong>"
            f"<p>{html.escape(self.summary())}</p>{table}</div>"
        )

    def plot(self, ax=None, **kwargs):
        """Plot the report with matplotlib.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure is made when ``None``.

        **kwargs : dict
            Passed to the report's own drawing code.

        Returns
        -------
        ax : matplotlib Axes
            The Axes drawn on: ``ax`` itself, or the Axes of the new figure.
        """
        plt = import_optional("matplotlib.pyplot", purpose="plotting reports")
        if ax is None:
            _, ax = plt.subplots()
        self._plot(ax, **kwargs)
        return ax

    def _plot(self, ax, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no plot.")
