"""The table of every pipeline a search evaluated (``results_``)."""

import inspect
import math

import numpy as np
import pandas as pd

from mlpipe.automl._evaluation import flatten


def results_table(evaluated, objective_names):
    """TPOT's evaluated_individuals as a tidy table."""
    rows = evaluated.copy()
    error = rows["Eval Error"] if "Eval Error" in rows else pd.Series(None, index=rows.index)
    table = pd.DataFrame(
        {
            "pipeline": [_describe(ind) for ind in rows["Individual"]],
            "generation": rows["Generation"].to_numpy(),
        },
        index=rows.index,
    )
    for name in objective_names:
        table[name] = pd.to_numeric(rows[name], errors="coerce").to_numpy()
    submitted = pd.to_numeric(rows.get("Submitted Timestamp"), errors="coerce")
    completed = pd.to_numeric(rows.get("Completed Timestamp"), errors="coerce")
    table["eval_seconds"] = (completed - submitted).to_numpy()
    table["error"] = [e if isinstance(e, str) else None for e in error]
    front = rows["Pareto_Front"] if "Pareto_Front" in rows else pd.Series(np.nan, index=rows.index)
    table["pareto_front"] = (pd.to_numeric(front, errors="coerce") == 1).to_numpy()
    return table.reset_index(drop=True)


def _describe(individual):
    try:
        pipeline = flatten(individual.export_pipeline())
    except Exception as exc:  # a candidate that cannot even be built
        return f"<unbuildable: {exc}>"
    return " -> ".join(type(est).__name__ + _short_params(est) for _, est in pipeline.steps)


def _short_params(est):
    changed = {
        k: v
        for k, v in est.get_params(deep=False).items()
        if k != "random_state" and _differs(v, _default(est, k))
    }
    if not changed:
        return ""
    parts = [f"{k}={_fmt(v)}" for k, v in changed.items()]
    return "(" + ", ".join(parts) + ")"


def _default(est, name):
    param = inspect.signature(type(est)).parameters.get(name)
    return None if param is None else param.default


def _differs(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return False
    try:
        return bool(a != b)
    except (TypeError, ValueError):
        return True


def _fmt(v):
    if isinstance(v, float) and math.isfinite(v):
        return f"{v:.3g}"
    return repr(v)
