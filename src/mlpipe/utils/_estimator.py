"""What every mlpipe estimator shares: its input tags and its documentation link."""

import itertools

# Where mlpipe's documentation (mkdocs, API pages from docs/api/*.md) is served.
DOCS_URL = "https://mlpipe.readthedocs.io/en/latest/"

# An estimator's API page, ``api/<subpackage>/``, and on it the anchor that
# mkdocstrings gives the object, its public dotted path.
DOC_LINK_TEMPLATE = DOCS_URL + "api/{page}/#{estimator_module}.{estimator_name}"


def public_module(cls):
    """The public module a class is imported from: its module up to the first
    private part (``mlpipe.impute._typed`` -> ``mlpipe.impute``), the rule
    scikit-learn's own doc links follow."""
    parts = itertools.takewhile(lambda p: not p.startswith("_"), cls.__module__.split("."))
    return ".".join(parts)


class MlpipeEstimatorMixin:
    """Mixin of every mlpipe estimator: DataFrame-first input tags and doc links.

    - Tags: mlpipe estimators take tables as users have them, so missing
      values, string and categorical columns are allowed input
      (``allow_nan``, ``string``, ``categorical``). A transformer is declared
      to preserve float64 and float32, since mlpipe's transformers pass each
      column through in its own dtype; one that does not (an encoder)
      says so in its own ``__sklearn_tags__``, after ``super()``.
    - Doc link: the notebook HTML repr of an estimator links to its entry in
      mlpipe's API pages, ``{DOCS_URL}api/<subpackage>/#<public path>``,
      e.g. ``api/impute/#mlpipe.impute.TypedImputer``.

    Put it left of scikit-learn's mixins, with ``BaseEstimator`` last.

    Examples
    --------
    >>> from mlpipe.impute import TypedImputer
    >>> TypedImputer()._get_doc_link()
    'https://mlpipe.readthedocs.io/en/latest/api/impute/#mlpipe.impute.TypedImputer'
    """

    _doc_link_module = "mlpipe"
    _doc_link_template = DOC_LINK_TEMPLATE

    def _doc_link_url_param_generator(self):
        module = public_module(type(self))
        parts = module.split(".")
        return {
            "page": parts[1] if len(parts) > 1 else "core",
            "estimator_module": module,
            "estimator_name": type(self).__name__,
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
