"""Every notebook in notebooks/ runs from top to bottom without error, and is stored with
the outputs that a run produces (the documentation shows the stored outputs): executed
once in order, with the same kinds of rich output (figures, tables) in every cell.
``python scripts/execute_notebooks.py`` stores a notebook executed."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
# the kernel shows figures as a notebook does (conftest.py makes matplotlib draw off-screen)
INLINE = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def rich_outputs(nb) -> list[list[str]]:
    """Per code cell, the MIME types of its displayed outputs (figures, tables, …); plain
    text and printed streams vary with timings and are not compared."""
    return [
        sorted(
            mime
            for out in cell.get("outputs", [])
            if out.get("output_type") in ("display_data", "execute_result")
            for mime in out.get("data", {})
            if mime != "text/plain"
        )
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_is_stored_executed(path, tmp_path):
    stored = nbformat.read(path, as_version=4)
    counts = [c.get("execution_count") for c in stored.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name} is not stored executed in order: run scripts/execute_notebooks.py"
    )
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=INLINE)
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    assert rich_outputs(nb) == rich_outputs(stored), (
        f"{path.name}: stored outputs are stale: run scripts/execute_notebooks.py {path}"
    )
