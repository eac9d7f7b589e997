#!/usr/bin/python3
"""Front-end benchmark: the seed-scale workload through the ecg plugin
against pandas + NumPy doing the seed's steps, side by side in one run.

    python3 tools/bench-frontend.py [--samples N] [--csv PATH] [--repeat R]

Writes (once) the workload: N samples (default 20,000,000 = 22.2 h at
250 Hz) in one CSV column 'heartbeats', each value written with Python's
repr() (full float repr, about 400 MB), made by tiling the bundled 250 Hz
trace of data/samples/119_5min.csv plus 1 uV of Gaussian noise.  Then times
each side as a whole process (wall time and peak resident memory from the
kernel's rusage) and prints a table.

Needs python3-numpy, python3-scipy and python3-pandas (Debian packages) and
a build in ./build (run-tests.sh or tools/setup.sh makes one).
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SEED_SIDE = r'''
import sys, numpy as np, pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
x = pd.read_csv(sys.argv[1], dtype="float32").iloc[:, 0].values
W = 30
t = np.linspace(-3, 3, W)
w = 2 * np.exp(-t * t / 2) * (1 - t * t) / np.sqrt(W)
k = np.zeros(len(x)); k[:W] = w
y = np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(k), n=len(x))
m = sliding_window_view(y, 180).max(axis=1)
g = (m == y[90:90 + len(m)]).astype(np.int64)
g[1:] *= (np.diff(g) == 1)
idx = np.flatnonzero(g)
rows = []
for a, b in zip(idx[:-1], idx[1:]):
    if 100 <= b - a <= 256:
        r = np.zeros(256); r[:b - a] = x[a:b]; rows.append(r)
print(len(idx), len(rows))
'''


def make_workload(path, n):
    import numpy as np
    from scipy.signal import resample_poly
    src = os.path.join(ROOT, "data", "samples", "119_5min.csv")
    base = np.loadtxt(src, delimiter=",", skiprows=1, usecols=[0])
    base = resample_poly(base, 25, 36)
    reps = -(-n // len(base))
    x = np.tile(base, reps)[:n] + np.random.default_rng(0).normal(0, 1e-3, n)
    tmp = path + ".part"
    with open(tmp, "w") as f:
        f.write("heartbeats\n")
        for i in range(0, n, 1_000_000):
            f.write("\n".join(map(repr, x[i:i + 1_000_000].tolist())))
            f.write("\n")
    os.replace(tmp, path)


def run(cmd, env):
    """Wall seconds and peak RSS (MB) of one child process.  posix_spawn
    shares the parent's memory until exec instead of copying it, so the
    child's peak RSS counts only its own pages."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as null:
        pid = os.posix_spawnp(cmd[0], cmd, env,
                              file_actions=[(os.POSIX_SPAWN_DUP2, null.fileno(), 1)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return wall, ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=20_000_000)
    ap.add_argument("--csv", default="/tmp/ecg-bench-20M.csv")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--make-workload", metavar="PATH", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.make_workload:
        make_workload(a.make_workload, a.samples)
        return
    if not os.path.exists(a.csv):
        print(f"writing {a.csv} ({a.samples} samples)...", flush=True)
        # in a child, so this process stays small for the measurements
        subprocess.run([sys.executable, __file__, "--make-workload", a.csv,
                        "--samples", str(a.samples)], check=True)
    size = os.path.getsize(a.csv) / 1e6

    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = os.path.join(ROOT, "build", "gst")
    gst = ["gst-launch-1.0", "-q", "csvecgsrc", f"location={a.csv}",
           "buffer-time=60000000", "!", "rickerconv", "!", "nmsgate", "!",
           "beatembed", "!", "fakesink"]
    seed_gst = gst[:]
    seed_gst[seed_gst.index("nmsgate")] = "nmsgate threshold=0"
    seed_gst = " ".join(seed_gst).split()
    seed_gst[seed_gst.index("beatembed")] = "beatembed prune=true"
    seed_gst = " ".join(seed_gst).split()
    queued = gst[:]
    queued[queued.index("rickerconv"):queued.index("rickerconv")] = [
        "queue", "max-size-buffers=3", "max-size-bytes=0", "max-size-time=0", "!"]
    py = ["/usr/bin/python3", "-c", SEED_SIDE, a.csv]

    rows = []
    for name, cmd in (("ecg plugin, adaptive (default)", gst),
                      ("ecg plugin, seed rule (threshold=0 prune=true)", seed_gst),
                      ("ecg plugin, adaptive, queue after csvecgsrc", queued),
                      ("pandas read_csv + NumPy (seed steps)", py)):
        best = None
        for _ in range(a.repeat):
            wall, rss = run(cmd, env)
            if best is None or wall < best[0]:
                best = (wall, rss)
        rows.append((name, best[0], best[1]))

    base = rows[-1][1]
    print(f"workload: {a.csv}, {size:.0f} MB, {a.samples} samples; best of {a.repeat}")
    print(f"{'side':50s} {'wall s':>8s} {'peak MB':>8s} {'speed-up':>9s}")
    for name, wall, rss in rows:
        print(f"{name:50s} {wall:8.2f} {rss:8.0f} {base / wall:8.1f}x")


if __name__ == "__main__":
    main()
