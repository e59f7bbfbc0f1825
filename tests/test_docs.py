"""The documentation site builds with ``mkdocs build --strict`` (broken references fail),
every public name has an entry in the API reference (which shows no private names), the
notebooks are pages that show their figures, and the gallery shows its images with the
code that drew them."""

import base64
import html
import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parent.parent
pytest.importorskip("mkdocs")

# every module whose public names the reference must cover
MODULES = [
    "jaxneuron",
    "jaxneuron.analysis",
    "jaxneuron.networks",
    "jaxneuron.sweep",
    "jaxneuron.fit",
    "jaxneuron.channels",
    "jaxneuron.plot",
    "jaxneuron.stimuli",
    "jaxneuron.clamp",
]
PRIVATE = re.compile(r"(?<![\w.])_[A-Za-z]\w*\b|\._[A-Za-z]\w*")


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


@pytest.fixture(scope="module")
def reference(site):
    return {p.parent.name: p.read_text() for p in (site / "api").glob("*/index.html")}


def public_names(module):
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None) or [
        n for n, v in vars(mod).items() if getattr(v, "__module__", None) == module
    ]
    # submodules have entries of their own
    return [n for n in names if not n.startswith("_") and not inspect.ismodule(getattr(mod, n))]


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_has_a_reference_entry(reference, module):
    anchors = {a for page in reference.values() for a in re.findall(r'id="([\w.]+)"', page)}
    mod = importlib.import_module(module)
    top = importlib.import_module("jaxneuron")
    missing = [
        n
        for n in public_names(module)
        if f"{module}.{n}" not in anchors
        # a name re-exported by jaxneuron is documented once, as jaxneuron.<name>
        and not (f"jaxneuron.{n}" in anchors and getattr(top, n, None) is getattr(mod, n))
    ]
    assert not missing, f"{module}: no reference entry for {missing}"


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.parametrize(
    "page", ["models", "channels", "stimuli", "simulate", "networks", "sweeps", "fitting"]
)
def test_reference_shows_no_private_names(reference, page):
    signatures = re.findall(r'class="doc-signature[^"]*".*?</div>', reference[page], flags=re.S)
    bases = re.findall(r"Bases: (.*?)</p>", reference[page], flags=re.S)
    text = visible_text("\n".join(signatures + bases))
    assert not PRIVATE.findall(text), (page, sorted(set(PRIVATE.findall(text))))
    assert "__check_init__" not in reference[page]


def test_reference_pages_open_with_a_summary_table(reference):
    for page, text in reference.items():
        if page in ("index", "cli"):
            continue
        first_entry = text.find('class="doc doc-object')
        assert 0 < text.find("<table>") < first_entry, page


def stored_figures(path):
    nb = nbformat.read(path, as_version=4)
    return [
        out["data"]["image/png"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]


def test_notebooks_are_pages_with_their_figures(site):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    linked = sorted(p.stem for p in (ROOT / "docs" / "tutorials").glob("*.ipynb"))
    assert linked == [p.stem for p in notebooks]
    for path in notebooks:
        page = (site / "tutorials" / path.stem / "index.html").read_text()
        figures = stored_figures(path)
        assert figures, f"{path.name} is stored without figures (scripts/execute_notebooks.py)"
        shown = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
        assert len(shown) == len(figures), path.name
        for png in figures:
            assert len(base64.b64decode(png)) < 150_000, f"{path.name}: a figure over 150 kB"


def test_gallery_images_exist_and_are_small(site):
    page = (site / "gallery" / "index.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert len(images) >= 8
    for src in images:
        image = (site / "gallery" / src).resolve()
        assert image.exists(), src
        assert image.stat().st_size < 150_000, src
        # the code that drew it, one function of scripts/gallery.py named like the image
        assert f'<span class="nf">{image.stem}</span>' in page, src
