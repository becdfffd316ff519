"""One self-contained HTML page: a summary of verdicts, then sections of
prose, tables, report blocks and captioned plots (PNG images embedded as
base64), with no external file or script.

The page is laid out for reading, not a copy of the terminal: each thing is
shown once, tables use the reports' layout (:func:`mlpipe._report.html_table`:
numbers right-aligned and never wrapped, wide tables scroll in their own box)
and every plot has a caption saying what it shows.
"""

import base64
import html
import io

from mlpipe._report import REPORT_CSS, REPORT_STYLE, html_table
from mlpipe.utils._optional import import_optional

_STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1200px; color: #1f2328; line-height: 1.5; padding: 1.5rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
.lede { color: #57606a; margin: 0 0 1.2rem; }
h2 { font-size: 1.25rem; margin: 2.4rem 0 .6rem; padding-bottom: .25rem;
     border-bottom: 1px solid #d0d7de; }
section > p { margin: .4rem 0; max-width: 75ch; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em;
       background: #f6f8fa; padding: .05rem .3rem; border-radius: 4px; }
.summary { border: 1px solid #d0d7de; border-radius: 8px; background: #f6f8fa;
           padding: .8rem 1.1rem; margin: 0 0 1rem; }
.summary h2 { margin: 0 0 .4rem; border: 0; padding: 0; font-size: 1.05rem; }
.summary table { border-collapse: collapse; }
.summary th { text-align: left; padding: .2rem 1rem .2rem 0; white-space: nowrap;
              vertical-align: top; font-weight: 600; }
.summary td { padding: .2rem 0; }
.summary a { color: inherit; text-decoration: none; border-bottom: 1px dotted #8c959f; }
.summary a:hover { border-bottom-style: solid; }
.summary a.tone-bad { color: #b00020; }
.summary a.tone-good { color: #2e7d32; }
figure { margin: 1rem 0 1.4rem; max-width: 100%; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #d0d7de;
             border-radius: 6px; }
figcaption { color: #57606a; font-size: .88rem; margin-top: .35rem; max-width: 75ch; }
ul.reasons { margin: .2rem 0 .6rem; }
.mlpipe-note { color: #57606a; font-size: .88rem; max-width: 75ch; }
footer { margin-top: 3rem; color: #656d76; font-size: .8rem; border-top: 1px solid #d0d7de;
         padding-top: .6rem; }
"""


class HtmlPage:
    """Collect a summary and sections, then write them as one HTML file."""

    def __init__(self, title, lede=""):
        self.title = title
        self.lede = lede
        self.verdicts = []
        self.parts = []
        self._open = False

    def verdict(self, label, text, anchor, tone=None):
        """One line of the summary at the top, linking to ``#anchor``."""
        self.verdicts.append((label, text, anchor, tone))

    def section(self, anchor, title):
        """Start a section: an ``<h2 id=anchor>``."""
        self._close()
        self.parts.append(f'<section id="{html.escape(anchor)}"><h2>{html.escape(title)}</h2>')
        self._open = True

    def _close(self):
        if self._open:
            self.parts.append("</section>")
            self._open = False

    def paragraph(self, text):
        """A paragraph of plain text (escaped)."""
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def items(self, lines, css_class="reasons"):
        """A bulleted list of plain-text lines."""
        body = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        self.parts.append(f'<ul class="{css_class}">{body}</ul>')

    def table(self, frame, formats=None, caption=None):
        """A DataFrame in the reports' table layout."""
        self.parts.append(html_table(frame, formats=formats, caption=caption))

    def report(self, obj, anchor=None):
        """A report object's own HTML view (its ``_repr_html_``)."""
        # The page carries the reports' style once, in its head.
        block = obj._repr_html_().replace(REPORT_STYLE, "")
        if anchor is not None:
            block = f'<div id="{html.escape(anchor)}">{block}</div>'
        self.parts.append(block)

    def figure(self, fig, caption, alt=None):
        """A matplotlib figure as an embedded PNG with its caption; the figure
        is closed."""
        plt = import_optional("matplotlib.pyplot", purpose="figures in an HTML report")

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        alt = caption if alt is None else alt
        self.parts.append(
            f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def _summary(self):
        if not self.verdicts:
            return ""
        rows = []
        for label, text, anchor, tone in self.verdicts:
            tone_class = f' class="tone-{tone}"' if tone else ""
            rows.append(
                f'<tr><th>{html.escape(label)}</th><td><a href="#{html.escape(anchor)}"'
                f"{tone_class}>{html.escape(text)}</a></td></tr>"
            )
        rows = "".join(rows)
        return f'<nav class="summary" id="summary"><h2>Summary</h2><table>{rows}</table></nav>'

    def render(self, footer=""):
        self._close()
        body = "\n".join(self.parts)
        lede = f'<p class="lede">{html.escape(self.lede)}</p>' if self.lede else ""
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}{REPORT_CSS}</style></head>"
            f"<body><header><h1>{html.escape(self.title)}</h1>{lede}</header>\n"
            f"{self._summary()}\n{body}\n"
            f"<footer>{html.escape(footer)}</footer></body></html>\n"
        )

    def save(self, path, footer=""):
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.render(footer))
