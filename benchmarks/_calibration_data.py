"""The data sets of the calibration benchmark (``bench_calibration.py``).

Everything is local: scikit-learn's and statsmodels' bundled data, mlpipe's
credit data and seeded numpy data. Nothing is downloaded.

``REGISTRY`` maps a name to ``(loader, description)``; ``load(name)`` returns
``(X, description)`` with ``X`` a DataFrame. Loading is lazy so that listing
the registry costs nothing. ``SKIPPED`` names what was left out and why.

- ``sklearn_*``: every tabular data set scikit-learn bundles, the features
  only (``load_*(as_frame=True).data``; the target is not a column).
- ``sm_*``: ``statsmodels.datasets.<name>.load_pandas().data`` as it comes
  (endogenous and exogenous columns both, object and string columns kept).
- ``credit``: ``mlpipe.datasets.load_credit(return_X_y=True)[0]``, i.e. the
  nine features; the target ``risk`` is dropped.
- ``gen_<family>_<n>``: seeded numpy data of four families at 200, 2,000 and
  50,000 rows (see :func:`generated`).
"""

import importlib
import pkgutil
import warnings
import zlib

import numpy as np
import pandas as pd

SKLEARN = {
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
    "digits": "load_digits",
    "linnerud": "load_linnerud",
}

# statsmodels.datasets subpackages that are not data sets
_SM_NOT_DATA = {"tests": "the test suite of statsmodels.datasets, not a data set"}

SKIPPED = {
    "sklearn fetch_* (california_housing, covtype, openml, ...)": "downloaded at run time",
    "statsmodels.datasets.get_rdataset / webuse": "downloaded at run time",
    **{f"statsmodels.datasets.{k}": v for k, v in _SM_NOT_DATA.items()},
}

FAMILIES = ("heavy_tails", "counts", "categories", "missing_ties")
SIZES = (200, 2_000, 50_000)


def _sklearn_loader(func_name):
    def load():
        import sklearn.datasets

        return getattr(sklearn.datasets, func_name)(as_frame=True).data

    return load


def _statsmodels_names():
    try:
        import statsmodels.datasets as smd
    except ImportError:
        SKIPPED["statsmodels.datasets"] = "statsmodels is not installed (pip install statsmodels)"
        return []
    return sorted(
        m.name for m in pkgutil.iter_modules(smd.__path__) if m.ispkg and m.name not in _SM_NOT_DATA
    )


def _statsmodels_loader(name):
    def load():
        module = importlib.import_module(f"statsmodels.datasets.{name}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return module.load_pandas().data

    return load


def _credit():
    from mlpipe.datasets import load_credit

    return load_credit(return_X_y=True)[0]


def _zipf(rng, n, k, s=1.0):
    p = 1.0 / np.arange(1, k + 1) ** s
    return rng.choice(k, size=n, p=p / p.sum())


def generated(family, n, seed=0):
    """Seeded data of one family, ``n`` rows.

    - ``heavy_tails``: Cauchy, lognormal (sigma 1.5), Pareto (shape 1.16,
      the "80/20" one) and Student t with 2 degrees of freedom.
    - ``counts``: Poisson of mean 0.3, negative binomial (n=0.2, p=0.02:
      mostly 0 with rare values in the hundreds) and a zero-inflated Poisson
      (70% structural zeros, else mean 5); all int64.
    - ``categories``: Zipf over 80 labels (``category`` dtype) and over
      1,000 labels (``object`` dtype), 20 common labels with 30% singletons
      (each singleton unique) and 5 levels one of which has a 0.5% share
      (these two in pandas' default string dtype).
    - ``missing_ties``: normal with 18% missing completely at random,
      lognormal with 1% missing, a normal rounded to whole numbers (about 7
      levels), a binary 0/1 int64 column (30% ones) and a datetime column
      (seconds over the year 2024).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    rng = np.random.default_rng([seed, FAMILIES.index(family), n])
    if family == "heavy_tails":
        return pd.DataFrame(
            {
                "cauchy": rng.standard_cauchy(n),
                "lognormal": rng.lognormal(0.0, 1.5, n),
                "pareto": rng.pareto(1.16, n) + 1.0,
                "student_t2": rng.standard_t(2, n),
            }
        )
    if family == "counts":
        structural = rng.random(n) < 0.7
        return pd.DataFrame(
            {
                "poisson_0_3": rng.poisson(0.3, n),
                "negbin_rare_large": rng.negative_binomial(0.2, 0.02, n),
                "zero_inflated": np.where(structural, 0, rng.poisson(5.0, n)),
            }
        ).astype("int64")
    if family == "categories":
        labels80 = np.array([f"z{k:02d}" for k in range(80)], dtype=object)
        labels1000 = np.array([f"c{k:04d}" for k in range(1000)], dtype=object)
        common = np.array([f"common{k:02d}" for k in range(20)], dtype=object)
        singles = rng.random(n) < 0.3
        single_values = np.array([f"single{k:06d}" for k in range(n)], dtype=object)
        with_singletons = np.where(singles, single_values, common[rng.integers(0, 20, n)])
        rare = np.array(["a", "b", "c", "d", "rare"], dtype=object)
        rare_codes = rng.choice(5, size=n, p=[0.4, 0.3, 0.2, 0.095, 0.005])
        return pd.DataFrame(
            {
                "zipf80": pd.Categorical(labels80[_zipf(rng, n, 80)], categories=labels80),
                "zipf1000": pd.Series(labels1000[_zipf(rng, n, 1000)], dtype=object),
                "singletons30": with_singletons,
                "rare_level": rare[rare_codes],
            }
        )
    # missing_ties
    mcar = rng.normal(10.0, 2.0, n)
    mcar[rng.random(n) < 0.18] = np.nan
    one_pct = rng.lognormal(3.0, 0.5, n)
    one_pct[rng.random(n) < 0.01] = np.nan
    start = pd.Timestamp("2024-01-01").value // 10**9
    seconds = rng.integers(start, start + 366 * 86400, n)
    return pd.DataFrame(
        {
            "mcar18": mcar,
            "missing1": one_pct,
            "ties": np.round(rng.normal(0.0, 1.0, n)),
            "binary01": (rng.random(n) < 0.3).astype("int64"),
            "when": pd.to_datetime(seconds, unit="s"),
        }
    )


def _generated_loader(family, n):
    def load():
        return generated(family, n)

    return load


def _build_registry():
    registry = {}
    for short, func in SKLEARN.items():
        registry[f"sklearn_{short}"] = (
            _sklearn_loader(func),
            f"sklearn.datasets.{func}(as_frame=True).data (features only)",
        )
    for name in _statsmodels_names():
        registry[f"sm_{name}"] = (
            _statsmodels_loader(name),
            f"statsmodels.datasets.{name}.load_pandas().data",
        )
    registry["credit"] = (_credit, "mlpipe.datasets.load_credit, features only (risk dropped)")
    for family in FAMILIES:
        for n in SIZES:
            registry[f"gen_{family}_{n}"] = (
                _generated_loader(family, n),
                f"generated: {family}, {n:,} rows (seeded numpy)",
            )
    return registry


REGISTRY = _build_registry()


def load(name):
    """``(X, description)`` of a registered data set; ``X`` is a DataFrame."""
    loader, description = REGISTRY[name]
    X = loader()
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X)
    return X, description


def load_available(names=None):
    """``{name: (X, description)}`` of every data set that loads, and
    ``{name: reason}`` of those that do not (none is dropped silently)."""
    loaded, failed = {}, {}
    for name in names if names is not None else REGISTRY:
        try:
            loaded[name] = load(name)
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
    return loaded, failed


def stable_seed(*parts):
    """A seed from strings and ints that does not depend on PYTHONHASHSEED."""
    return zlib.crc32("/".join(map(str, parts)).encode())
