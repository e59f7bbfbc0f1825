r"""Current-clamp recordings from files: NWB through `pynwb`, and the formats `neo` reads
(ABF, Spike2, NIX, …), with their stimuli, sampling rate and units checked.

A `Recording` holds the sweeps of one cell as arrays — potentials in mV and the injected
whole-cell current in nA (the holding/bias current included), sampled every ``dt`` ms
from the sweep's start. `Recording.protocol` turns the currents into a `jaxneuron.Protocol`
for a cell of given membrane area (nA → µA/cm², `jaxneuron.Geometry`);
`Recording.loss` into a `jaxneuron.fit.ProtocolLoss` — the liquid-junction potential (mV,
added to the recorded potentials: V_membrane = V_recorded − LJP with the usual sign
convention LJP = V_pipette − V_bath) corrected on the way.

>>> import numpy as np
>>> rec = Recording(V=np.full((1, 11), -65.0), current=np.zeros((1, 11)), dt=0.1)
>>> rec.sweeps, rec.duration
(1, 1.0)

The readers import `pynwb` and `neo` when called; install them with
``pip install "jaxneuron[recordings]"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .protocols import Protocol
from .stimuli import Interpolated
from .units import Geometry


@dataclasses.dataclass(frozen=True)
class Recording:
    """Current-clamp sweeps of one cell.

    - ``V``: (sweeps, n) membrane potential in mV;
    - ``current``: (sweeps, n) injected whole-cell current in nA (holding current included);
    - ``dt``: sampling interval in ms (the same for every sweep);
    - ``names``: sweep names; ``holding``: (sweeps,) holding current in nA (already in
      ``current``; kept for reference); ``source``: where it was read from.
    """

    V: np.ndarray
    current: np.ndarray
    dt: float
    names: tuple[str, ...] = ()
    holding: np.ndarray | None = None
    source: str = ""

    def __post_init__(self):
        V = np.asarray(self.V, dtype=float)
        current = np.asarray(self.current, dtype=float)
        if V.ndim == 1:
            V, current = V[None], current.reshape(1, -1)
        if V.ndim != 2 or V.shape[1] < 2:
            raise ValueError(f"Recording: V must have shape (sweeps, samples ≥ 2), got {V.shape}")
        if current.shape != V.shape:
            raise ValueError(
                f"Recording: current (nA) has shape {current.shape} but V (mV) {V.shape}; "
                "each sweep needs its stimulus sampled with it"
            )
        if not float(self.dt) > 0:
            raise ValueError(f"Recording: dt (sampling interval) must be > 0 ms, got {self.dt}")
        for what, x in (("V (mV)", V), ("current (nA)", current)):
            if not np.all(np.isfinite(x)):
                sweep, sample = np.argwhere(~np.isfinite(x))[0]
                raise ValueError(
                    f"Recording: {what} holds NaN or infinite values (sweep {sweep}, "
                    f"t = {sample * self.dt:g} ms)"
                )
        names = tuple(self.names) or tuple(f"sweep {i}" for i in range(V.shape[0]))
        if len(names) != V.shape[0]:
            raise ValueError(f"Recording: {V.shape[0]} sweeps but {len(names)} names")
        holding = np.zeros(V.shape[0]) if self.holding is None else np.asarray(self.holding)
        object.__setattr__(self, "V", V)
        object.__setattr__(self, "current", current)
        object.__setattr__(self, "dt", float(self.dt))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "holding", holding)

    @property
    def sweeps(self) -> int:
        return self.V.shape[0]

    @property
    def duration(self) -> float:
        """Sweep length in ms (from the first sample to the last)."""
        return (self.V.shape[1] - 1) * self.dt

    def select(self, sweeps: Sequence[int | str]) -> Recording:
        """The recording restricted to some sweeps (by index or name)."""
        index = [self.names.index(s) if isinstance(s, str) else int(s) for s in sweeps]
        return Recording(
            V=self.V[index],
            current=self.current[index],
            dt=self.dt,
            names=tuple(self.names[i] for i in index),
            holding=self.holding[index],
            source=self.source,
        )

    def protocol(self, geometry: Geometry) -> Protocol:
        """The sweeps' currents as a `Protocol` of sampled stimuli in µA/cm² for a cell of
        ``geometry``'s membrane area."""
        if not isinstance(geometry, Geometry):
            raise TypeError(f"geometry must be a jaxneuron.Geometry, got {geometry!r}")
        density = np.asarray(geometry.current_density(self.current))
        return Protocol(
            [Interpolated.from_samples(row, self.dt) for row in density],
            t1=self.duration,
            names=self.names,
        )

    def loss(self, geometry: Geometry, *, junction_potential: float = 0.0, **kwargs):
        """A `jaxneuron.fit.ProtocolLoss` of the model against these sweeps: stimuli from
        `protocol`, targets V − ``junction_potential`` (mV); ``kwargs`` go to the loss
        (``start``, ``stop``, ``solver``, …). To fit the junction potential instead,
        wrap the loss: ``jaxneuron.fit.JunctionPotential(recording.loss(geometry))``."""
        from .fit import ProtocolLoss

        if not np.isfinite(junction_potential):
            raise ValueError(f"junction_potential must be finite (mV), got {junction_potential}")
        return ProtocolLoss(
            self.protocol(geometry), self.V - junction_potential, dt=self.dt, **kwargs
        )


# ---- NWB (pynwb) ----------------------------------------------------------------------


def load_nwb(path, *, electrode: str | None = None) -> Recording:
    """The current-clamp sweeps of an NWB file: each ``CurrentClampSeries`` in its
    acquisition paired with the ``CurrentClampStimulusSeries`` of the same sweep number
    (or, without sweep numbers, of the same position), in SI units scaled by the series'
    ``conversion`` and ``offset`` and converted to mV and nA; the ``bias_current`` (the
    holding current) is added to the stimulus. ``electrode`` keeps one electrode's sweeps.
    """
    from pynwb import NWBHDF5IO
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

    with _open_nwb(NWBHDF5IO, path) as io:
        try:
            nwb = io.read()
        except Exception as err:  # noqa: BLE001 — HDF5 that is not a readable NWB file
            raise ValueError(
                f"{path}: not a readable NWB file ({type(err).__name__}: {err})"
            ) from None
        responses = [
            s
            for s in nwb.acquisition.values()
            if isinstance(s, CurrentClampSeries)
            and (electrode is None or s.electrode.name == electrode)
        ]
        stimuli = [
            s
            for s in nwb.stimulus.values()
            if isinstance(s, CurrentClampStimulusSeries)
            and (electrode is None or s.electrode.name == electrode)
        ]
        if not responses:
            raise ValueError(f"{path}: no CurrentClampSeries in the acquisition")
        numbered = all(s.sweep_number is not None for s in responses + stimuli)
        if numbered:
            by_number = {int(s.sweep_number): s for s in stimuli}
            missing = [
                int(r.sweep_number) for r in responses if int(r.sweep_number) not in by_number
            ]
            if missing:
                raise ValueError(f"{path}: no stimulus series for sweep numbers {missing}")
            pairs = [(r, by_number[int(r.sweep_number)]) for r in responses]
        else:
            if len(stimuli) != len(responses):
                raise ValueError(
                    f"{path}: {len(responses)} responses but {len(stimuli)} stimulus series, "
                    "and no sweep numbers to pair them"
                )
            pairs = list(zip(responses, stimuli, strict=True))
        V, current, holding, names, rates = [], [], [], [], []
        for response, stimulus in pairs:
            v = _si(response, "volts", path) * 1e3  # → mV
            i = _si(stimulus, "amperes", path) * 1e9  # → nA
            bias = 0.0 if response.bias_current is None else float(response.bias_current) * 1e9
            if v.shape != i.shape:
                raise ValueError(
                    f"{path}: sweep {response.name!r} has {v.size} samples but its stimulus "
                    f"{stimulus.name!r} {i.size}"
                )
            for series in (response, stimulus):
                if series.rate is None:
                    raise ValueError(
                        f"{path}: {series.name!r} has timestamps, not a sampling rate; "
                        "resample it to a regular grid first"
                    )
            if not np.isclose(response.rate, stimulus.rate):
                raise ValueError(
                    f"{path}: sweep {response.name!r} sampled at {response.rate} Hz but its "
                    f"stimulus at {stimulus.rate} Hz"
                )
            V.append(v)
            current.append(i + bias)
            holding.append(bias)
            names.append(response.name)
            rates.append(float(response.rate))
    return _assemble(V, current, holding, names, rates, str(path))


def _open_nwb(reader, path):
    """``reader(path, "r")``, or one line naming the file when it is missing or is not
    HDF5 (empty, truncated, another format)."""
    path_ = Path(path)
    if not path_.is_file():
        raise FileNotFoundError(f"{path}: no such recording file")
    try:
        return reader(str(path), "r")
    except Exception as err:  # noqa: BLE001 — h5py's errors do not name the file
        raise ValueError(
            f"{path}: not an NWB file (expected HDF5 holding NWB; {type(err).__name__}: {err})"
        ) from None


def _si(series, unit: str, path) -> np.ndarray:
    if series.unit != unit:
        raise ValueError(f"{path}: {series.name!r} is in {series.unit!r}, expected {unit!r}")
    offset = getattr(series, "offset", 0.0) or 0.0
    return np.asarray(series.data[:], dtype=float) * float(series.conversion) + float(offset)


# ---- neo (ABF, Spike2, NIX, …) ----------------------------------------------------------


#: the neo readers `load_neo` uses: formats of intracellular recordings whose readers parse
#: the file's bytes and never unpickle or evaluate them
NEO_READERS = (
    "AxonIO", "AxographIO", "CedIO", "Spike2IO", "IgorIO", "NixIO", "WinWcpIO", "WinEdrIO",
    "NeoMatlabIO", "AsciiSignalIO",
)  # fmt: skip

#: readers refused by name, with the reason
_REFUSED_READERS = {
    "PickleIO": "a pickle runs whatever code its author put in it when it is read; a "
    "recording loader never unpickles (convert it to NIX or NWB where it was made)",
    "NWBIO": "read NWB files with jaxneuron.load_nwb",
}


def _neo_reader(path):
    """The neo IO class for ``path``, chosen by its suffix among `NEO_READERS`; anything
    else is refused in one line naming the file."""
    import neo

    path_ = Path(path)
    if not path_.exists():
        raise FileNotFoundError(f"{path}: no such recording file")
    if not path_.is_file():
        raise ValueError(f"{path}: is not a file (load_neo reads one recording file)")
    suffix = path_.suffix[1:].lower()
    candidates = [io for io in neo.io.iolist if suffix in [e.lower() for e in io.extensions]]
    for io in candidates:
        if io.__name__ in _REFUSED_READERS:
            raise ValueError(f"{path}: refused ({_REFUSED_READERS[io.__name__]})")
    allowed = [io for io in candidates if io.__name__ in NEO_READERS]
    if not allowed:
        extensions = sorted(
            {e.lower() for io in neo.io.iolist if io.__name__ in NEO_READERS for e in io.extensions}
            - {""}
        )
        raise ValueError(
            f"{path}: {('.' + suffix) if suffix else 'no suffix'} is not a recording format "
            f"load_neo reads; expected one of .{', .'.join(extensions)} (NWB: load_nwb)"
        )
    return allowed


def load_neo(path, *, block: int = 0) -> Recording:
    """The sweeps of a recording file that `neo` reads — ABF, AxoGraph, Spike2, Igor, NIX,
    WinWCP, WinEDR, neo's MATLAB and text formats (`NEO_READERS`, chosen by the file's
    suffix): each segment of ``block`` is a sweep holding one potential signal (any
    voltage unit) and one current signal (any current unit) — the stimulus as recorded or
    as the acquisition software stored it.

    Readers that would unpickle the file (neo's ``.pkl``/``.pickle`` reader) are refused:
    reading a pickle runs code its author chose. Every failure names the file and what
    was expected."""
    import quantities as pq

    errors = []
    for reader in _neo_reader(path):
        try:
            io = reader(str(path))
            try:
                blocks = io.read(lazy=False)
            finally:
                close = getattr(io, "close", None)
                if close is not None:
                    close()
            break
        except Exception as err:  # noqa: BLE001 — a file the reader cannot parse
            errors.append(f"{reader.__name__}: {type(err).__name__}: {err}")
    else:
        raise ValueError(
            f"{path}: not a readable {Path(path).suffix} recording ({'; '.join(errors)})"
        )
    if not blocks or block >= len(blocks):
        raise ValueError(f"{path}: no block {block} ({len(blocks)} blocks)")
    V, current, names, rates = [], [], [], []
    for k, segment in enumerate(blocks[block].segments):
        voltages, currents = [], []
        for signal in segment.analogsignals:
            dimension = signal.units.simplified.dimensionality
            if dimension == pq.V.simplified.dimensionality:
                voltages.append(signal)
            elif dimension == pq.A.simplified.dimensionality:
                currents.append(signal)
        if len(voltages) != 1 or len(currents) != 1:
            raise ValueError(
                f"{path}: segment {k} ({segment.name!r}) holds {len(voltages)} voltage and "
                f"{len(currents)} current signals; expected one of each (a current-clamp "
                "sweep with its stimulus)"
            )
        v, i = voltages[0], currents[0]
        if v.shape[1] != 1 or i.shape[1] != 1:
            raise ValueError(f"{path}: segment {k}: expected single-channel signals")
        rate = float(v.sampling_rate.rescale("Hz"))
        if not np.isclose(rate, float(i.sampling_rate.rescale("Hz"))):
            raise ValueError(
                f"{path}: segment {k}: potential and current sampled at different rates"
            )
        V.append(np.asarray(v.rescale("mV").magnitude[:, 0], dtype=float))
        current.append(np.asarray(i.rescale("nA").magnitude[:, 0], dtype=float))
        names.append(segment.name or f"sweep {k}")
        rates.append(rate)
    if not V:
        raise ValueError(f"{path}: block {block} has no segments")
    return _assemble(V, current, [0.0] * len(V), names, rates, str(path))


def _assemble(V, current, holding, names, rates, source) -> Recording:
    if not np.allclose(rates, rates[0]):
        raise ValueError(f"{source}: sweeps sampled at different rates {sorted(set(rates))} Hz")
    lengths = {len(v) for v in V}
    if len(lengths) != 1:
        raise ValueError(
            f"{source}: sweeps of different lengths {sorted(lengths)} samples; select sweeps "
            "of one length (Recording.select) or trim them"
        )
    if len(set(names)) != len(names):
        names = [f"{n} ({k})" for k, n in enumerate(names)]
    return Recording(
        V=np.stack(V),
        current=np.stack(current),
        dt=1000.0 / rates[0],
        names=tuple(names),
        holding=np.asarray(holding),
        source=source,
    )
