"""fp32 GEMM GFLOP/s of OpenBLAS, for `fitlab bench` to print beside its own GEMM.

OpenBLAS is reached through NumPy: Debian's python3-numpy calls libblas.so.3, which the
alternatives system points at libopenblas0-pthread when that is installed. Going through NumPy
keeps OpenBLAS out of fitlab's addon build (no link-time dependency, nothing to dlopen by a
guessed path); the script checks that the BLAS NumPy really loaded is OpenBLAS (in
/proc/self/maps) and says so when it is not, so a reference BLAS is never reported as OpenBLAS.

Usage: python3 openblas_gemm.py --threads N --sizes 256,512  ->  one JSON line on stdout.
OPENBLAS_NUM_THREADS must be set before NumPy loads OpenBLAS, so the script sets it itself.
"""
import argparse
import ctypes
import json
import os
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--sizes", default="256,512,1024,2048")
    args = ap.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import numpy as np  # after the thread count: OpenBLAS reads it once, when it loads

    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "/" in line})
    # libopenblas*.so itself, or Debian's libblas.so.3 inside the openblas-pthread/ folder
    lib = next((p for p in paths if "openblas" in os.path.basename(p).lower()), None) \
        or next((p for p in paths if "openblas" in p.lower() and "libblas" in p), None)
    if lib is None:
        sys.exit("NumPy's BLAS is not OpenBLAS (apt-get install -y libopenblas0-pthread)")
    config = ""
    try:
        get_config = ctypes.CDLL(lib).openblas_get_config
        get_config.restype = ctypes.c_char_p
        config = get_config().decode()
    except (OSError, AttributeError):
        pass
    out = {"library": lib, "config": config, "threads": args.threads, "gemm": []}
    for n in (int(s) for s in args.sizes.split(",")):
        a = np.full((n, n), 0.5, dtype=np.float32)
        b = np.full((n, n), 0.25, dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        np.dot(a, b, out=c)  # warm-up: thread start, page faults
        ts = []
        for _ in range(3 if n >= 2048 else 7):
            t0 = time.perf_counter()
            np.dot(a, b, out=c)
            ts.append(time.perf_counter() - t0)
        ts.sort()
        out["gemm"].append({"n": n, "gflops": 2 * n ** 3 / ts[len(ts) // 2] / 1e9})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
