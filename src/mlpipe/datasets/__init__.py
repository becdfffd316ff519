"""Small real data shipped with mlpipe, and seeded production batches of it."""

from mlpipe.datasets._credit import CREDIT_CATEGORICAL, load_credit, make_credit_batch

__all__ = ["CREDIT_CATEGORICAL", "load_credit", "make_credit_batch"]
