#!/usr/bin/env python3
"""DLPack bridge against PyTorch, on the GPU machine.

    python3 tests/gpu/dlpack_torch.py BUILD_DIR [cpu|cuda ...]

For each backend: runs csvecgsrc (a 250 Hz fixture written here) ! rickerconv
! nmsgate ! beatembed ! appsink through the library built as
BUILD_DIR/tests/gpu/libecgdlpackhelper.so, wraps the first beats buffer as
a DLManagedTensor, hands it to torch.from_dlpack through a "dltensor"
PyCapsule and checks: the device (cuda:N for backend=cuda), the same data
pointer as the tensor's, the values (equal to the backend=cpu run), and
that the GstBuffer is freed once PyTorch drops the tensor.  Exits non-zero
on any failure."""
import ctypes
import gc
import math
import os
import sys
import tempfile

import torch

build = sys.argv[1]
backends = sys.argv[2:] or ["cpu", "cuda"]
os.environ["GST_PLUGIN_PATH"] = os.path.join(build, "gst")
lib = ctypes.CDLL(os.path.join(build, "tests", "gpu", "libecgdlpackhelper.so"))
lib.ecg_dlpack_helper_first_tensor.restype = ctypes.c_void_p
lib.ecg_dlpack_helper_first_tensor.argtypes = [ctypes.c_char_p,
                                               ctypes.POINTER(ctypes.c_int)]
assert lib.ecg_dlpack_helper_init() == 0
PyCapsule_New = ctypes.pythonapi.PyCapsule_New
PyCapsule_New.restype = ctypes.py_object
PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]

# 20 s of a 75 bpm synthetic ECG at 250 Hz
fd, csv = tempfile.mkstemp(suffix=".csv")
with os.fdopen(fd, "w") as f:
    f.write("ecg\n")
    for i in range(5000):
        t = (i % 200) / 250.0
        f.write("%.6f\n" % (1.2 * math.exp(-((t - 0.3) / 0.012) ** 2)
                            - 0.2 * math.exp(-((t - 0.25) / 0.01) ** 2)
                            + 0.3 * math.exp(-((t - 0.55) / 0.05) ** 2)))

failures = 0
reference = None
for backend in backends:
    desc = ("csvecgsrc location=%s backend=%s ! rickerconv backend=%s ! "
            "nmsgate backend=%s ! beatembed backend=%s beats-per-buffer=8 ! "
            "appsink name=sink sync=false" % ((csv,) + (backend,) * 4))
    freed = ctypes.c_int(0)
    ptr = lib.ecg_dlpack_helper_first_tensor(desc.encode(), ctypes.byref(freed))
    if not ptr:
        print("FAIL %s: no tensor" % backend)
        failures += 1
        continue
    data_ptr = ctypes.cast(ptr, ctypes.POINTER(ctypes.c_void_p))[0]
    t = torch.from_dlpack(PyCapsule_New(ptr, b"dltensor", None))
    ok_dev = (t.device.type == ("cuda" if backend == "cuda" else "cpu"))
    ok_ptr = t.data_ptr() == data_ptr
    vals = t.detach().cpu().clone()
    if reference is None:
        reference = vals
    ok_vals = vals.shape == reference.shape and torch.allclose(vals, reference, atol=1e-6)
    print("%s: tensor %s on %s, data_ptr %s the buffer's, values %s, buffer "
          "alive while the tensor lives: %s" % (
              backend, tuple(t.shape), t.device, "==" if ok_ptr else "!=",
              "match" if ok_vals else "DIFFER", freed.value == 0))
    alive = freed.value == 0
    del t
    gc.collect()
    ok_freed = freed.value == 1
    print("%s: buffer freed after the tensor was dropped: %s" % (backend, ok_freed))
    if not (ok_dev and ok_ptr and ok_vals and alive and ok_freed):
        failures += 1
os.unlink(csv)
print("FAIL" if failures else "PASS")
sys.exit(1 if failures else 0)
