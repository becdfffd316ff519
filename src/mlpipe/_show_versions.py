"""``mlpipe.show_versions()``: what to paste into a bug report."""

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

_DEPENDENCIES = (
    "mlpipe",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "numba",
    "shap",
    "matplotlib",
    "tpot",
    "dask",
    "distributed",
)


def _get_deps_info(names=_DEPENDENCIES):
    """The installed version of each distribution in ``names`` (None if absent)."""
    info = {}
    for name in names:
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = None
    return info


def show_versions():
    """Print the versions of Python, mlpipe and its dependencies.

    Missing optional dependencies are shown as ``None``.

    See Also
    --------
    sklearn.show_versions : The same report for scikit-learn.
    mlpipe.get_config : The configuration mlpipe runs with.

    Examples
    --------
    >>> import mlpipe
    >>> mlpipe.show_versions()  # doctest: +ELLIPSIS
    <BLANKLINE>
    System:
        python: ...
    """
    print("\nSystem:")
    print(f"    python: {sys.version.replace(chr(10), ' ')}")
    print(f"   machine: {platform.platform()}")
    print("\nPython dependencies:")
    for name, ver in _get_deps_info().items():
        print(f"{name:>12}: {ver}")
