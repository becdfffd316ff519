"""AutoML: TPOT-style evolutionary search over pipelines of mlpipe and
scikit-learn steps (extra ``mlpipe[automl]``)."""

from mlpipe.automl._search import PipelineSearch
from mlpipe.automl._spaces import Step
from mlpipe.automl._steps import TabularEncoder

__all__ = ["PipelineSearch", "Step", "TabularEncoder"]
