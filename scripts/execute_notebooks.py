"""Execute the notebooks in place, so that the documentation shows their outputs.

The docs render ``notebooks/*.ipynb`` as stored (``mkdocs-jupyter`` with ``execute: false``);
``tests/test_notebooks.py`` re-executes each one and fails if a stored notebook lacks an
output kind (a figure, a table) that a fresh run produces. Run this after editing a notebook::

    python scripts/execute_notebooks.py                # all of them
    python scripts/execute_notebooks.py notebooks/04_circuits.ipynb

Figures are stored as PNG at the inline backend's resolution, reduced to a 64-colour palette
(a quarter of the bytes, no visible change for line plots). Execution metadata (times) and
warnings that dependencies print on this machine (stderr naming ``site-packages``, e.g.
tqdm's about ipywidgets) are dropped.
"""

from __future__ import annotations

import base64
import io
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def shrink(nb) -> None:
    """Re-encode every PNG output of ``nb`` with a 64-colour palette."""
    from PIL import Image

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" not in data:
                continue
            image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
            buffer = io.BytesIO()
            palette = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
            palette.save(buffer, "PNG", optimize=True)
            data["image/png"] = base64.b64encode(buffer.getvalue()).decode("ascii")


def drop_environment_warnings(nb) -> None:
    """Remove stderr outputs printed from installed packages: they describe the machine
    that ran the notebook, not the notebook."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                out
                for out in cell.outputs
                if not (out.get("name") == "stderr" and "site-packages" in out.get("text", ""))
            ]


def execute(path: Path) -> float:
    """Execute one notebook in a scratch directory and write it back with its outputs;
    returns the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": scratch}}
        ).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    shrink(nb)
    drop_environment_warnings(nb)
    nbformat.write(nb, path)
    return seconds


def main(paths: list[str]) -> None:
    for path in [Path(p) for p in paths] or sorted(NOTEBOOKS.glob("*.ipynb")):
        seconds = execute(path)
        kib = path.stat().st_size / 1024
        print(f"{path.name}: {seconds:.1f} s, {kib:.0f} KiB", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
