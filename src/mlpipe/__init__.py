"""mlpipe: scikit-learn pipeline steps that guard a model in production.

Subpackages are imported explicitly, so ``import mlpipe`` stays cheap::

    from mlpipe.impute import TypedImputer
    from mlpipe.datasets import load_credit

``mlpipe.save``, ``mlpipe.load`` and ``mlpipe.read_manifest`` are imported on
first use (skops, which they use, imports all of scikit-learn's estimators).
"""

from mlpipe._config import config_context, get_config, set_config
from mlpipe._show_versions import show_versions

__version__ = "0.1.0.dev0"

__all__ = [
    "__version__",
    "config_context",
    "get_config",
    "load",
    "read_manifest",
    "save",
    "set_config",
    "show_versions",
]

_PERSISTENCE = ("load", "read_manifest", "save")


def __getattr__(name):
    if name in _PERSISTENCE:
        from mlpipe import _persistence

        return getattr(_persistence, name)
    raise AttributeError(f"module 'mlpipe' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_PERSISTENCE])
