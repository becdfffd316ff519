"""SHAP explanations of whole pipelines, in the user's raw column names.

Needs the ``explain`` extra (shap, matplotlib): ``pip install "mlpipe[explain]"``.
"""

from mlpipe.explain._explainer import _shap

_shap()  # fail now, with the install hint, when the extra is missing

from mlpipe.explain._explainer import PipelineExplainer, explain  # noqa: E402
from mlpipe.explain._explanation import Explanation  # noqa: E402
from mlpipe.explain._folding import FoldingError  # noqa: E402

__all__ = ["Explanation", "FoldingError", "PipelineExplainer", "explain"]
