"""numpy scalars as the Python values they hold."""

import numpy as np


def python_scalar(value):
    """A numpy scalar as the Python scalar it holds; anything else unchanged.

    For what people read and what is written out (JSON, reports, exported
    code): ``np.float64(0.5)`` prints as ``np.float64(0.5)`` under numpy 2 and
    ``json`` rejects ``np.int64``.

    Parameters
    ----------
    value : object
        Any value.

    Returns
    -------
    value : object
        ``value.item()`` for a numpy scalar (``np.generic``), else ``value``.

    Examples
    --------
    >>> import numpy as np
    >>> python_scalar(np.int64(3)), python_scalar(np.str_("a")), python_scalar([1])
    (3, 'a', [1])
    """
    return value.item() if isinstance(value, np.generic) else value
