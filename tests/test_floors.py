"""The declared dependency floors, the ``nox -s minimum`` session that tests
them, and docs/install.md that lists them, all say the same thing."""

import functools
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).parents[1]


@functools.cache  # executing the noxfile registers its sessions: once only
def _noxfile():
    spec = importlib.util.spec_from_file_location("mlpipe_noxfile", ROOT / "noxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pins():
    return {Requirement(pin).name.lower(): Requirement(pin) for pin in _noxfile().minimum_pins()}


def test_every_core_and_extra_dependency_is_pinned_inside_its_declared_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in ("explain", "automl", "all"):
        declared += project["optional-dependencies"][extra]
    pins = _pins()
    for text in declared:
        req = Requirement(text)
        if req.name == "mlpipe":
            continue
        (pinned,) = [spec.version for spec in pins[req.name.lower()].specifier]
        assert req.specifier.contains(pinned, prereleases=True), (text, pinned)
        assert pinned == min(s.version for s in req.specifier if s.operator == ">="), text
    assert len(pins) == len({Requirement(t).name for t in declared} - {"mlpipe"})


def test_minimum_pins_keeps_markers_and_extras_and_skips_the_self_reference(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "mlpipe"\n'
        'dependencies = ["numpy>=1.26.4", "tomli>=2; python_version < \'3.11\'"]\n'
        "[project.optional-dependencies]\n"
        'explain = ["shap[plots]>=0.47,<1"]\n'
        'automl = ["tpot>=1.1,<1.2"]\n'
        'all = ["mlpipe[explain,automl]", "pyarrow>=15"]\n'
    )
    assert _noxfile().minimum_pins(pyproject) == [
        "numpy==1.26.4",
        "pyarrow==15",
        "shap[plots]==0.47",
        'tomli==2; python_version < "3.11"',
        "tpot==1.1",
    ]


@pytest.mark.parametrize("spec", ["pyarrow", "pyarrow<16", "pyarrow>=15,>=16"])
def test_minimum_pins_refuses_a_dependency_without_one_floor(tmp_path, spec):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        f'[project]\nname = "mlpipe"\ndependencies = ["{spec}"]\n'
        "[project.optional-dependencies]\nexplain = []\nautoml = []\nall = []\n"
    )
    with pytest.raises(ValueError, match=r"pyarrow.*exactly one '>=' floor"):
        _noxfile().minimum_pins(pyproject)


def test_install_doc_lists_the_floors_the_session_installs():
    text = (ROOT / "docs" / "install.md").read_text()
    table = text.split("<!-- floors -->", 2)[1]
    rows = re.findall(r"^\| `([\w.-]+)` \| ([\w.]+) \|", table, flags=re.MULTILINE)
    documented = {name.lower(): version for name, version in rows}
    pins = {name: str(next(iter(req.specifier)).version) for name, req in _pins().items()}
    assert documented == pins
