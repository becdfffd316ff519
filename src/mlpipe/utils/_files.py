"""Reading the data files of the command line and the monitoring loop.

:func:`read_table` reads a CSV or Parquet file, and refuses, with one line
naming the file and the problem, what is not a table of data: a missing,
unreadable, empty or header-only file, or one in another format than its
suffix says.
"""

from pathlib import Path

import pandas as pd


class DataFileError(ValueError):
    """A data file that cannot be read as a table (the message names it)."""


def one_line(exc):
    """The message of an exception on one line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _looks_like_text(head):
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in head


def read_table(path):
    """Read a CSV or Parquet file into a DataFrame (by its suffix).

    Raises :class:`DataFileError`, with one line naming the file and the problem,
    when the file is missing, unreadable, empty, has a header but no rows, or
    holds another format than its suffix says.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"no such file: {path}")
    if path.is_dir():
        raise DataFileError(f"{path}: is a directory, not a data file")
    suffix = path.suffix.lower()
    parquet = suffix in (".parquet", ".pq")
    if not parquet and suffix not in (".csv", ".txt", ".gz", ".bz2", ".zip"):
        raise DataFileError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")
    if parquet:
        from mlpipe.utils._optional import import_optional

        import_optional("pyarrow", purpose="reading Parquet files")
    try:
        with open(path, "rb") as file:
            head = file.read(8192)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read it: {exc.strerror or one_line(exc)}") from None
    if not head:
        raise DataFileError(f"{path}: the file is empty (no header, no rows)")
    if parquet:
        if head[:4] != b"PAR1":
            hint = "; it looks like a CSV file: name it .csv" if _looks_like_text(head) else ""
            raise DataFileError(f"{path}: not a Parquet file (no Parquet magic bytes){hint}")
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise DataFileError(f"{path}: cannot read it as Parquet: {one_line(exc)}") from None
    else:
        if head[:4] == b"PAR1":
            raise DataFileError(f"{path}: this is a Parquet file, not CSV: name it .parquet")
        if suffix in (".csv", ".txt") and not _looks_like_text(head):
            raise DataFileError(f"{path}: a binary file, not CSV text")
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise DataFileError(f"{path}: no header and no rows") from None
        except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError) as exc:
            raise DataFileError(f"{path}: cannot read it as CSV: {one_line(exc)}") from None
    if len(frame) == 0:
        raise DataFileError(
            f"{path}: no rows to check (a header with {frame.shape[1]} column(s), 0 rows)"
        )
    return frame
