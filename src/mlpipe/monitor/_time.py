"""Times as the run store writes them: UTC ISO 8601 text with microseconds."""

import datetime

import pandas as pd


def utc_text(value, name="time"):
    """A time as the store writes it: UTC ISO 8601 with microseconds.

    A naive time is taken as UTC. The fixed width makes text order time order.
    """
    if isinstance(value, datetime.timedelta):
        raise TypeError(f"{name} must be a time, not a time span ({value!r}).")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a datetime or an ISO 8601 time; got {value!r}.") from err
    if stamp is pd.NaT:
        raise ValueError(f"{name} must be a time, got NaT.")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def now_text():
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
