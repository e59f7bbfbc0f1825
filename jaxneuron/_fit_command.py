"""What `jaxneuron fit` does, apart from the command line: read the data (a recording or a
features file), build the loss, fit, report what the data determine, draw the figure.

A features file is JSON: the simulation (``t1``, the analysis window from ``start`` to
``stop`` in ms, a constant ``current`` in µA/cm²) and the features to match, each named by
its class in `jaxneuron.fit` with its arguments (``target``, ``scale``, ``weight``, …)::

    {"t1": 6000, "start": 2000, "current": 0.0,
     "features": [{"feature": "BurstPeriod", "target": 800.0, "scale": 20.0},
                  {"feature": "DutyCycle", "target": 0.25, "scale": 0.02}]}
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

#: Suffixes read as features files; any other file is a recording (NWB or a neo format).
FEATURE_SUFFIXES = (".json",)


@dataclasses.dataclass(frozen=True)
class FitData:
    """A loss built from a file, what to call it, and how to draw the fit."""

    loss: object
    description: str
    recording: object = None  # a jaxneuron.Recording, for the figure
    current: float = 0.0  # a features file's constant current (µA/cm²), the model's stimulus

    def fixed_loss(self, junction_potential: float = 0.0):
        """The loss with the junction potential (mV) fixed at a value: itself unless it
        fits the junction potential."""
        import jaxneuron.fit as jf

        if isinstance(self.loss, jf.JunctionPotential):
            return self.loss.corrected(junction_potential)
        return self.loss


def read_data(
    path: str,
    *,
    area_cm2: float | None,
    junction_potential: float,
    fit_junction: bool,
    sweeps: str | None,
    start: float,
    stop: float | None,
    dt: float,
) -> FitData:
    """The loss of the file at ``path``: a `ProtocolLoss` of a recording's sweeps (current
    clamp; the cell's membrane area ``area_cm2`` in cm² turns nA into µA/cm²), or a
    `FeatureLoss` from a features file. Raises ValueError/OSError with one line."""
    file = Path(path)
    if not file.is_file():
        raise OSError(f"{path!r}: no such file")
    if file.suffix.lower() in FEATURE_SUFFIXES:
        if area_cm2 is not None or sweeps is not None or fit_junction or junction_potential:
            raise ValueError(
                "--area, --sweeps, --junction-potential and --fit-junction apply to "
                f"recordings, not to the features file {path!r}"
            )
        return _features(file, dt)
    return _recording(file, area_cm2, junction_potential, fit_junction, sweeps, start, stop, dt)


def _recording(file, area_cm2, junction_potential, fit_junction, sweeps, start, stop, dt):
    import jaxneuron as jn
    import jaxneuron.fit as jf

    if area_cm2 is None:
        raise ValueError(
            "--area: a recording needs the cell's membrane area in cm² (1e-4 cm² is "
            "10,000 µm²) to turn its currents (nA) into densities (µA/cm²)"
        )
    if not area_cm2 > 0:
        raise ValueError(f"--area must be > 0 (cm²), got {area_cm2}")
    rec = jn.load_nwb(file) if file.suffix.lower() == ".nwb" else jn.load_neo(file)
    if sweeps:
        chosen = [int(s) if s.strip().isdigit() else s.strip() for s in sweeps.split(",")]
        for s in chosen:
            if isinstance(s, int) and not 0 <= s < rec.sweeps:
                raise ValueError(f"--sweeps: no sweep {s}; {file.name} has {rec.sweeps}")
            if isinstance(s, str) and s not in rec.names:
                raise ValueError(f"--sweeps: no sweep named {s!r}; names: {rec.names}")
        rec = rec.select(chosen)
    loss = rec.loss(
        jn.Geometry(area_cm2=area_cm2),
        junction_potential=0.0 if fit_junction else junction_potential,
        start=start,
        stop=stop,
        solver=jn.ExponentialEuler(dt=dt),
    )
    if fit_junction:
        loss = jf.JunctionPotential(loss, initial=junction_potential)
    description = (
        f"{file.name}: {rec.sweeps} current-clamp sweep(s) of {rec.duration:g} ms at "
        f"{1.0 / rec.dt:g} kHz"
        + (f", junction potential {junction_potential:g} mV" if not fit_junction else "")
    )
    return FitData(loss, description, rec)


def _features(file, dt) -> FitData:
    import jaxneuron as jn
    import jaxneuron.fit as jf

    try:
        spec = json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{file.name}: not a JSON features file ({err})") from err
    if not isinstance(spec, dict) or not isinstance(spec.get("features"), list):
        raise ValueError(f"{file.name}: expected an object with a list 'features'")
    unknown = set(spec) - {"t1", "start", "stop", "current", "features"}
    if unknown:
        raise ValueError(
            f"{file.name}: unknown keys {sorted(unknown)}; use t1, start, stop (ms), "
            "current (µA/cm²) and features"
        )
    if "t1" not in spec:
        raise ValueError(f"{file.name}: 't1' (the simulated time, ms) is missing")
    classes = {
        name: obj
        for name in jf.__all__
        if isinstance(obj := getattr(jf, name), type)
        and issubclass(obj, jf.Feature)
        and obj is not jf.Feature
    }
    features = []
    for k, entry in enumerate(spec["features"]):
        entry = dict(entry) if isinstance(entry, dict) else {}
        name = entry.pop("feature", None)
        if name not in classes:
            raise ValueError(
                f"{file.name}: features[{k}] needs 'feature', one of {sorted(classes)}; "
                f"got {name!r}"
            )
        if entry.get("target") is None:
            raise ValueError(f"{file.name}: features[{k}] ({name}) needs a 'target'")
        try:
            features.append(classes[name](**entry))
        except TypeError as err:
            raise ValueError(f"{file.name}: features[{k}] ({name}): {err}") from err
    if not features:
        raise ValueError(f"{file.name}: the list 'features' is empty")
    loss = jf.FeatureLoss(
        features,
        t1=float(spec["t1"]),
        start=float(spec.get("start", 0.0)),
        stop=None if spec.get("stop") is None else float(spec["stop"]),
        solver=jn.ExponentialEuler(dt=dt),
    )
    current = float(spec.get("current", 0.0))
    names = ", ".join(f.label for f in features)
    description = f"{file.name}: {len(features)} feature(s) ({names}), {loss.t1:g} ms"
    return FitData(loss, description, current=current)


def identifiability_lines(model, loss, names) -> list[str]:
    """The sensitivity report at the fitted point, and the combinations the data leave
    undetermined."""
    import jaxneuron.fit as jf

    report = jf.sensitivity(model, loss, list(names))
    lines = str(report).splitlines()
    loose = report.poorly_determined()
    if loose:
        for direction in loose:
            combo = " ".join(f"{w:+.2f}·{n}" for n, w in direction.items())
            lines.append(f"  not determined by these data: {combo}")
    else:
        lines.append("  every parameter is determined by these data (σ_P/σ₁ ≥ 1e-3)")
    return lines


def draw(
    data: FitData,
    start_model,
    fitted_model,
    path: str,
    *,
    junction_potential: float = 0.0,
    max_sweeps: int = 4,
) -> str:
    """The data against the fitted model (and the start): sweeps of a recording as
    recorded, the model's potentials + ``junction_potential`` (mV) beside them; or the
    fitted trace with its features against the targets. Returns the file written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import jaxneuron as jn

    loss = data.fixed_loss(junction_potential)
    if data.recording is not None:
        n = min(data.recording.sweeps, max_sweeps)
        fig, axes = plt.subplots(n, 1, figsize=(7, 1.8 * n + 0.6), sharex=True, squeeze=False)
        ts = data.recording.dt * np.arange(data.recording.V.shape[1])
        fitted = np.asarray(loss.simulated(fitted_model)) + junction_potential
        initial = np.asarray(loss.simulated(start_model)) + junction_potential
        for k, ax in enumerate(axes[:, 0]):
            ax.plot(ts, data.recording.V[k], color="0.6", lw=1.0, label="recording")
            ax.plot(ts, initial[k], color="tab:blue", lw=0.6, alpha=0.6, label="start")
            ax.plot(ts, fitted[k], color="tab:red", lw=0.8, label="fit")
            ax.set_ylabel(f"{data.recording.names[k]}\nV (mV)", fontsize=8)
        axes[0, 0].legend(loc="upper right", fontsize=8, ncols=3)
        axes[-1, 0].set_xlabel("time (ms)")
    else:
        sol = jn.simulate(fitted_model, loss.t1, solver=loss.solver, save_every=loss.save_every)
        fig, ax = plt.subplots(figsize=(7, 2.8))
        ax.plot(np.asarray(sol.ts), np.asarray(sol.V), color="tab:red", lw=0.6)
        ax.axvspan(loss.start, loss.stop or loss.t1, color="0.9", zorder=-1)
        values = loss.report(fitted_model)
        text = "\n".join(
            f"{f.label}: {np.ravel(values[f.label])[0]:.4g} (target "
            f"{float(np.ravel(np.asarray(f.target))[0]):.4g})"
            for f in loss.features
        )
        ax.text(0.01, 0.98, text, transform=ax.transAxes, va="top", fontsize=7)
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("V (mV)")
        axes = np.array([[ax]])
    axes[0, 0].set_title(data.description, fontsize=9)
    fig.tight_layout()
    return jn.plot.save(axes[0, 0], path)
