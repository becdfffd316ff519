"""The MLflow ``python_function`` model of a guarded pipeline.

MLflow builds it from the code file that :func:`mlpipe.mlflow.log_model` logs
beside the model (MLflow's "models from code"), so nothing of it is pickled;
its state is the skops file, loaded by :func:`mlpipe.load`.
"""

import threading

import pandas as pd

import mlpipe
from mlpipe.utils._optional import import_optional

mlflow = import_optional("mlflow", extra="mlflow", purpose="mlpipe.mlflow")

# The key of the skops file among the model's artifacts.
MODEL_ARTIFACT = "model"
# The estimator methods that ``params={"method": ...}`` may ask for.
METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")


class GuardedPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow's ``python_function`` face of a fitted mlpipe pipeline.

    :func:`mlpipe.mlflow.log_model` logs it; MLflow builds it when it loads
    the model (``mlflow.pyfunc.load_model``, ``mlflow models serve``), from
    the code file logged with the model, so nothing is unpickled. Its
    :meth:`load_context` loads the skops artifact with :func:`mlpipe.load`;
    its :meth:`predict` runs the pipeline itself, so the
    :class:`~mlpipe.validation.SchemaValidator` checks each batch (and raises
    or reports, as it was configured) and a
    :class:`~mlpipe.drift.DriftMonitor` records it, in the serving process.

    Calls are serialized by a lock: a pipeline with a windowed monitor keeps
    state between calls, and MLflow's scoring server may call from several
    threads.

    Attributes
    ----------
    model : estimator instance or None
        The fitted pipeline, once :meth:`load_context` has run.

    See Also
    --------
    mlpipe.mlflow.log_model : Log a pipeline as a model of this class.
    mlpipe.mlflow.load_model : The pipeline itself, not this wrapper.

    Examples
    --------
    MLflow builds it; a user calls ``predict`` through ``mlflow.pyfunc``:

    >>> import os, tempfile
    >>> import mlflow
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from mlpipe.datasets import load_credit
    >>> from mlpipe.mlflow import save_model
    >>> from mlpipe.validation import SchemaValidator
    >>> X, y = load_credit(return_X_y=True)
    >>> X = X[["age", "credit_amount", "duration"]]
    >>> pipe = make_pipeline(SchemaValidator(), LogisticRegression()).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "credit")
    >>> save_model(pipe, path, X=X, y=y)
    >>> served = mlflow.pyfunc.load_model(path)
    >>> type(served.unwrap_python_model()).__name__
    'GuardedPyfunc'
    >>> served.predict(X.head(3), params={"method": "predict_proba"}).shape
    (3, 2)
    """

    def __init__(self):
        self.model = None
        self._lock = threading.Lock()

    def load_context(self, context):
        """Load the pipeline from the model's skops artifact.

        Parameters
        ----------
        context : mlflow.pyfunc.PythonModelContext
            MLflow's context: ``context.artifacts["model"]`` is the local path
            of the skops file, and ``context.model_config["trusted"]``, when
            present, the types given as ``trusted`` to ``log_model``.
        """
        trusted = (context.model_config or {}).get("trusted") or None
        self.model = mlpipe.load(context.artifacts[MODEL_ARTIFACT], trusted=trusted)

    def predict(self, context, model_input: pd.DataFrame, params=None):
        """Run the pipeline on a batch: validated, monitored, predicted.

        Parameters
        ----------
        context : mlflow.pyfunc.PythonModelContext
            MLflow's context (unused: the pipeline was loaded by
            :meth:`load_context`).

        model_input : DataFrame of shape (n_samples, n_features)
            The batch, after MLflow has checked it against the model's
            signature.

        params : dict, default=None
            ``{"method": name}`` asks for another method of the pipeline than
            ``predict``: ``"predict_proba"``, ``"predict_log_proba"`` or
            ``"decision_function"``, where the pipeline has it.

        Returns
        -------
        output : ndarray
            What the method returns.

        Raises
        ------
        ValueError
            If ``params`` names a method the pipeline does not have, or the
            batch fails the pipeline's validator (its
            :class:`~mlpipe.exceptions.DataValidationError`).
        """
        method = (params or {}).get("method") or "predict"
        available = [m for m in METHODS if hasattr(self.model, m)]
        if method not in available:
            raise ValueError(
                f"params={{'method': {method!r}}}: this model answers {available}; "
                f"ask for one of them."
            )
        with self._lock:
            return getattr(self.model, method)(model_input)
