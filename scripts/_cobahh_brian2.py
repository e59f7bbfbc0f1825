"""The COBAHH benchmark in Brian2, run by ``bench_cobahh.py`` in a separate Python that has
Brian2 installed (Brian2 2.9 does not import with NumPy ≥ 2.3). Prints one JSON line per
seed: rates (Hz) and mean ISI CVs of the excitatory and inhibitory neurons, and times (s).

Each seed runs 1 ms (a warm-up, not analysed) and then ``--duration`` ms. ``run_s`` and
``run_cpu_s`` are the wall-clock and CPU time of the second run alone:

- runtime targets (``cython``, ``numpy``): around ``Network.run`` in this process, after
  the warm-up run has generated and compiled the code (``build_s``: network construction,
  code generation and the warm-up run);
- ``cpp_standalone``: around the second run inside the generated ``main`` (its before-run
  steps, ``Network::run`` and its after-run steps), read from ``clock_gettime``
  (``CLOCK_MONOTONIC``, ``CLOCK_PROCESS_CPUTIME_ID``) calls inserted into ``main``, with
  one thread (OpenMP off). Code generation and compilation (``build_s``, of which
  ``compile_s`` is ``make``) come before it; ``binary_s`` is the whole ``main`` process,
  which also builds the synapses, sets the initial state, runs the warm-up and writes the
  results. ``brian_loop_cpu_s`` is Brian2's own measure of ``Network::run`` alone
  (``device._last_run_time``, from ``std::clock``).

    python _cobahh_brian2.py --n 4000 --seeds 0 1 2 3 4 --duration 1000 --target cython

The model (Brette et al. 2007, benchmark 3): Traub–Miles neurons, area 20,000 µm²,
C 1 µF/cm², g_L 0.05, g_Na 100, g_Kd 30 mS/cm², E_L −60, E_Na 50, E_K −90 mV, V_T −63 mV;
spikes at V > −20 mV with 3 ms refractoriness; exponential synapses (6 nS, 5 ms, 0 mV;
67 nS, 10 ms, −80 mV); connection probability 0.02; exponential Euler, dt ``--dt``
(0.1 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=4000)
parser.add_argument("--seeds", type=int, nargs="+", default=[0])
parser.add_argument("--duration", type=float, default=1000.0)
parser.add_argument("--p", type=float, default=0.02)
parser.add_argument("--dt", type=float, default=0.1, help="ms")
parser.add_argument("--target", default="cython", choices=["cython", "numpy", "cpp_standalone"])
args = parser.parse_args()

import brian2 as b2  # noqa: E402
from brian2 import ms, msiemens, mV, nS, siemens, ufarad, umetre  # noqa: E402

if args.target == "cpp_standalone":
    b2.set_device("cpp_standalone", build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # one thread, no OpenMP
else:
    b2.prefs.codegen.target = args.target
b2.defaultclock.dt = args.dt * ms

area = 20000 * umetre**2
namespace = {
    "Cm": 1 * ufarad * b2.cm**-2 * area,
    "gl": 5e-5 * siemens * b2.cm**-2 * area,
    "El": -60 * mV,
    "EK": -90 * mV,
    "ENa": 50 * mV,
    "g_na": 100 * msiemens * b2.cm**-2 * area,
    "g_kd": 30 * msiemens * b2.cm**-2 * area,
    "VT": -63 * mV,
    "taue": 5 * ms,
    "taui": 10 * ms,
    "Ee": 0 * mV,
    "Ei": -80 * mV,
    "we": 6 * nS,
    "wi": 67 * nS,
}
equations = b2.Equations(
    """
    dv/dt = (gl*(El - v) + ge*(Ee - v) + gi*(Ei - v)
             - g_na*m**3*h*(v - ENa) - g_kd*n**4*(v - EK))/Cm : volt
    dm/dt = alpha_m*(1 - m) - beta_m*m : 1
    dn/dt = alpha_n*(1 - n) - beta_n*n : 1
    dh/dt = alpha_h*(1 - h) - beta_h*h : 1
    dge/dt = -ge/taue : siemens
    dgi/dt = -gi/taui : siemens
    alpha_m = 1.28/exprel((13*mV - v + VT)/(4*mV))/ms : Hz
    beta_m = 1.4/exprel((v - VT - 40*mV)/(5*mV))/ms : Hz
    alpha_h = 0.128*exp((17*mV - v + VT)/(18*mV))/ms : Hz
    beta_h = 4/(1 + exp((40*mV - v + VT)/(5*mV)))/ms : Hz
    alpha_n = 0.16/exprel((15*mV - v + VT)/(5*mV))/ms : Hz
    beta_n = 0.5*exp((10*mV - v + VT)/(40*mV))/ms : Hz
    """
)


#: C++ inserted into the standalone ``main`` around the timed run; it writes the loop's
#: wall-clock and CPU seconds to ``loop_time.txt`` in the results directory
LOOP_TIMER_START = """
struct timespec _loop_wall_start, _loop_cpu_start, _loop_wall_end, _loop_cpu_end;
clock_gettime(CLOCK_MONOTONIC, &_loop_wall_start);
clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &_loop_cpu_start);
"""
LOOP_TIMER_END = """
clock_gettime(CLOCK_MONOTONIC, &_loop_wall_end);
clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &_loop_cpu_end);
{
    std::ofstream _loop_time_file((brian::results_dir + "loop_time.txt").c_str());
    _loop_time_file.precision(9);
    _loop_time_file
        << (_loop_wall_end.tv_sec - _loop_wall_start.tv_sec)
               + 1e-9 * (_loop_wall_end.tv_nsec - _loop_wall_start.tv_nsec) << " "
        << (_loop_cpu_end.tv_sec - _loop_cpu_start.tv_sec)
               + 1e-9 * (_loop_cpu_end.tv_nsec - _loop_cpu_start.tv_nsec) << std::endl;
}
"""


def stats(trains, n_min=3):
    cvs = []
    for t in trains:
        if len(t) >= n_min:
            isi = np.diff(t)
            cvs.append(np.std(isi) / np.mean(isi))
    return float(np.mean(cvs)) if cvs else float("nan")


for seed in args.seeds:
    b2.start_scope()
    if args.target == "cpp_standalone":
        b2.device.reinit()
        b2.device.activate(build_on_run=False)
    b2.seed(seed)
    began = time.perf_counter()
    P = b2.NeuronGroup(
        args.n, equations, threshold="v > -20*mV", refractory=3 * ms,
        method="exponential_euler", namespace=namespace,
    )  # fmt: skip
    n_exc = int(round(0.8 * args.n))
    Pe, Pi = P[:n_exc], P[n_exc:]
    Ce = b2.Synapses(Pe, P, on_pre="ge += we", namespace=namespace)
    Ci = b2.Synapses(Pi, P, on_pre="gi += wi", namespace=namespace)
    Ce.connect(p=args.p)
    Ci.connect(p=args.p)
    P.v = "El + (randn()*5 - 5)*mV"
    P.ge = "(randn()*1.5 + 4)*10*nS"
    P.gi = "(randn()*12 + 20)*10*nS"
    spikes = b2.SpikeMonitor(P)
    net = b2.Network(P, Ce, Ci, spikes)
    if args.target == "cpp_standalone":
        net.run(1 * ms, namespace=namespace)
        b2.device.insert_code("main", LOOP_TIMER_START)
        net.run(args.duration * ms, namespace=namespace)
        b2.device.insert_code("main", LOOP_TIMER_END)
        b2.device.build(directory=None, compile=True, run=False)  # code generation, make
        built = time.perf_counter()
        b2.device.run()
        ran = time.perf_counter()
        with open(os.path.join(b2.device.results_dir, "loop_time.txt")) as f:
            run_s, run_cpu_s = (float(x) for x in f.read().split())
        times = {
            "build_s": built - began,
            "compile_s": b2.device.timers["compile"]["make"],
            "binary_s": ran - built,
            "run_s": run_s,
            "run_cpu_s": run_cpu_s,
            "brian_loop_cpu_s": float(b2.device._last_run_time),
        }
    else:
        net.run(1 * ms, namespace=namespace)  # code generation and compilation
        built, built_cpu = time.perf_counter(), time.process_time()
        net.run(args.duration * ms, namespace=namespace)
        times = {
            "build_s": built - began,
            "run_s": time.perf_counter() - built,
            "run_cpu_s": time.process_time() - built_cpu,
        }
    trains = [np.asarray(t / ms) for t in spikes.spike_trains().values()]
    trains = [t[t >= 1.0] for t in trains]  # the 1-ms warm-up run is not analysed
    counts = np.asarray([len(t) for t in trains])
    seconds = args.duration / 1000.0
    print(
        json.dumps(
            {
                "seed": seed,
                "n": args.n,
                "target": args.target,
                "dt": args.dt,
                "rate_E": float(counts[:n_exc].mean() / seconds),
                "rate_I": float(counts[n_exc:].mean() / seconds),
                "cv_E": stats(trains[:n_exc]),
                "cv_I": stats(trains[n_exc:]),
                **times,
            }
        ),
        flush=True,
    )
    if args.target == "cpp_standalone":
        b2.device.delete(force=True)  # the temporary project directory
