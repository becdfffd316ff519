"""mkdocs hooks of the mlpipe site (``hooks:`` in mkdocs.yml).

The docstrings are numpydoc, written for Sphinx as well: their cross-reference
roles (``:class:`DriftReport```) mean nothing to mkdocstrings, which would
print the role's name before the code. They are shown as plain code.
"""

import re

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|obj|exc|term):(?=<code>)")


def on_page_content(html, page, config, files):
    return _ROLE.sub("", html)
