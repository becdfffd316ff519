"""Search spaces of PipelineSearch: presets built from mlpipe and scikit-learn
steps, and the small spec users write to add their own."""

import copy
import importlib.util
import inspect
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.feature_selection import SelectPercentile, VarianceThreshold
from sklearn.impute import IterativeImputer, KNNImputer
from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge
from sklearn.preprocessing import FunctionTransformer

from mlpipe.automl._steps import TabularEncoder
from mlpipe.automl._tpot import import_tpot, python_scalars
from mlpipe.impute import TypedImputer
from mlpipe.utils._optional import import_optional

STAGES = ("imputation", "encoding", "selection", "learner")
PRESETS = ("light", "default", "full")


@dataclass(frozen=True)
class Step:
    """A step the search may use, with the ranges of its hyperparameters.

    A frozen description, not an estimator: :class:`PipelineSearch` turns
    each step of its search space into a ConfigSpace of the hyperparameter
    ranges (:meth:`configuration_space`) and a TPOT node that samples
    instances of ``estimator`` from it (:meth:`node`). Give a list of steps
    to ``PipelineSearch`` to search your own estimators next to, or instead
    of, the presets.

    Parameters
    ----------
    estimator : type
        A scikit-learn compatible estimator class.

    params : dict, default={}
        Hyperparameter ranges, by name:

        - a list is a choice among its values: ``{"kernel": ["rbf", "linear"]}``;
        - a 2-tuple of ints is an integer range, of floats a float range,
          both ends included: ``{"max_depth": (2, 10)}``;
        - a 3-tuple ending in ``"log"`` samples on a log scale:
          ``{"C": (1e-3, 1e2, "log")}``;
        - anything else is a fixed value: ``{"max_iter": 2000}``.

    stage : {"imputation", "encoding", "selection", "learner"}, default="learner"
        Where the step goes in the pipeline. Imputers see the raw frame;
        encoders turn it into numbers; selectors and learners see numbers.

    See Also
    --------
    PipelineSearch : The search that assembles pipelines from steps.
    TabularEncoder : The encoding step of the preset search spaces.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from mlpipe.automl import Step
    >>> Step(SVC, {"C": (1e-2, 1e2, "log"), "kernel": ["rbf", "linear"],
    ...            "probability": True})  # doctest: +ELLIPSIS
    Step(estimator=<class 'sklearn.svm._classes.SVC'>, ...)
    """

    estimator: type
    params: dict = field(default_factory=dict)
    stage: str = "learner"

    def __post_init__(self):
        if self.stage not in STAGES:
            raise ValueError(f"Step.stage must be one of {STAGES}, got {self.stage!r}.")
        if not inspect.isclass(self.estimator):
            raise TypeError(
                f"Step.estimator must be an estimator class, got {self.estimator!r}; "
                "pass the class and put its parameters in params."
            )

    def configuration_space(self, random_state=None):
        """Build the ConfigSpace of this step's hyperparameters.

        Parameters
        ----------
        random_state : int, default=None
            Seed fixed as the constant hyperparameter ``random_state`` when
            the estimator takes one and ``params`` does not set it; None adds
            nothing.

        Returns
        -------
        space : ConfigSpace.ConfigurationSpace
            One hyperparameter per entry of ``params``: a list becomes a
            categorical (None spelled ``"<NONE>"``), a range an integer or
            float hyperparameter (on a log scale for ``"log"``), anything else
            a constant.

        Raises
        ------
        ValueError
            If a 3-tuple range does not end in ``"log"``.
        """
        cs = import_optional("ConfigSpace", purpose="AutoML search spaces")
        Categorical, Float, Integer = cs.Categorical, cs.Float, cs.Integer
        space = {}
        for name, spec in self.params.items():
            if isinstance(spec, list):
                values = ["<NONE>" if v is None else v for v in spec]
                space[name] = Categorical(name, values)
            elif isinstance(spec, tuple) and len(spec) in (2, 3):
                low, high = spec[:2]
                log = len(spec) == 3 and spec[2] == "log"
                if len(spec) == 3 and not log:
                    raise ValueError(f"{name}: a 3-tuple range must end in 'log', got {spec!r}")
                if isinstance(low, int) and isinstance(high, int):
                    space[name] = Integer(name, (low, high), log=log)
                else:
                    space[name] = Float(name, (float(low), float(high)), log=log)
            else:
                space[name] = "<NONE>" if spec is None else spec
        takes_seed = "random_state" in inspect.signature(self.estimator).parameters
        if takes_seed and random_state is not None and "random_state" not in self.params:
            space["random_state"] = int(random_state)
        return cs.ConfigurationSpace(space)

    def node(self, random_state=None):
        """Build the TPOT node that samples this step.

        Parameters
        ----------
        random_state : int, default=None
            Passed to :meth:`configuration_space`.

        Returns
        -------
        node : tpot.search_spaces.nodes.EstimatorNode
            A node that samples ``estimator`` with hyperparameters drawn from
            :meth:`configuration_space`, converted to plain Python values
            (None for ``"<NONE>"``).
        """
        tpot = import_tpot()
        space = self.configuration_space(random_state)
        if not len(space):
            # TPOT samples nothing from an empty space; a fixed dict says the same.
            space = {}
        return tpot.search_spaces.nodes.EstimatorNode(
            self.estimator, space, hyperparameter_parser=python_scalars
        )


def _identity_step():
    return Step(FunctionTransformer, {}, stage="selection")


# Ranges shared by the classifier and regressor of each ensemble.
_FOREST = {"n_estimators": 100, "max_features": (0.1, 1.0), "min_samples_leaf": (1, 20)}
_BOOSTING = {
    "learning_rate": (0.01, 0.3, "log"),
    "max_leaf_nodes": (4, 64),
    "min_samples_leaf": (5, 100, "log"),
    "l2_regularization": (1e-6, 1.0, "log"),
}


def preset_steps(name, *, classification):
    """The steps of a preset, by stage."""
    if name not in PRESETS:
        raise ValueError(f"search_space must be one of {PRESETS} or a dict, got {name!r}.")
    light = name == "light"
    steps = {stage: [] for stage in STAGES}
    steps["imputation"].append(
        Step(
            TypedImputer,
            {"numeric_strategy": ["median", "mean"], "add_indicator": [False, "auto"]},
            stage="imputation",
        )
    )
    steps["encoding"].append(
        Step(
            TabularEncoder,
            {
                "categorical": ["onehot"] if light else ["onehot", "ordinal"],
                "scaler": ["standard"] if light else ["standard", "robust", "none"],
            },
            stage="encoding",
        )
    )
    steps["selection"].append(_identity_step())
    if not light:
        steps["imputation"].append(
            Step(
                KNNImputer,
                {"n_neighbors": (3, 15), "weights": ["uniform", "distance"]},
                stage="imputation",
            ),
        )
    if name == "full":
        # Iterative imputation fits a regressor per column and round: on the
        # credit data it cost 20-30 s per candidate, too slow for "default".
        steps["imputation"].append(
            Step(
                IterativeImputer,
                {"max_iter": 5, "initial_strategy": ["mean", "median"], "n_nearest_features": 10},
                stage="imputation",
            ),
        )
    if not light:
        steps["selection"].append(
            Step(VarianceThreshold, {"threshold": (0.0, 0.05)}, stage="selection")
        )
        if classification:  # its default score, f_classif, is for class labels
            steps["selection"].append(
                Step(SelectPercentile, {"percentile": (20, 100)}, stage="selection")
            )
    if classification:
        linear = Step(LogisticRegression, {"C": (1e-3, 1e2, "log"), "max_iter": 2000})
        forest, boosting, extra_trees = (
            RandomForestClassifier,
            HistGradientBoostingClassifier,
            ExtraTreesClassifier,
        )
    else:
        linear = Step(Ridge, {"alpha": (1e-3, 1e3, "log")})
        forest, boosting, extra_trees = (
            RandomForestRegressor,
            HistGradientBoostingRegressor,
            ExtraTreesRegressor,
        )
    steps["learner"] += [linear, Step(forest, dict(_FOREST)), Step(boosting, dict(_BOOSTING))]
    if not light:
        if not classification:
            steps["learner"].append(
                Step(
                    ElasticNet,
                    {"alpha": (1e-4, 10.0, "log"), "l1_ratio": (0.0, 1.0), "max_iter": 5000},
                )
            )
        steps["learner"].append(Step(extra_trees, dict(_FOREST)))
    if name == "full":
        steps["learner"] += _boosting_libraries(classification)
    return steps


def _boosting_libraries(classification):
    steps = []
    if importlib.util.find_spec("xgboost") is not None:
        import xgboost

        cls = xgboost.XGBClassifier if classification else xgboost.XGBRegressor
        steps.append(
            Step(
                cls,
                {
                    "n_estimators": 200,
                    "learning_rate": (0.01, 0.3, "log"),
                    "max_depth": (2, 8),
                    "subsample": (0.5, 1.0),
                    "n_jobs": 1,
                    "verbosity": 0,
                },
            )
        )
    if importlib.util.find_spec("lightgbm") is not None:
        import lightgbm

        cls = lightgbm.LGBMClassifier if classification else lightgbm.LGBMRegressor
        steps.append(
            Step(
                cls,
                {
                    "n_estimators": 200,
                    "learning_rate": (0.01, 0.3, "log"),
                    "num_leaves": (4, 64),
                    "n_jobs": 1,
                    "verbose": -1,
                },
            )
        )
    return steps


def build_space(steps, random_state=None, *, seed_defaults=True):
    """The TPOT search space: imputation -> encoding -> selection -> learner.

    Imputers that need numbers (KNN, iterative) come after the encoder, which
    passes numeric gaps through; the DataFrame-aware ``TypedImputer`` (and any
    user imputer) comes before it.

    With ``seed_defaults``, the first individuals the space generates are the
    default pipelines of :func:`default_pipelines` (one per learner), then
    random ones.
    """
    tpot = import_tpot()
    Sequential = tpot.search_spaces.pipelines.SequentialPipeline
    Choice = tpot.search_spaces.pipelines.ChoicePipeline

    frame_imputers = [
        s for s in steps["imputation"] if s.estimator not in (KNNImputer, IterativeImputer)
    ]
    matrix_imputers = [s for s in steps["imputation"] if s not in frame_imputers]
    paths = []
    if frame_imputers:
        imputer, encoder = (
            _Stage(frame_imputers, random_state),
            _Stage(steps["encoding"], random_state),
        )
        paths.append(_Path(Sequential([imputer.space, encoder.space]), imputer, encoder, False))
    if matrix_imputers:
        imputer, encoder = (
            _Stage(matrix_imputers, random_state),
            _Stage(steps["encoding"], random_state),
        )
        paths.append(_Path(Sequential([encoder.space, imputer.space]), imputer, encoder, True))
    front = paths[0].space if len(paths) == 1 else Choice([p.space for p in paths])
    selection = _Stage(steps["selection"], random_state)
    learner = _Stage(steps["learner"], random_state)
    space = Sequential([front, selection.space, learner.space])
    if not seed_defaults:
        return space
    seeds = default_pipelines(space, front, paths[0], selection, learner, random_state)
    return SeededSpace(space, seeds)


class _Stage:
    """The search space of one stage, and the node of each of its steps."""

    def __init__(self, stage_steps, random_state):
        self.steps = list(stage_steps)
        self.nodes = [s.node(random_state) for s in self.steps]
        if len(self.nodes) == 1:
            self.space = self.nodes[0]
        else:
            self.space = import_tpot().search_spaces.pipelines.ChoicePipeline(self.nodes)

    def individual(self, step, rng, overrides=None):
        """An individual of this stage's space holding ``step`` at its defaults.

        It is generated by the real node and choice, so it keeps the step's
        whole ConfigSpace (mutation and crossover explore it as for any other
        individual); only its hyperparameters are then set.
        """
        node = self.nodes[self.steps.index(step)]
        ind = node.generate(rng)
        if not isinstance(node.space, dict):
            ind.hyperparameters = default_params(step.estimator, node.space, overrides)
        if self.space is node:
            return ind
        choice = self.space.generate(rng)
        choice.node = ind
        return choice


@dataclass
class _Path:
    """One way through imputation and encoding: frame imputer then encoder,
    or encoder then matrix imputer."""

    space: object
    imputer: _Stage
    encoder: _Stage
    encoder_first: bool


class SeededSpace:
    """A TPOT search space whose first ``generate()`` calls return given
    individuals, then those of ``inner``.

    TPOT builds its first generation (and any retry of it) by calling
    ``generate()``; later generations come from mutation and crossover of
    evaluated individuals, which do not go through the space. Only
    ``generate`` is part of TPOT's SearchSpace protocol.
    """

    def __init__(self, inner, seeds):
        self.inner = inner
        self.seeds = list(seeds)
        self._served = 0

    def generate(self, rng=None):
        if self._served < len(self.seeds):
            self._served += 1
            return copy.deepcopy(self.seeds[self._served - 1])
        return self.inner.generate(rng)


# Estimators whose own defaults are a strong first candidate; learners are
# seeded in this order: boosting, then linear models, then everything else.
_TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")


def _learner_rank(step):
    modules = [c.__module__ for c in step.estimator.__mro__]
    name = step.estimator.__name__
    if "Boost" in name or "LGBM" in name or "XGB" in name:
        return 0
    if any(m.startswith("sklearn.linear_model") for m in modules):
        return 1
    return 2


def _tree_based(step):
    return any(c.__module__.startswith(_TREE_MODULES) for c in step.estimator.__mro__)


def default_pipelines(space, front, path, selection, learner, random_state=None):
    """One individual of ``space`` per learner, every step at its defaults.

    Imputation and encoding are the first steps of their stages (``TypedImputer``
    with median imputation and ``TabularEncoder`` with standard scaling in the
    presets; ordinal codes for tree-based learners, one-hot for the others),
    no feature selection when the stage offers it (else its first step), then
    the learner with its own defaults. Each hyperparameter is the estimator's
    default when that lies in the step's range, else the nearest end of the
    range, else the range's ConfigSpace default (middle of a range, first
    choice).
    """
    rng = np.random.default_rng(0 if random_state is None else random_state)
    identity = [s for s in selection.steps if s.estimator is FunctionTransformer and not s.params]
    selector = identity[0] if identity else selection.steps[0]
    seeds = []
    for step in sorted(learner.steps, key=_learner_rank):
        encoding = {"categorical": "ordinal" if _tree_based(step) else "onehot"}
        imputer = path.imputer.individual(
            path.imputer.steps[0], rng, {"numeric_strategy": "median"}
        )
        encoder = path.encoder.individual(path.encoder.steps[0], rng, encoding)
        head = path.space.generate(rng)
        head.pipeline = np.array([encoder, imputer] if path.encoder_first else [imputer, encoder])
        if front is not path.space:
            choice = front.generate(rng)
            choice.node = head
            head = choice
        ind = space.generate(rng)
        ind.pipeline = np.array(
            [head, selection.individual(selector, rng), learner.individual(step, rng)]
        )
        seeds.append(ind)
    return seeds


def default_params(estimator, space, overrides=None):
    """Values for every hyperparameter of ``space``: ``overrides`` if legal,
    else ``estimator``'s own default if legal, else that default clipped to the
    range, else the ConfigSpace default."""
    Configuration = import_optional("ConfigSpace", purpose="AutoML search spaces").Configuration
    signature = inspect.signature(estimator).parameters
    overrides = overrides or {}
    values = {}
    for name in space:
        hp = space[name]
        own = signature[name].default if name in signature else inspect.Parameter.empty
        candidates = [overrides[name]] if name in overrides else []
        if own is not inspect.Parameter.empty:
            candidates.append("<NONE>" if own is None else own)
        values[name] = hp.default_value
        for value in candidates:
            if _legal(hp, value):
                values[name] = value
                break
            lower, upper = getattr(hp, "lower", None), getattr(hp, "upper", None)
            if lower is not None and isinstance(value, Real) and not isinstance(value, bool):
                clipped = min(max(value, lower), upper)
                values[name] = type(lower)(clipped) if isinstance(lower, Integral) else clipped
                break
    Configuration(space, values=values)  # raises if any value left the space
    return values


def _legal(hp, value):
    try:
        return bool(hp.legal_value(value))
    except (TypeError, ValueError):
        return False
