"""The one place that decides optional imports.

A module whose extra is missing fails with a :class:`~mlpipe.exceptions.MissingExtraError`
(an ``ImportError``) that names the extra to install.
"""

import importlib

from mlpipe.exceptions import MissingExtraError

# Which extra of mlpipe brings each optional dependency.
EXTRA_OF = {
    "shap": "explain",
    "matplotlib": "explain",
    "tpot": "automl",
    "ConfigSpace": "automl",  # a dependency of tpot: the search-space language
    "update_checker": "automl",  # a dependency of tpot
    "dask": "dask",
    "distributed": "dask",
    "tqdm": "automl",
    "pyarrow": "all",
}


def import_optional(name, *, extra=None, purpose=None):
    """Import ``name`` or fail with an error that says how to install it.

    Parameters
    ----------
    name : str
        Module to import, such as ``"shap"`` or ``"matplotlib.pyplot"``.

    extra : str, default=None
        The mlpipe extra that brings the module. ``None`` looks it up from the
        top-level package name.

    purpose : str, default=None
        What the module is needed for, to make the message concrete.

    Returns
    -------
    module : module
        The imported module.

    Raises
    ------
    MissingExtraError
        If the module cannot be imported.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".", 1)[0]
        extra = extra or EXTRA_OF.get(top, "all")
        what = f" for {purpose}" if purpose else ""
        raise MissingExtraError(
            f"{top!r} is required{what} but could not be imported ({exc}). "
            f'Install it with: pip install "mlpipe[{extra}]"'
        ) from exc
