r"""On-disk sweep datasets: Parquet parts written chunk by chunk, resumable.

Layout of a sweep directory::

    sweep.json              what was swept (model fingerprint, space, settings)
    parts/part-000012.parquet   one row per model of chunk 12 (written atomically)
    traces/traces-000012.npz    recorded traces of chunk 12 (if any were requested)

``parts/`` is an ordinary Parquet dataset: ``pandas.read_parquet("DIR/parts")``, polars,
DuckDB or Arrow read it directly. A chunk's Parquet part is written to a temporary file
and renamed into place, so a part either exists whole or not at all: an interrupted
sweep loses at most the chunk in flight, and a resumed one recomputes exactly the
missing chunks — no model is lost or written twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

FORMAT_VERSION = 1


def model_fingerprint(model) -> str:
    """A hash of the model's structure and every parameter value."""
    leaves, treedef = jax.tree_util.tree_flatten(model)
    h = hashlib.sha256(str(treedef).encode())
    for leaf in leaves:
        if eqx.is_array(leaf):
            arr = np.asarray(leaf)
            h.update(str((arr.dtype, arr.shape)).encode())
            h.update(arr.tobytes())
        else:
            h.update(repr(leaf).encode())
    return h.hexdigest()[:16]


class SweepStore:
    """A sweep directory (see the module docstring)."""

    def __init__(self, path):
        self.path = Path(path)
        self.parts = self.path / "parts"
        self.traces = self.path / "traces"

    def _meta_path(self):
        return self.path / "sweep.json"

    def read_meta(self) -> dict | None:
        try:
            return json.loads(self._meta_path().read_text())
        except FileNotFoundError:
            return None

    def open(self, meta: dict, overwrite: bool = False) -> None:
        """Create the directory for ``meta``, or check that an existing one holds the
        same sweep (then its finished chunks are kept)."""
        meta = {"format": FORMAT_VERSION, **meta}
        old = self.read_meta()
        if old is not None and old != meta:
            if not overwrite:
                differ = sorted(k for k in set(old) | set(meta) if old.get(k) != meta.get(k))
                raise ValueError(
                    f"{self.path} holds a different sweep (differs in {', '.join(differ)}); "
                    "choose a new path, or overwrite=True to discard it"
                )
            shutil.rmtree(self.parts, ignore_errors=True)
            shutil.rmtree(self.traces, ignore_errors=True)
        elif old is not None and overwrite:
            shutil.rmtree(self.parts, ignore_errors=True)
            shutil.rmtree(self.traces, ignore_errors=True)
        self.parts.mkdir(parents=True, exist_ok=True)
        _atomic_write(self._meta_path(), json.dumps(meta, indent=1).encode())

    def part_path(self, chunk: int) -> Path:
        return self.parts / f"part-{chunk:06d}.parquet"

    def trace_path(self, chunk: int) -> Path:
        return self.traces / f"traces-{chunk:06d}.npz"

    def done(self) -> set[int]:
        """Chunks whose part is complete."""
        if not self.parts.exists():
            return set()
        return {int(p.stem.split("-")[1]) for p in self.parts.glob("part-*.parquet")}

    def write(self, chunk: int, table, traces: dict | None = None) -> None:
        # the traces first: the Parquet part marks the chunk as done
        if traces:
            self.traces.mkdir(exist_ok=True)
            _atomic_save_npz(self.trace_path(chunk), traces)
        # a leading dot: Parquet readers skip a part left half-written by a killed run
        tmp = self.parts / f".{self.part_path(chunk).name}.tmp"
        table.to_parquet(tmp, index=False)
        os.replace(tmp, self.part_path(chunk))

    def read_table(self):
        import pandas as pd

        files = sorted(self.parts.glob("part-*.parquet"))
        if not files:
            return None
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def read_traces(self) -> dict[int, np.ndarray]:
        out = {}
        for f in sorted(self.traces.glob("traces-*.npz")) if self.traces.exists() else []:
            with np.load(f) as data:
                for i, trace in zip(data["model_id"], data["traces"], strict=True):
                    out[int(i)] = trace
        return out


def _temporary(path: Path) -> Path:
    # one name per process: processes of a multi-host sweep write sweep.json concurrently
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = _temporary(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_save_npz(path: Path, arrays: dict) -> None:
    tmp = _temporary(path)
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
