"""``python -m mlpipe`` is the ``mlpipe`` command."""

from mlpipe.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
