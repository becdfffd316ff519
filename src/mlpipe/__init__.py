"""mlpipe: scikit-learn pipeline steps that guard a model in production.

Subpackages are imported explicitly, so ``import mlpipe`` stays cheap::

    from mlpipe.impute import TypedImputer
    from mlpipe.datasets import load_credit
"""

from mlpipe._config import config_context, get_config, set_config
from mlpipe._show_versions import show_versions

__version__ = "0.1.0.dev0"

__all__ = [
    "__version__",
    "config_context",
    "get_config",
    "set_config",
    "show_versions",
]
