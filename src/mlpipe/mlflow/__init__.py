"""MLflow for the versions of a guarded pipeline (the ``mlflow`` extra).

A fitted pipeline is logged as an MLflow ``python_function`` model whose
``predict`` validates and monitors (:class:`GuardedPyfunc`), with the skops
file of :func:`mlpipe.save`, its manifest, the schemas and the drift
references as artifacts, and a signature from the learned schema. It is
registered like any MLflow model, and loaded back as the pipeline itself
from ``runs:/...``, ``models:/name/version`` or ``models:/name@alias``::

    from mlpipe.mlflow import load_model, log_model

    with mlflow.start_run():
        log_model(pipe, "model", X=X, y=y, registered_model_name="credit")
    pipe = load_model("models:/credit@champion")

MLflow is imported on first use: ``import mlpipe.mlflow`` works without it,
and a function called without it raises an ``ImportError`` that says
``pip install "mlpipe[mlflow]"``.
"""

from mlpipe.mlflow._flavor import download_model, load_model, log_model, save_model

__all__ = ["GuardedPyfunc", "download_model", "load_model", "log_model", "save_model"]


def __getattr__(name):
    # The class subclasses MLflow's PythonModel: defined when first asked for.
    if name == "GuardedPyfunc":
        from mlpipe.mlflow._pyfunc import GuardedPyfunc

        return GuardedPyfunc
    raise AttributeError(f"module 'mlpipe.mlflow' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), "GuardedPyfunc"])
