"""Soak test of resumable sweeps: kill a CLI sweep many times, damage its dataset, resume.

A ``jaxneuron sweep`` of ``--models`` random Prinz models runs into one directory and is
killed with SIGKILL ``--kills`` times at random moments (each restart resumes it); midway
one part is corrupted (truncated) and another is overwritten with a copy of a third. A
final run completes the sweep. The script then compares the table with an uninterrupted
run of the same sweep and prints the fault table: each fault and what became of it.

    python scripts/soak_sweep.py --models 5000 --kills 20 [--seed 0]

With ``--races N`` it instead starts two *different* sweeps on one fresh directory at the
same moment, N times, and checks that exactly one runs (exit 0, its rows complete) and the
other is refused in one line before touching a part; then, while a run owns a directory,
that ``--overwrite`` is refused.

    python scripts/soak_sweep.py --races 50
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument("--t1", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-wait", type=float, default=20.0, help="s before a kill, at most")
    parser.add_argument("--races", type=int, default=0, help="race two sweeps N times")
    args = parser.parse_args()
    if args.races:
        sys.exit(races(args.races))
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="soak_"))
    command = [
        sys.executable, "-m", "jaxneuron.cli", "sweep", "prinz",
        "--random", "CaS.g=0:12", "--random", "H.g=0.001:0.1:log", "-n", str(args.models),
        "--seed", str(args.seed), "--t1", str(args.t1), "--chunk-size", str(args.chunk_size),
        "--no-progress",
    ]  # fmt: skip
    out = work / "soak"
    faults = []

    def parts():
        return sorted((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else []

    for k in range(args.kills):
        proc = subprocess.Popen(command + ["--out", str(out)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        wait = rng.uniform(0.5, args.max_wait)
        try:
            proc.wait(timeout=wait)
            faults.append(("run finished before its kill", f"{len(parts())} parts"))
            break
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        faults.append((f"SIGKILL {k + 1} after {wait:.1f} s", f"{len(parts())} parts on disk"))
        if k == args.kills // 2 and len(parts()) >= 3:
            damaged, victim, source = parts()[0], parts()[1], parts()[2]
            data = damaged.read_bytes()
            damaged.write_bytes(data[: len(data) // 3])
            shutil.copy(source, victim)
            faults.append((f"truncated {damaged.name}", "must be set aside and recomputed"))
            faults.append((f"copied {source.name} over {victim.name}", "must be set aside"))
    started = time.perf_counter()
    final = subprocess.run(command + ["--out", str(out)], capture_output=True, text=True)
    faults.append(
        ("final run", f"exit {final.returncode} in {time.perf_counter() - started:.0f} s")
    )
    clean = subprocess.run(command + ["--out", str(work / "clean")], capture_output=True, text=True)
    if clean.returncode != 0:
        sys.exit(f"the uninterrupted run failed: {clean.stderr[-2000:]}")

    import pandas as pd

    from jaxneuron.sweep import SweepResult

    a, b = SweepResult.load(out).table, SweepResult.load(work / "clean").table
    quarantined = (
        sorted(p.name for p in (out / "quarantine").glob("*"))
        if (out / "quarantine").exists()
        else []
    )
    print(f"{args.models} models, chunks of {args.chunk_size}, {args.t1:g} ms each\n")
    print(f"{'fault':<48} outcome")
    for fault, outcome in faults:
        print(f"{fault:<48} {outcome}")
    print(f"{'set aside in quarantine/':<48} {', '.join(quarantined) or 'nothing'}")
    same = len(a) == len(b) and a["model_id"].is_unique
    try:
        pd.testing.assert_frame_equal(a, b)
    except AssertionError as err:
        same = False
        print(err)
    print(f"\nrows {len(a)} (unique ids: {a['model_id'].is_unique}); equal to the uninterrupted "
          f"run: {same}")  # fmt: skip
    shutil.rmtree(work)
    sys.exit(0 if same and final.returncode == 0 else 1)


def races(trials: int) -> int:
    """Two different sweeps (t1 20 and 30 ms) started together on one directory, ``trials``
    times; then an ``--overwrite`` while a run owns the directory. 0 if every trial ended
    with exactly one owner, its rows complete, and one-line refusals."""
    from jaxneuron.sweep import SweepResult

    work = Path(tempfile.mkdtemp(prefix="race_"))
    base = [
        sys.executable, "-m", "jaxneuron.cli", "sweep", "prinz", "--random", "CaS.g=0:12",
        "-n", "6", "--chunk-size", "2", "--no-progress",
    ]  # fmt: skip
    began, tally, bad = time.perf_counter(), {}, 0
    for k in range(trials):
        out = work / f"race{k}"
        procs = [
            subprocess.Popen(base + ["--t1", t1, "--out", str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for t1 in ("20", "30")
        ]  # fmt: skip
        done = [(p.wait(), *p.communicate()) for p in procs]
        codes = tuple(rc for rc, _, _ in done)
        refused = [err.strip() for rc, _, err in done if rc != 0]
        ok = sorted(codes) == [0, 2] and all(len(r.splitlines()) == 1 for r in refused)
        if ok:
            result = SweepResult.load(out)
            winner = ("20", "30")[codes.index(0)]
            ok = (
                result.complete
                and len(result.table) == 6
                and result.table["model_id"].is_unique
                and not (out / "quarantine").exists()
                and str(float(winner)) in (out / "sweep.json").read_text()
            )
        outcome = "one ran, one refused" if ok else f"FAULT {codes} {refused}"
        tally[outcome] = tally.get(outcome, 0) + 1
        bad += not ok
        shutil.rmtree(out)
    # --overwrite while the owner is alive: refused; after it ends: accepted
    out = work / "owned"
    owner = subprocess.Popen(base + ["-n", "400", "--t1", "200", "--out", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    while not (out / "owners").exists() and owner.poll() is None:
        time.sleep(0.1)
    over = subprocess.run(base + ["--t1", "20", "--out", str(out), "--overwrite"],
                          capture_output=True, text=True)  # fmt: skip
    owner_alive = owner.poll() is None
    owner.wait()
    owner_rows = len(SweepResult.load(out).table)
    print(f"{trials} races of two different sweeps on one directory "
          f"({time.perf_counter() - began:.0f} s):")  # fmt: skip
    for outcome, count in tally.items():
        print(f"  {count:3d} × {outcome}")
    print(f"--overwrite while the owner ran (alive: {owner_alive}): exit {over.returncode}, "
          f"{over.stderr.strip()!r}; the owner then finished with {owner_rows} rows")  # fmt: skip
    bad += over.returncode != 2 or owner.returncode != 0 or owner_rows != 400
    shutil.rmtree(work)
    return 1 if bad else 0


if __name__ == "__main__":
    main()
