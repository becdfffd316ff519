"""The fingerprint of a table: its row count, columns and a content hash.

One definition, shared by the model manifest (:func:`mlpipe.save` records the
training data's) and the run store (:mod:`mlpipe.monitor` records every
batch's), so that a batch and the training data are compared by the same hash.
"""

import hashlib
import json

import numpy as np
import pandas as pd

HASH_DESCRIPTION = (
    "sha256 of the column names and dtypes (JSON) and of "
    "pandas.util.hash_pandas_object(frame, index=False)"
)


def json_label(label):
    """A column label as JSON can hold it: str, int, float, bool or None kept,
    anything else (a tuple, a Timestamp) as its ``str``."""
    return label if isinstance(label, str | int | float | bool) or label is None else str(label)


def fingerprint(data, what="data"):
    """Row count, columns and dtypes, and a content hash of ``data``.

    Parameters
    ----------
    data : DataFrame, Series or array-like of 1 or 2 dimensions
        The table.

    what : str, default="data"
        Its name in error messages.

    Returns
    -------
    fingerprint : dict
        ``n_rows``, ``columns`` (a list of ``{"name", "dtype"}``), ``sha256``
        and ``hash`` (how the hash is computed). The index is not hashed.
    """
    if isinstance(data, pd.Series):
        frame = data.to_frame()
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        array = np.asarray(data)
        if array.ndim > 2:
            raise ValueError(f"{what} must be 1- or 2-dimensional, got shape {array.shape}.")
        frame = pd.DataFrame(array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1))
    columns = [{"name": json_label(c), "dtype": str(t)} for c, t in frame.dtypes.items()]
    digest = hashlib.sha256(json.dumps(columns, default=str).encode())
    try:
        rows = pd.util.hash_pandas_object(frame, index=False)
    except TypeError as err:
        raise ValueError(
            f"{what} holds values that cannot be hashed for the manifest's fingerprint: {err}"
        ) from err
    digest.update(rows.to_numpy().tobytes())
    return {
        "n_rows": len(frame),
        "columns": columns,
        "sha256": digest.hexdigest(),
        "hash": HASH_DESCRIPTION,
    }
