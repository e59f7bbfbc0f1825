"""The documentation site builds with ``mkdocs build --strict`` (broken references fail),
every public name of the main modules has a reference entry, and the notebooks are pages."""

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytest.importorskip("mkdocs")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.mark.parametrize(
    ("module", "page"),
    [
        ("jaxneuron", "jaxneuron"),
        ("jaxneuron.analysis", "analysis"),
        ("jaxneuron.sweep", "sweep"),
        ("jaxneuron.fit", "fit"),
    ],
)
def test_every_public_name_has_a_reference_entry(site, module, page):
    html = (site / "api" / page / "index.html").read_text()
    anchors = set(re.findall(r'id="([A-Za-z0-9_.]+)"', html))
    mod = importlib.import_module(module)
    # submodules have pages of their own
    names = [n for n in mod.__all__ if not inspect.ismodule(getattr(mod, n))]
    missing = [n for n in names if f"{module}.{n}" not in anchors]
    assert not missing, f"{module}: no reference entry for {missing}"


def test_notebooks_are_pages(site):
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    linked = sorted(p.stem for p in (ROOT / "docs" / "tutorials").glob("*.ipynb"))
    assert linked == notebooks
    for name in notebooks:
        assert (site / "tutorials" / name / "index.html").exists(), name
