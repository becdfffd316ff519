"""mkdocs hooks of the mlpipe site (``hooks:`` in mkdocs.yml).

- The docstrings are numpydoc, written for Sphinx as well: their
  cross-reference roles (``:class:`DriftReport```) mean nothing to
  mkdocstrings, which would print the role's name before the code. They are
  shown as plain code.
- The quickstart notebook is rendered into the site from its stored outputs
  (``nox -s docs`` executes it first), with no plugin to install.
"""

import html
import re
from pathlib import Path

import nbformat
from mkdocs.structure.files import File

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|obj|exc|term):<code>~?")
# In a parameter's type, which is shown as code, the role stays raw text.
_ROLE_IN_CODE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|obj|exc|term):`~?([^`]+)`")
NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
RENDERED = {"quickstart.ipynb": "notebooks/quickstart.md"}


def on_page_content(html_text, page, config, files):
    return _ROLE_IN_CODE.sub(r"\1", _ROLE.sub("<code>", html_text))


def on_files(files, config):
    for name, uri in RENDERED.items():
        files.append(File.generated(config, uri, content=notebook_markdown(NOTEBOOKS / name)))
    return files


def _raw_html(text):
    # A raw HTML block of Markdown ends at a blank line: keep it in one piece.
    return "\n".join(line for line in text.splitlines() if line.strip())


def _output(out, source):
    if out.output_type == "stream":
        return f"```text\n{out.text.rstrip()}\n```"
    if out.output_type == "error":
        return f"```text\n{html.escape(out.ename)}: {html.escape(out.evalue)}\n```"
    data = out.get("data", {})
    if "image/png" in data:
        alt = html.escape(f"the figure drawn by {source.strip().splitlines()[-1]}")
        return f'<p><img alt="{alt}" src="data:image/png;base64,{data["image/png"].strip()}"></p>'
    if "text/html" in data:
        return f'<div class="nb-output">\n{_raw_html(data["text/html"])}\n</div>'
    if "text/plain" in data:
        return f"```text\n{data['text/plain'].rstrip()}\n```"
    return ""


def notebook_markdown(path):
    """The notebook as a Markdown page: its text, its code and stored outputs."""
    nb = nbformat.read(path, as_version=4)
    parts = [
        f"<!-- Rendered from notebooks/{path.name} with its stored outputs; "
        "edit the notebook, not this page. -->"
    ]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.cell_type == "code":
            parts.append(f"```python\n{cell.source}\n```")
            parts.extend(filter(None, (_output(out, cell.source) for out in cell.outputs)))
    parts.append(f"*This page is `notebooks/{path.name}`: open it in Jupyter to run it yourself.*")
    return "\n\n".join(parts) + "\n"
