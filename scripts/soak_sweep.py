"""Soak test of resumable sweeps: kill a CLI sweep many times, damage its dataset, resume.

A ``jaxneuron sweep`` of ``--models`` random Prinz models runs into one directory and is
killed with SIGKILL ``--kills`` times at random moments (each restart resumes it); midway
one part is corrupted (truncated) and another is overwritten with a copy of a third. A
final run completes the sweep. The script then compares the table with an uninterrupted
run of the same sweep and prints the fault table: each fault and what became of it.

    python scripts/soak_sweep.py --models 5000 --kills 20 [--seed 0]
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
