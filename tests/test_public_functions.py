"""Parameter validation of every public function, as scikit-learn tests its own
(sklearn/tests/test_public_functions.py).

The functions are found by walking the package: every name in the ``__all__``
of ``mlpipe`` and of each public subpackage that is a function, so a new one
cannot be forgotten. Each must be wrapped by ``validate_params`` with a
constraint for every parameter, and each constraint must reject a value of a
wrong type and, where one can be made, a wrong value of the right type, with
an ``InvalidParameterError`` that names the parameter.
"""

import importlib
import inspect
import pkgutil
from numbers import Integral, Real

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import mlpipe
from mlpipe.utils._sklearn_compat import (
    Interval,
    InvalidParameterError,
    generate_invalid_param_val,
    generate_valid_param,
    make_constraint,
)

# Modules whose functions are not library API: the command line parses and
# checks its own argv (argparse).
NOT_API = {"mlpipe.cli", "mlpipe.utils"}


def _public_modules():
    names = ["mlpipe"]
    for info in pkgutil.iter_modules(mlpipe.__path__, prefix="mlpipe."):
        if not info.name.rsplit(".", 1)[1].startswith("_") and info.name not in NOT_API:
            names.append(info.name)
    return names


def _public_functions():
    found = {}
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found.setdefault(f"{module_name}.{name}", obj)
    return found


PUBLIC_FUNCTIONS = _public_functions()


def _parameters(func):
    return [
        p
        for p in inspect.signature(func).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def test_the_walk_finds_the_functions_of_every_subpackage():
    # Not a hard-coded list of all functions (the walk is the list), but the
    # walk must reach each kind of subpackage that has public functions.
    names = {n.rsplit(".", 1)[1] for n in PUBLIC_FUNCTIONS}
    for expected in (
        "set_config",
        "load_credit",
        "make_credit_batch",
        "audit_fairness",
        "check_bias",
        "selection_rate",
        "group_metrics",
        "explain",
        "check_data_quality",
        "check_leakage",
    ):
        assert expected in names


@pytest.mark.parametrize("qualname", sorted(PUBLIC_FUNCTIONS))
def test_public_function_is_wrapped_by_validate_params(qualname):
    func = PUBLIC_FUNCTIONS[qualname]
    params = [p.name for p in _parameters(func)]
    if not params:
        # Nothing to validate (get_config, show_versions).
        assert not hasattr(func, "_skl_parameter_constraints")
        return
    constraints = getattr(func, "_skl_parameter_constraints", None)
    assert constraints is not None, f"{qualname} is not wrapped by validate_params"
    assert set(constraints) == set(params), (
        f"{qualname}: constraints for {sorted(set(constraints) - set(params))} that are "
        f"not parameters, parameters {sorted(set(params) - set(constraints))} without "
        "constraints"
    )


def _valid_required(func, constraints):
    values = {}
    for p in _parameters(func):
        if p.default is not p.empty:
            continue
        if constraints[p.name] == "no_validation":
            values[p.name] = 1
        else:
            values[p.name] = generate_valid_param(make_constraint(constraints[p.name][0]))
    return values


VALIDATED = sorted(
    name for name, func in PUBLIC_FUNCTIONS.items() if hasattr(func, "_skl_parameter_constraints")
)


@pytest.mark.parametrize("qualname", VALIDATED)
def test_public_function_rejects_invalid_parameters(qualname):
    func = PUBLIC_FUNCTIONS[qualname]
    func_name = qualname.rsplit(".", 1)[1]
    constraints = func._skl_parameter_constraints
    required = _valid_required(func, constraints)
    bad_type = type("BadType", (), {})()
    checked = 0
    for param in _parameters(func):
        name = param.name
        if constraints[name] == "no_validation":
            continue
        intervals = [c for c in constraints[name] if isinstance(c, Interval)]
        assert not (
            any(c.type is Integral for c in intervals) and any(c.type is Real for c in intervals)
        ), f"{qualname}: {name} mixes Integral and Real intervals; use RealNotInt"
        match = rf"The '{name}' parameter of {func_name} must be .* Got .* instead\."
        with pytest.raises(InvalidParameterError, match=match):
            func(**{**required, name: bad_type})
        checked += 1
        for constraint in map(make_constraint, constraints[name]):
            try:
                bad_value = generate_invalid_param_val(constraint)
            except NotImplementedError:
                continue
            with pytest.raises(InvalidParameterError, match=match):
                func(**{**required, name: bad_value})
            checked += 1
    assert checked, f"{qualname} validates none of its parameters"


# -- regression: what passed silently or raised an unclear error on 553d92d --


def _labels():
    y = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    sex = np.array(["f", "f", "f", "f", "m", "m", "m", "m"])
    return y, sex


def _frame():
    y, sex = _labels()
    return pd.DataFrame({"sex": sex, "age": np.arange(8) * 5 + 20}), y


def _fitted_linear():
    X = np.arange(20.0).reshape(10, 2) ** 1.5
    return LinearRegression().fit(X, X.sum(axis=1)), X


def _call(name):
    from mlpipe.datasets import load_credit, make_credit_batch
    from mlpipe.explain import explain
    from mlpipe.fairness import audit_fairness, check_bias, group_metrics, selection_rate
    from mlpipe.validation import check_data_quality

    y, sex = _labels()
    X, _ = _frame()
    model, Xm = _fitted_linear()
    return {
        # silently ran with a negative threshold: no group is ever "small"
        "min_group_size": lambda: audit_fairness(
            y, y, sensitive_features=sex, min_group_size=-1, n_boot=0
        ),
        # silently accepted a float count of replicates
        "n_boot": lambda: audit_fairness(y, y, sensitive_features=sex, n_boot=2.0),
        # silently measured no chance level at all
        "n_permutations": lambda: check_bias(X, y, sensitive_features="sex", n_permutations=-3),
        # silently flagged every group as under-represented
        "min_group_share": lambda: check_bias(X, y, sensitive_features="sex", min_group_share=5),
        # TypeError: 'int' object is not iterable
        "metrics": lambda: group_metrics(y, y, sensitive_features=sex, metrics=42),
        # silently compared every prediction with a list (broadcast)
        "pos_label": lambda: selection_rate(y, y, pos_label=[1]),
        # a truthy string silently returned (X, y)
        "return_X_y": lambda: load_credit(return_X_y="no"),
        # TypeError: '<' not supported between instances of 'str' and 'int'
        "n_samples": lambda: make_credit_batch("100"),
        # TypeError: len() of unsized object
        "target": lambda: check_data_quality(X, target=3.5),
        # silently ignored: the seed is only used when rows are drawn
        "random_state": lambda: explain(model, Xm, random_state="seed"),
    }[name]


@pytest.mark.parametrize(
    "param",
    [
        "min_group_size",
        "n_boot",
        "n_permutations",
        "min_group_share",
        "metrics",
        "pos_label",
        "return_X_y",
        "n_samples",
        "target",
        "random_state",
    ],
)
def test_bad_parameter_that_base_let_through_is_named(param):
    with pytest.raises(InvalidParameterError, match=rf"The '{param}' parameter of "):
        _call(param)()
