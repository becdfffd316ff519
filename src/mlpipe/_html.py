"""One self-contained HTML page: sections of text, report tables and plots
(PNG images embedded as base64), with no external file or script."""

import base64
import html
import io

from mlpipe.utils._optional import import_optional

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1f2328; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
pre { background: #f6f8fa; padding: .8rem 1rem; border-radius: 6px; overflow-x: auto;
      font-size: .82rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .6rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .55rem; text-align: right; }
th { background: #f6f8fa; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #d0d7de; border-radius: 6px; margin: .6rem 0; }
.mlpipe-report p { margin: .3rem 0; }
footer { margin-top: 3rem; color: #656d76; font-size: .8rem; }
"""


class HtmlPage:
    """Collect sections, then write them as one HTML file."""

    def __init__(self, title):
        self.title = title
        self.parts = []

    def heading(self, text):
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def text(self, text):
        if text.strip():
            self.parts.append(f"<pre>{html.escape(text.rstrip())}</pre>")

    def report(self, obj):
        """A report object's own HTML view (its ``_repr_html_``)."""
        self.parts.append(obj._repr_html_())

    def figure(self, fig, alt):
        """A matplotlib figure as an embedded PNG; the figure is closed."""
        plt = import_optional("matplotlib.pyplot", purpose="figures in an HTML report")

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        self.parts.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')

    def render(self, footer=""):
        body = "\n".join(self.parts)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>{html.escape(self.title)}</h1>\n{body}\n"
            f"<footer>{html.escape(footer)}</footer></body></html>\n"
        )

    def save(self, path, footer=""):
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.render(footer))
