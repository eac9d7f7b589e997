#!/usr/bin/env python3
"""Check that a LightVAE model file written by our C code loads in PyTorch
and gives the outputs our C code computed.

Needs PyTorch and the safetensors package (the GPU machine has both).

    python3 tests/gpu/check_torch_load.py MODEL BEATS OUTDIR \
        [--module PATH/lightvae_torch.py] [--device cpu|cuda] [--tol 1e-5]

MODEL: a .safetensors written by safetensors_write_lightvae (e.g. by
tools/vae-dump --save); BEATS: float32 rows of 256 samples; OUTDIR: holds
mu.f32, logvar.f32 and recon.f32 that tools/vae-dump wrote for BEATS with
MODEL.  The model loads with safetensors.torch.load_file into
load_state_dict(strict=True) of either the LightVAE class found in
--module or, by default, the definition below (written from
shared/data/golden/vae/README.md).  Prints the relative error
||ours - torch|| / ||torch|| and the largest elementwise relative error of
each output, and exits 1 when a relative error reaches --tol.
"""
import argparse
import importlib.util
import os
import sys

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file


class LightVAE(torch.nn.Module):
    """The LightVAE as the golden README states it."""

    def __init__(self, d=256):
        super().__init__()
        self.d = d
        self.sigma = torch.nn.Module()
        self.sigma.alpha = torch.nn.Parameter(torch.ones(1))
        self.conv0 = torch.nn.Conv1d(1, 4, 3, 1, 1)
        self.conv1 = torch.nn.Conv1d(4, 8, 3, 1, 1)
        self.conv2 = torch.nn.Conv1d(8, 16, 3, 1, 1)
        self.convA = torch.nn.Conv1d(16, 2, 3, 1, 1)
        self.convB = torch.nn.Conv1d(16, 2, 3, 1, 1)
        self.restore = torch.nn.Linear(2, d)
        self.conv3 = torch.nn.Conv1d(8, 4, 3, 1, 1)
        self.conv4 = torch.nn.Conv1d(4, 2, 3, 1, 1)
        self.conv5 = torch.nn.Conv1d(2, 1, 3, 1, 1)

    def swish(self, x):
        return x * torch.sigmoid(self.sigma.alpha * x)

    @staticmethod
    def down(x):
        c = x.shape[1]
        k = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device)
        return F.conv1d(x, k.view(1, 1, 3).expand(c, 1, 3), stride=2,
                        padding=1, groups=c)

    @staticmethod
    def up(x):
        return F.interpolate(x, scale_factor=2, mode="nearest")

    def encode(self, x):
        h = x.reshape(-1, 1, self.d)
        for conv in (self.conv0, self.conv1, self.conv2):
            h = self.down(self.swish(conv(h)))
        return self.convA(h).mean(2), self.convB(h).mean(2)

    def decode(self, z):
        h = self.restore(z).reshape(-1, 8, self.d // 8)
        h = self.swish(self.conv3(self.up(h)))
        h = self.swish(self.conv4(self.up(h)))
        return self.conv5(self.up(h)).reshape(-1, self.d)


def model_class(module_path):
    if module_path is None:
        return LightVAE
    spec = importlib.util.spec_from_file_location("lightvae_ext", module_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.LightVAE


def read_f32(path, cols):
    data = open(path, "rb").read()
    if len(data) % (4 * cols) != 0:
        raise SystemExit(f"{path}: {len(data)} bytes is not rows of {cols} "
                         "float32")
    t = torch.frombuffer(bytearray(data), dtype=torch.float32)
    return t.reshape(-1, cols)


def compare(name, ours, ref, tol):
    ours = ours.double()
    ref = ref.double()
    rel = ((ours - ref).norm() / ref.norm().clamp_min(1e-300)).item()
    elem = ((ours - ref).abs() / ref.abs().clamp_min(1e-6)).max().item()
    ok = rel < tol
    print(f"{'ok' if ok else 'MISMATCH'} {name}: relative error {rel:.3g} "
          f"(max elementwise {elem:.3g}, {ref.numel()} values)")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("beats")
    ap.add_argument("outdir")
    ap.add_argument("--module", help="a lightvae_torch.py defining LightVAE")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args()

    with safe_open(args.model, framework="pt") as f:
        meta = f.metadata() or {}
    print(f"metadata: {meta}")
    if meta.get("arch", "LightVAE") != "LightVAE":
        print(f"MISMATCH arch metadata {meta.get('arch')!r}")
        return 1

    state = load_file(args.model)
    net = model_class(args.module)()
    # strict: every name and shape must match the module's state_dict
    net.load_state_dict(state, strict=True)
    net = net.to(args.device).eval()

    x = read_f32(args.beats, 256).to(args.device)
    ours_mu = read_f32(os.path.join(args.outdir, "mu.f32"), 2)
    ours_lv = read_f32(os.path.join(args.outdir, "logvar.f32"), 2)
    ours_rec = read_f32(os.path.join(args.outdir, "recon.f32"), 256)
    if not (len(ours_mu) == len(ours_lv) == len(ours_rec) == len(x)):
        print(f"MISMATCH row counts: beats {len(x)}, mu {len(ours_mu)}, "
              f"logvar {len(ours_lv)}, recon {len(ours_rec)}")
        return 1

    # full float32 on the GPU too (no TF32 in the convolutions)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    with torch.no_grad():
        mu, lv = net.encode(x)
        rec = net.decode(mu)

    ok = compare("mu", ours_mu, mu.cpu(), args.tol)
    ok &= compare("logvar", ours_lv, lv.cpu(), args.tol)
    ok &= compare("recon", ours_rec, rec.cpu(), args.tol)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
