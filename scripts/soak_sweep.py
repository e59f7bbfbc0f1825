"""Soak test of resumable sweeps: kill a CLI sweep many times, damage its dataset, resume.

A ``jaxneuron sweep`` of ``--models`` random Prinz models runs into one directory and is
killed with SIGKILL at random moments (each restart resumes it) until ``--kills`` kills
have each been followed by a corruption of one random part (a kill before any part exists
does not count): truncated at a random length, one bit flipped
anywhere in it, overwritten with a copy of another part, or with another sweep's part. A
final run completes the sweep. The script then compares the table with an uninterrupted
run of the same sweep and prints the fault table: each fault and what became of it (a
corruption is named when the next run sets it aside; one that is not must read back equal).

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
    parser.add_argument("--min-wait", type=float, default=0.5, help="s before a kill, at least")
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
    began = time.perf_counter()
    # a part of another sweep (another seed), to plant as a foreign part
    foreign_dir = work / "foreign"
    foreign_command = [a if a != str(args.seed) else str(args.seed + 1) for a in command]
    subprocess.run(foreign_command[:9] + ["-n", str(args.chunk_size)] + foreign_command[11:]
                   + ["--out", str(foreign_dir)], capture_output=True, check=True)  # fmt: skip
    foreign = foreign_dir / "parts" / "part-000000.parquet"
    faults, corruptions, logs = [], [], []

    def parts():
        return sorted((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else []

    def corrupt(k):
        """One random corruption of the dataset: (what, file name)."""
        present = parts()
        if not present:
            return None
        victim = rng.choice(present)
        kind = rng.choice(["truncate", "flip", "flip", "copy", "foreign"])
        data = victim.read_bytes()
        if kind == "truncate":
            victim.write_bytes(data[: rng.randrange(len(data))])
            return (
                f"truncated {victim.name} to {victim.stat().st_size} of {len(data)} bytes",
                victim,
            )
        if kind == "flip":
            bit = rng.randrange(8 * len(data))
            flipped = bytearray(data)
            flipped[bit // 8] ^= 1 << (bit % 8)
            victim.write_bytes(bytes(flipped))
            return f"flipped bit {bit} of {victim.name} ({len(data)} bytes)", victim
        if kind == "copy" and len(present) > 1:
            source = rng.choice([p for p in present if p != victim])
            shutil.copy(source, victim)
            return f"copied {source.name} over {victim.name}", victim
        shutil.copy(foreign, victim)
        return f"another sweep's part copied over {victim.name}", victim

    k = 0
    while len(corruptions) < args.kills and k < 3 * args.kills:  # a kill before any part
        k += 1  # was written does not count towards the corruptions
        log = work / f"run{k}.log"
        logs.append(log)
        with open(log, "w") as err:
            proc = subprocess.Popen(command + ["--out", str(out)], stdout=subprocess.DEVNULL,
                                    stderr=err)  # fmt: skip
            wait = rng.uniform(args.min_wait, args.max_wait)
            try:
                proc.wait(timeout=wait)
                faults.append(("run finished before its kill", f"{len(parts())} parts"))
                break
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        faults.append((f"SIGKILL {k} after {wait:.1f} s", f"{len(parts())} parts on disk"))
        done = corrupt(k)
        if done is not None:
            corruptions.append((k, *done))
    started = time.perf_counter()
    final = subprocess.run(command + ["--out", str(out)], capture_output=True, text=True)
    (work / "final.log").write_text(final.stderr)
    logs.append(work / "final.log")
    faults.append(
        ("final run", f"exit {final.returncode} in {time.perf_counter() - started:.0f} s")
    )
    clean = subprocess.run(command + ["--out", str(work / "clean")], capture_output=True, text=True)
    if clean.returncode != 0:
        sys.exit(f"the uninterrupted run failed: {clean.stderr[-2000:]}")

    import pandas as pd

    from jaxneuron.sweep import SweepResult

    a, b = SweepResult.load(out).table, SweepResult.load(work / "clean").table
    # each corruption: named when set aside by the next run, or harmless (its rows equal)
    named = 0
    for k, what, victim in corruptions:
        later = "".join(log.read_text() for log in logs[k:])  # the runs after kill k
        if f"set aside {victim.name}" in later:
            reason = later.split(f"set aside {victim.name} (", 1)[1].split(") in quarantine")[0]
            outcome = f"set aside, named: {reason[:60]}"
            named += 1
        else:
            outcome = "not set aside: its rows read back equal (checked below)"
        faults.append((what, outcome))
    quarantined = (
        sorted(p.name for p in (out / "quarantine").glob("*"))
        if (out / "quarantine").exists()
        else []
    )
    print(f"{args.models} models, chunks of {args.chunk_size}, {args.t1:g} ms each\n")
    print(f"{'fault':<58} outcome")
    for fault, outcome in faults:
        print(f"{fault:<58} {outcome}")
    print(f"{'set aside in quarantine/':<58} {len(quarantined)} files")
    same = len(a) == len(b) and a["model_id"].is_unique
    try:
        pd.testing.assert_frame_equal(a, b)
    except AssertionError as err:
        same = False
        print(err)
    print(f"\n{len(corruptions)} corruptions, {named} named and set aside; rows {len(a)} "
          f"(unique ids: {a['model_id'].is_unique}); equal to the uninterrupted run: {same}; "
          f"{time.perf_counter() - began:.0f} s in all")  # fmt: skip
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
