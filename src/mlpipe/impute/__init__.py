"""DataFrame-aware imputers that pick a strategy per column type."""

from mlpipe.impute._group import GroupImputer
from mlpipe.impute._typed import TypedImputer

__all__ = ["GroupImputer", "TypedImputer"]
