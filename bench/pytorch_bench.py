#!/usr/bin/env python3
"""The networks of `fitlab bench`, in PyTorch, for side-by-side numbers.

Run with the Python that has torch (Debian: apt-get install -y python3-torch; /usr/bin/python3).
Prints one JSON object. Identical networks: the lecture CNN (295,914 parameters, 32x32x3,
AdamW), the 784-512-10 MLP (Adam), square GEMMs; the same thread count as fitlab.
For the CNN both memory formats are timed (NCHW and channels_last) and the faster one is used,
so PyTorch gets its best case.
"""
import argparse
import json
import subprocess
import sys
import time

import torch
import torch.nn as nn


def lecture_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(64, 10))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def time_train(model, opt, x, y, steps, warmup=3):
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(warmup):
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
        times.append(time.perf_counter() - t)
    return x.shape[0] / median(times)


def time_infer(model, x, steps, warmup=3):
    model.eval()
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(steps):
            t = time.perf_counter(); model(x); times.append(time.perf_counter() - t)
    return x.shape[0] / median(times)


def cnn(batch, steps, memory_format):
    torch.manual_seed(0)
    m = lecture_cnn().to(memory_format=memory_format)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.004, eps=1e-7)
    x = torch.rand(batch, 3, 32, 32).to(memory_format=memory_format)
    y = torch.randint(0, 10, (batch,))
    return time_train(m, opt, x, y, steps), time_infer(m, x, steps)


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_child(batch):
    """Memory (MB) of building the lecture CNN and running 3 training steps, measured like fitlab's:
    the RSS high-water mark is reset after imports (clear_refs 5), so the peak counts the model,
    its activations and gradients, not the interpreter's start-up spike."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status_kb("VmRSS")
    m = lecture_cnn()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.004)
    x = torch.rand(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(3):
        opt.zero_grad(); loss_fn(m(x), y).backward(); opt.step()
    peak = status_kb("VmHWM")
    print(json.dumps({"peakRssMB": peak / 1024, "baselineRssMB": before / 1024, "stepPeakMB": (peak - before) / 1024}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--rss-child", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.rss_child:
        peak_rss_child(args.rss_child)
        return
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": "generic" if "BLAS_INFO=generic" in torch.__config__.show() else "other", "results": [], "gemm": []}
    for batch in (200, 64):
        best = None
        for fmt_name, fmt in (("nchw", torch.contiguous_format), ("channels_last", torch.channels_last)):
            train, infer = cnn(batch, args.steps, fmt)
            if best is None or train > best["trainImagesPerSec"]:
                best = {"model": "lecture-cnn", "batchSize": batch, "threads": args.threads, "trainImagesPerSec": train,
                        "inferImagesPerSec": infer, "memoryFormat": fmt_name}
        out["results"].append(best)
    torch.manual_seed(0)
    m = mlp()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
    x = torch.rand(128, 1, 28, 28)
    y = torch.randint(0, 10, (128,))
    out["results"].append({"model": "mlp-784-512-10", "batchSize": 128, "threads": args.threads,
                           "trainImagesPerSec": time_train(m, opt, x, y, args.steps * 8, warmup=20),
                           "inferImagesPerSec": time_infer(m, x, args.steps * 8, warmup=20)})
    for n in (256, 512, 1024, 2048):
        a = torch.rand(n, n); b = torch.rand(n, n)
        for _ in range(2):
            a @ b
        ts = []
        for _ in range(5 if n < 2048 else 3):
            t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
        out["gemm"].append({"n": n, "gflops": 2 * n ** 3 / median(ts) / 1e9})
    child = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), "--rss-child", "200"],
                           capture_output=True, text=True, check=True)
    out["memory"] = json.loads(child.stdout)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
