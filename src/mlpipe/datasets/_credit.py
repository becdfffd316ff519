"""The German credit data (Statlog), and a production batch of it with drift
and defects whose ground truth is known."""

from importlib import resources
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from mlpipe.utils._sklearn_compat import Interval, validate_params

CREDIT_CATEGORICAL = (
    "sex",
    "housing",
    "saving_accounts",
    "checking_account",
    "purpose",
)
_TARGET = "risk"
_UNKNOWN = "not_known"


def _read_credit():
    with resources.files(__package__).joinpath("data/german_credit.csv").open() as f:
        frame = pd.read_csv(f)
    for col in CREDIT_CATEGORICAL:
        frame[col] = frame[col].astype("category")
    for col in ("job", "credit_amount", "duration", "age", _TARGET):
        frame[col] = frame[col].astype("int64")
    return frame


@validate_params(
    {"return_X_y": ["boolean"], "unknown_as_missing": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_credit(*, return_X_y=False, unknown_as_missing=False):
    """Load the German credit data (1,000 applicants, 9 features, binary risk).

    ====================  ===========================================
    Rows                  1000
    Features              9 (4 numeric, 5 categorical)
    Target ``risk``       1 = good credit risk (700), 0 = bad (300)
    Sensitive features    ``sex`` (category), ``age`` (years)
    ====================  ===========================================

    Columns: ``sex``, ``job`` (skill level 0-3, int), ``housing``,
    ``saving_accounts``, ``checking_account``, ``credit_amount`` (DM),
    ``duration`` (months), ``purpose``, ``age`` (years); the five text columns
    are ``category`` dtype, the rest ``int64``.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(X, y)`` with ``y`` the ``risk`` Series instead of
        one frame holding both.

    unknown_as_missing : bool, default=False
        The data marks an unknown savings or checking account as
        ``"not_known"`` (183 and 394 rows). By default that stays a category of
        its own, since "no known account" is informative. If True it becomes a
        missing value, which gives the imputers real gaps to fill.

    Returns
    -------
    frame : DataFrame of shape (1000, 10)
        Features and the ``risk`` target. Only when ``return_X_y=False``.

    (X, y) : tuple of DataFrame of shape (1000, 9) and Series of shape (1000,)
        Only when ``return_X_y=True``.

    See Also
    --------
    make_credit_batch : A production batch of it with known drift and defects.
    sklearn.datasets.fetch_openml : Where the full 20-feature data can be fetched.

    Notes
    -----
    Source: Prof. Hofmann, UCI Machine Learning Repository, "Statlog (German
    Credit Data)", in a preprocessed 10-column form licensed under the Open
    Data Commons Database Contents License (DbCL) v1.0; the licence note ships
    beside the data in ``mlpipe/datasets/data``.

    Examples
    --------
    >>> from mlpipe.datasets import load_credit
    >>> X, y = load_credit(return_X_y=True)
    >>> X.shape, float(y.mean())
    ((1000, 9), 0.7)
    >>> list(X["sex"].cat.categories)
    ['female', 'male']
    """
    frame = _read_credit()
    if unknown_as_missing:
        for col in ("saving_accounts", "checking_account"):
            frame[col] = frame[col].cat.remove_categories([_UNKNOWN])
    if return_X_y:
        return frame.drop(columns=_TARGET), frame[_TARGET]
    return frame


@validate_params(
    {
        "n_samples": [Interval(Integral, 20, None, closed="left")],
        "drift": ["boolean"],
        "defects": ["boolean"],
        "unknown_as_missing": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_credit_batch(
    n_samples=500, *, drift=True, defects=True, unknown_as_missing=False, random_state=0
):
    """Make a "production" batch of credit applications with known drift and defects.

    Rows are drawn with replacement from :func:`load_credit`. With
    ``drift=True`` the draw and the values change the way a lender's
    applicants might a year later:

    - ``age``: younger applicants are drawn three times as often (a new
      online channel), so the age distribution shifts down;
    - ``credit_amount``: every amount grows by 30% (inflation and larger
      loans);
    - ``purpose``: ``car`` loans are drawn three times as often;
    - ``duration``: terms grow by 12 months.

    Drawing some applicants more often also shifts columns correlated with
    age and purpose a little (``checking_account``, ``job``); ``drifted`` lists
    the columns shifted on purpose, which a drift detector must find.

    With ``defects=True`` a few rows are broken the way pipelines break:

    - ``credit_amount``: 5 missing values (the column never had any);
    - ``duration``: 3 negative terms (out of the training range);
    - ``purpose``: 4 applications with an unseen category ``"crypto"``;
    - ``housing``: 2 values in upper case (``"OWN"``, unseen spelling);
    - ``age``: 2 impossible ages (``999``).

    Parameters
    ----------
    n_samples : int, default=500
        Number of rows.

    drift : bool, default=True
        Whether to shift distributions as described above.

    defects : bool, default=True
        Whether to inject the defects described above.

    unknown_as_missing : bool, default=False
        As in :func:`load_credit`: pass the same value as for the training
        data, so that an unknown account is spelled the same way in both.

    random_state : int, RandomState instance or None, default=0
        Seed of the draw and of the rows that get defects.

    Returns
    -------
    batch : :class:`~sklearn.utils.Bunch`
        - ``X``: DataFrame of shape (n_samples, 9), the same columns and
          dtypes as :func:`load_credit` (categories widened where a defect
          needs it);
        - ``y``: Series, the ``risk`` of the drawn rows;
        - ``drifted``: list of the columns whose distribution was shifted;
        - ``defects``: DataFrame with one row per injected defect: ``column``,
          ``defect``, ``rows`` (list of row labels of ``X``).

    See Also
    --------
    load_credit : The training data the batch is drawn from.
    mlpipe.drift.DriftDetector : Finds the columns listed in ``drifted``.
    mlpipe.validation.SchemaValidator : Finds the rows listed in ``defects``.

    Examples
    --------
    >>> from mlpipe.datasets import make_credit_batch
    >>> batch = make_credit_batch(200, random_state=1)
    >>> batch.X.shape
    (200, 9)
    >>> batch.drifted
    ['age', 'credit_amount', 'purpose', 'duration']
    >>> batch.defects["column"].tolist()
    ['credit_amount', 'duration', 'purpose', 'housing', 'age']
    """
    rng = check_random_state(random_state)
    data = load_credit(unknown_as_missing=unknown_as_missing)
    weights = np.ones(len(data))
    if drift:
        weights[data["age"].to_numpy() < 30] *= 3.0
        weights[(data["purpose"] == "car").to_numpy()] *= 3.0
    rows = rng.choice(len(data), size=n_samples, replace=True, p=weights / weights.sum())
    frame = data.iloc[rows].reset_index(drop=True)
    drifted = []
    if drift:
        frame["credit_amount"] = np.round(frame["credit_amount"] * 1.3).astype("int64")
        frame["duration"] = frame["duration"] + 12
        drifted = ["age", "credit_amount", "purpose", "duration"]

    defect_rows = []
    if defects:
        chosen = rng.choice(n_samples, size=16, replace=False)
        spans = {}
        start = 0
        for name, k in (
            ("credit_amount", 5),
            ("duration", 3),
            ("purpose", 4),
            ("housing", 2),
            ("age", 2),
        ):
            spans[name] = sorted(int(i) for i in chosen[start : start + k])
            start += k
        frame["credit_amount"] = frame["credit_amount"].astype("float64")
        frame.loc[spans["credit_amount"], "credit_amount"] = np.nan
        frame.loc[spans["duration"], "duration"] = -frame.loc[spans["duration"], "duration"]
        frame["purpose"] = frame["purpose"].cat.add_categories(["crypto"])
        frame.loc[spans["purpose"], "purpose"] = "crypto"
        frame["housing"] = frame["housing"].cat.add_categories(["OWN"])
        frame.loc[spans["housing"], "housing"] = "OWN"
        frame.loc[spans["age"], "age"] = 999
        defect_rows = [
            ("credit_amount", "missing values", spans["credit_amount"]),
            ("duration", "negative values", spans["duration"]),
            ("purpose", "unseen category 'crypto'", spans["purpose"]),
            ("housing", "unseen category 'OWN'", spans["housing"]),
            ("age", "impossible value 999", spans["age"]),
        ]
    return Bunch(
        X=frame.drop(columns=_TARGET),
        y=frame[_TARGET],
        drifted=drifted,
        defects=pd.DataFrame(defect_rows, columns=["column", "defect", "rows"]),
    )
