r"""On-disk sweep datasets: Parquet parts written chunk by chunk, resumable, verified.

Layout of a sweep directory::

    sweep.json                   what was swept (model fingerprint, space, settings)
    parts/part-000012.parquet    one row per model of chunk 12 (written atomically)
    traces/traces-000012.npz     recorded traces of chunk 12 (if any were requested)
    claims/chunk-000012.lock     held while a process computes chunk 12
    owners/<sweep>.<host>.<pid>.<n>.lock   held by each process writing the dataset
    open.lock                    held while a process opens the directory
    quarantine/                  parts set aside as not belonging here (never deleted)

``parts/`` is an ordinary Parquet dataset: ``pandas.read_parquet("DIR/parts")``, polars,
DuckDB or Arrow read it directly.

**Parts prove what they are.** Each part carries, in its Parquet metadata, the identity of
its sweep (a hash of ``sweep.json``), its chunk index, its row range, a SHA-256 of its rows
as they read back (column names, dtypes, every value) and one of its traces file; its
pages carry Parquet's CRC checksums. A part is written to a hidden temporary name unique
to the host and process, then renamed into place, so it exists whole or not at all.
Resuming verifies every part's content, not its name: each part is read whole and checked
against its checksums (once per process while the file is unchanged), and a corrupt,
foreign (another sweep's), misplaced (another chunk's) or extra file is moved to
``quarantine/`` with one logged line naming it and the reason, and its chunk is recomputed
— no model is lost, repeated or mislabelled. A part written before parts carried the
SHA-256 of their rows (an earlier jaxneuron: its tag names the sweep, chunk and rows
only) is not damaged: it is kept and read, with one logged warning that its rows are
unverified.

**One sweep owns a directory at a time.** A process opens the directory under
``open.lock`` and, for the life of its run, holds an owner lock in ``owners/`` named after
its sweep's identity; the operating system releases both if it dies. Opening refuses,
before any part is touched, while a live process of a *different* sweep owns the
directory, and ``overwrite`` refuses while any other live process owns it; processes of
the same sweep share it.

**Processes cooperate.** A process computes a chunk only while it holds the chunk's claim,
an OS file lock (`filelock`) that the operating system releases when the process dies; so
several processes — several CLI runs, or the hosts of a `jax.distributed` job — can work
on one directory without computing or writing a chunk twice, and a killed process's
chunks are taken over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import types
from pathlib import Path

import equinox as eqx
import numpy as np

FORMAT_VERSION = 2
_PART_KEY = b"jaxneuron"
logger = logging.getLogger("jaxneuron.sweep")
#: datasets whose parts without a content digest were warned of in this process
_WARNED_UNVERIFIED: set[str] = set()


# ---- fingerprints --------------------------------------------------------------------------


def _hash_value(h, value, seen) -> None:
    """Feed ``value`` to the hash ``h`` by what it is, never by its memory address."""
    if isinstance(value, types.FunctionType | types.MethodType):
        function = value.__func__ if isinstance(value, types.MethodType) else value
        if id(function) in seen:
            return
        seen.add(id(function))
        _hash_code(h, function.__code__, seen)
        for cell in function.__closure__ or ():
            _hash_value(h, cell.cell_contents, seen)
        for default in function.__defaults__ or ():
            _hash_value(h, default, seen)
        if isinstance(value, types.MethodType):
            _hash_value(h, value.__self__, seen)
        # globals the function reads: names of modules and functions, values of numbers
        for name in function.__code__.co_names:
            if name in function.__globals__:
                _hash_value(h, function.__globals__[name], seen)
        return
    if isinstance(value, types.ModuleType):
        h.update(f"module {value.__name__}".encode())
        return
    if isinstance(value, types.BuiltinFunctionType) or (
        callable(value) and getattr(value, "__module__", "").split(".")[0] in ("jax", "numpy")
    ):
        name = getattr(value, "__qualname__", getattr(value, "__name__", ""))
        h.update(f"{getattr(value, '__module__', '')}.{name}".encode())
        return
    if eqx.is_array(value) or isinstance(value, np.ndarray | np.generic):
        arr = np.asarray(value)
        h.update(str((arr.dtype, arr.shape)).encode())
        h.update(arr.tobytes())
        return
    if isinstance(value, bool | int | float | complex | str | bytes | type(None)):
        h.update(repr(value).encode())
        return
    if isinstance(value, tuple | list):
        h.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _hash_value(h, item, seen)
        return
    if isinstance(value, dict):
        for key in sorted(value, key=repr):
            _hash_value(h, key, seen)
            _hash_value(h, value[key], seen)
        return
    if isinstance(value, eqx.Module):
        h.update(f"{type(value).__module__}.{type(value).__qualname__}".encode())
        for field in dataclasses.fields(value):
            h.update(field.name.encode())
            _hash_value(h, getattr(value, field.name), seen)
        return
    if isinstance(value, type):
        h.update(f"{value.__module__}.{value.__qualname__}".encode())
        return
    raise TypeError(
        f"a sweep cannot fingerprint a {type(value).__name__} ({value!r:.60}) found in the "
        "model, so it could not tell on resume whether the model changed; give the model "
        "numbers and arrays (for a stimulus, a jaxneuron stimulus such as Step or "
        "Interpolated, or a plain Python function of t)"
    )


def _hash_code(h, code: types.CodeType, seen) -> None:
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _hash_code(h, const, seen)
        else:
            h.update(repr(const).encode())


def model_fingerprint(model) -> str:
    """A hash of the model's structure and every parameter value. A function inside the
    model (e.g. the ``f`` of a `TimeVaryingFunction` stimulus) is hashed by what it
    computes — its code, constants, closure and the globals it reads — so the same model
    has the same fingerprint in every process; something that cannot be hashed that way
    is refused with a TypeError."""
    h = hashlib.sha256()
    _hash_value(h, model, set())
    return h.hexdigest()[:16]


def canonical(meta: dict) -> dict:
    """``meta`` as it reads back from JSON (tuples become lists, keys strings): what is
    compared on resume, so that a description round-trips exactly."""
    return json.loads(json.dumps(meta))


def _sweep_id(meta: dict) -> str:
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:16]


# ---- the store ------------------------------------------------------------------------------


class SweepStore:
    """A sweep directory (see the module docstring)."""

    def __init__(self, path):
        if str(path).strip() == "":
            raise ValueError("path (sweep directory) must not be empty")
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} is a file, not a sweep directory")
        self.parts = self.path / "parts"
        self.traces = self.path / "traces"
        self.claims = self.path / "claims"
        self.quarantine = self.path / "quarantine"
        self.sweep_id: str | None = None
        self.meta: dict | None = None
        self._owner = None
        self._verified: dict[str, tuple] = {}  # part name → its stat when last verified

    def _meta_path(self):
        return self.path / "sweep.json"

    def read_meta(self) -> dict | None:
        """The stored ``sweep.json`` (None if there is none); a corrupt one is an error
        naming the file."""
        try:
            text = self._meta_path().read_text()
        except FileNotFoundError:
            return None
        try:
            meta = json.loads(text)
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
        except ValueError as err:
            raise ValueError(
                f"{self._meta_path()} is corrupt ({err}); overwrite the sweep to start again"
            ) from None
        return meta

    def open(self, meta: dict, overwrite: bool = False) -> None:
        """Create the directory for ``meta``, or check that an existing one holds the
        same sweep (then its finished chunks are kept), and own it until `close` (see the
        module docstring): refused while a live process of another sweep owns it, and
        with ``overwrite`` while any other live process does."""
        from filelock import Timeout

        meta = canonical({"format": FORMAT_VERSION, **meta})
        self.path.mkdir(parents=True, exist_ok=True)
        opening = _lock(self.path / "open.lock")
        try:
            opening.acquire(timeout=_OPEN_TIMEOUT_SECONDS)
        except Timeout:
            raise ValueError(
                f"{self.path}: another process has held open.lock for over "
                f"{_OPEN_TIMEOUT_SECONDS:g} s while opening the sweep; try again"
            ) from None
        try:
            self._refuse_live_owners(_sweep_id(meta), overwrite)
            self._open(meta, overwrite)
            self._own()
        finally:
            opening.release()

    def _refuse_live_owners(self, sweep_id: str, overwrite: bool) -> None:
        """Remove the owner locks of dead processes; refuse (ValueError) when a live one
        belongs to another sweep, or to any other process under ``overwrite``."""
        from filelock import Timeout

        owners = self.path / "owners"
        for path in sorted(owners.glob("*.lock")) if owners.is_dir() else []:
            probe = _lock(path)
            try:
                probe.acquire(timeout=0)
            except Timeout:
                owner_sweep, _, process = path.stem.partition(".")
                if overwrite or owner_sweep != sweep_id:
                    host, pid = process.split(".")[:2] if process.count(".") >= 2 else ("?", "?")
                    what = "this same sweep" if owner_sweep == sweep_id else "another sweep"
                    raise ValueError(
                        f"{self.path} is in use: a running process (pid {pid} on {host}) is "
                        f"writing {what} there; wait for it to finish or stop it"
                        + (" before overwriting" if overwrite else ", or choose a new path")
                    ) from None
                continue
            probe.release()
            path.unlink(missing_ok=True)  # its process died: nobody owns it

    def _own(self) -> None:
        owners = self.path / "owners"
        owners.mkdir(exist_ok=True)
        name = f"{self.sweep_id}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.lock"
        self._owner = _lock(owners / name)
        self._owner.acquire(timeout=0)

    def close(self) -> None:
        """Give up ownership of the directory (also released if the process dies)."""
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.release()
            Path(owner.lock_file).unlink(missing_ok=True)

    def _open(self, meta: dict, overwrite: bool) -> None:
        try:
            old = self.read_meta()
        except ValueError:
            if not overwrite:
                raise
            old = None
        if old is not None and old != meta and not overwrite:
            differ = sorted(k for k in set(old) | set(meta) if old.get(k) != meta.get(k))
            raise ValueError(
                f"{self.path} holds a different sweep (differs in {', '.join(differ)}); "
                "choose a new path, or overwrite it to discard it (sweep(..., "
                "overwrite=True); --overwrite on the command line)"
            )
        if overwrite:
            self._discard()
        self.path.mkdir(parents=True, exist_ok=True)
        for folder in (self.parts, self.claims):
            folder.mkdir(exist_ok=True)
        if old != meta or overwrite:
            _atomic_write(self._meta_path(), json.dumps(meta, indent=1).encode())
        self.meta, self.sweep_id = meta, _sweep_id(meta)
        self._check_quarantine()
        self._remove_own_stale_temporaries()

    def attach(self) -> None:
        """Read an existing directory's ``sweep.json`` (to load or inspect it)."""
        meta = self.read_meta()
        if meta is None:
            raise FileNotFoundError(f"{self.path} is not a sweep directory (no sweep.json)")
        self.meta, self.sweep_id = meta, _sweep_id(meta)

    def _discard(self) -> None:
        for folder in (self.parts, self.traces, self.claims):
            if folder.is_symlink():
                folder.unlink()
            elif folder.exists():
                shutil.rmtree(folder)  # an error here is raised, not ignored
        self._meta_path().unlink(missing_ok=True)

    # ---- parts ----------------------------------------------------------------------

    def part_path(self, chunk: int) -> Path:
        return self.parts / f"part-{chunk:06d}.parquet"

    def trace_path(self, chunk: int) -> Path:
        return self.traces / f"traces-{chunk:06d}.npz"

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        size, n = self.meta["chunk_size"], self.meta["n_models"]
        return chunk * size, min((chunk + 1) * size, n)

    def _check_part(self, path: Path) -> tuple[int | None, str | None]:
        """(chunk, None) for a valid part, (None, reason) otherwise."""
        import pyarrow.parquet as pq

        name = path.name
        if not (name.startswith("part-") and name.endswith(".parquet")):
            return None, "not a part name"
        try:
            chunk = int(name[len("part-") : -len(".parquet")])
        except ValueError:
            return None, "not a part name"
        if path.stem != f"part-{chunk:06d}":
            return None, "not a part name"
        if not 0 <= chunk < self.meta["n_chunks"]:
            return None, f"chunk {chunk} is outside this sweep's {self.meta['n_chunks']} chunks"
        try:
            info = pq.read_metadata(path)
            tag = json.loads((info.metadata or {}).get(_PART_KEY, b"null"))
        except Exception as err:  # noqa: BLE001 — any unreadable file is set aside
            return None, f"unreadable ({type(err).__name__}: {err})"
        if not isinstance(tag, dict) or tag.get("sweep") != self.sweep_id:
            return None, "it belongs to another sweep"
        a, b = self.chunk_range(chunk)
        if tag.get("chunk") != chunk or tag.get("rows") != [a, b]:
            return None, f"it holds chunk {tag.get('chunk')}, not chunk {chunk}"
        if info.num_rows != b - a:
            return None, f"it has {info.num_rows} rows, not {b - a}"
        key = (_stat_key(path), _stat_key(self.trace_path(chunk)))
        if self._verified.get(path.name) == key:
            return chunk, None  # read whole and checked since it last changed
        try:
            frame = _read_part(path)
        except Exception as err:  # noqa: BLE001 — a damaged page, a bad CRC, …
            return None, f"unreadable ({type(err).__name__}: {err})"
        if "content" not in tag:
            # written before parts carried a content digest: its pages' CRCs (when it has
            # them) are all that can be checked, so its rows are kept, and said to be
            if str(self.path.resolve()) not in _WARNED_UNVERIFIED:  # once per dataset
                _WARNED_UNVERIFIED.add(str(self.path.resolve()))
                logger.warning(
                    "%s: %s (and any other part like it) was written before parts carried "
                    "a checksum of their rows (an earlier jaxneuron); such rows are read "
                    "unverified",
                    self.path,
                    path.name,
                )
        elif _content_digest(frame) != tag["content"]:
            return None, "its rows do not match its checksum (damaged)"
        traces = tag.get("traces")
        if traces is not None and _file_digest(self.trace_path(chunk)) != traces:
            return None, f"its traces file {self.trace_path(chunk).name} is missing or damaged"
        self._verified[path.name] = key
        return chunk, None

    def _check_quarantine(self) -> None:
        """``quarantine/`` must be a real folder inside the sweep directory, so that what
        is set aside stays with the sweep."""
        q = self.quarantine
        if q.is_symlink() or (q.exists() and not q.is_dir()):
            kind = f"a link to {os.readlink(q)}" if q.is_symlink() else "not a folder"
            raise ValueError(
                f"{q} is {kind}; parts set aside must stay inside {self.path}: remove it "
                "(a real quarantine/ folder is made when needed)"
            )

    def _set_aside(self, path: Path, reason: str) -> None:
        self._check_quarantine()
        self.quarantine.mkdir(exist_ok=True)
        target = self.quarantine / path.name
        while target.exists():
            target = self.quarantine / f"{path.name}.{secrets.token_hex(3)}"
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return  # another process set it aside first
        logger.warning(
            "%s: set aside %s (%s) in %s; its chunk will be computed again",
            self.path,
            path.name,
            reason,
            self.quarantine.name,
        )

    def done(self) -> set[int]:
        """Chunks whose part is present and verified; anything else found in ``parts/``
        (except hidden temporaries) is set aside."""
        if self.meta is None:
            self.attach()
        if not self.parts.exists():
            return set()
        chunks = set()
        for path in sorted(self.parts.iterdir()):
            if path.name.startswith("."):
                continue  # a part being written (or left by a killed process)
            chunk, reason = self._check_part(path)
            if chunk is None:
                self._set_aside(path, reason)
            else:
                chunks.add(chunk)
        return chunks

    def is_done(self, chunk: int) -> bool:
        path = self.part_path(chunk)
        if not path.exists():
            return False
        found, reason = self._check_part(path)
        if found is None:
            self._set_aside(path, reason)
            return False
        return True

    def write(self, chunk: int, table, traces: dict | None = None) -> None:
        """Write chunk ``chunk``'s table (and recorded traces) atomically, tagged with
        this sweep's identity, the chunk and its row range."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        a, b = self.chunk_range(chunk)
        if len(table) != b - a:
            raise ValueError(f"chunk {chunk} must have {b - a} rows, got {len(table)}")
        # the traces first: the Parquet part marks the chunk as done
        traces_digest = None
        if traces:
            self.traces.mkdir(exist_ok=True)
            _atomic_save_npz(self.trace_path(chunk), traces)
            traces_digest = _file_digest(self.trace_path(chunk))
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        tag = {
            "sweep": self.sweep_id,
            "chunk": chunk,
            "rows": [a, b],
            "content": _content_digest(arrow.to_pandas()),
            "traces": traces_digest,
        }
        metadata = {**(arrow.schema.metadata or {}), _PART_KEY: json.dumps(tag).encode()}
        arrow = arrow.replace_schema_metadata(metadata)
        path = self.part_path(chunk)
        tmp = _temporary(path, hidden=True)
        pq.write_table(arrow, tmp, write_page_checksum=True, write_statistics=False)
        os.replace(tmp, path)

    def claim(self, chunk: int):
        """A non-blocking claim on ``chunk`` (a `filelock.FileLock`, acquired, or None when
        another process holds it). Release it when the chunk is written."""
        from filelock import FileLock, Timeout

        lock = FileLock(self.claims / f"chunk-{chunk:06d}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return None
        return lock

    def read_table(self):
        """The verified parts, in chunk order, as one table (None if there are none)."""
        import pandas as pd

        chunks = sorted(self.done())
        if not chunks:
            return None
        return pd.concat([_read_part(self.part_path(c)) for c in chunks], ignore_index=True)

    def read_traces(self) -> dict[int, np.ndarray]:
        out = {}
        done = self.done()
        for f in sorted(self.traces.glob("traces-*.npz")) if self.traces.exists() else []:
            try:
                chunk = int(f.stem.split("-")[1])
            except (IndexError, ValueError):
                continue
            if chunk not in done:
                continue
            with np.load(f) as data:
                for i, trace in zip(data["model_id"], data["traces"], strict=True):
                    out[int(i)] = trace
        return out

    def _remove_own_stale_temporaries(self) -> None:
        """Remove hidden temporaries that this host's dead processes left behind."""
        host = _host()
        for folder in (self.path, self.parts, self.traces):
            if not folder.exists():
                continue
            for path in folder.glob(".*.tmp"):
                parts = path.name.split(".")
                # .<name>.<host>.<pid>.<random>.tmp
                if len(parts) >= 5 and parts[-4] == host and not _alive(int(parts[-3])):
                    path.unlink(missing_ok=True)


def _read_part(path: Path):
    """A part as a pandas DataFrame, every page's CRC verified."""
    import pyarrow.parquet as pq

    return pq.read_table(path, page_checksum_verification=True).to_pandas()


def _content_digest(frame) -> str:
    """A hash of a part's rows as they read back: column names, dtypes and every value."""
    import pandas as pd

    h = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and any(isinstance(v, np.ndarray | list) for v in column):
            # array-valued cells (e.g. buffered spike times): their values, shapes and dtypes
            for value in column:
                value = np.asarray(value)
                h.update(f"{value.dtype}{value.shape}".encode())
                h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _stat_key(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


#: how long `SweepStore.open` waits for another process that is opening the directory
_OPEN_TIMEOUT_SECONDS = 120.0


def _lock(path: Path):
    """An OS file lock on ``path`` (released by the OS when the process dies)."""
    from filelock import FileLock

    return FileLock(path, is_singleton=False)


def _host() -> str:
    return socket.gethostname().replace(".", "_") or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _temporary(path: Path, hidden: bool = True) -> Path:
    # unique per host, process and call: concurrent writers never share a temporary
    stem = f".{path.name}" if hidden else path.name
    return path.with_name(f"{stem}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = _temporary(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_save_npz(path: Path, arrays: dict) -> None:
    tmp = _temporary(path)
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
