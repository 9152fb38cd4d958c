#!/usr/bin/env python3
"""The float64 truth behind test/backend/numerics.test.ts, and PyTorch's own float32 error.

Three SGD steps (lr 0.1, batch 8) of Conv2D(4, 3, same, relu) -> BatchNormalization (Keras:
momentum 0.99, epsilon 1e-3, biased batch variance) -> MaxPooling2D(2) -> Flatten (NHWC order)
-> Dense(10, softmax), sparse categorical cross-entropy (batch mean), on the first 24 MNIST
training images. The same steps run in PyTorch float64 (the truth) and float32 from the same
float32 initial weights (glorot-uniform kernels, zero biases, gamma 1, beta 0, numpy seed 16).
--seed and --first write other cases of the same kind (bench/numerics.ts prints any of them).

Writes one JSON fixture: the images (bytes), labels, initial weights (float32), the truth after
the three steps (float64, every weight including the moving statistics) and, per tensor, PyTorch
float32's error against the truth: max |w32 - w64| and that over max |w64|.

Run with the Python that has torch (Debian: python3-torch; here /usr/bin/python3):
  /usr/bin/python3 bench/numerics-truth.py --mnist /work/shared/datasets/mnist \
      --out test/backend/fixtures/numerics-truth.json
"""
import argparse
import base64
import gzip
import json
import os
import platform

import numpy as np
import torch
import torch.nn.functional as F

IMAGES, BATCH, STEPS, LR = 24, 8, 3, 0.1
MOMENTUM, EPSILON = 0.99, 1e-3
FILTERS, CLASSES = 4, 10


def read_idx(path, count):
    with gzip.open(path, 'rb') if path.endswith('.gz') else open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    per = int(np.prod(shape[1:])) if dims > 1 else 1
    start = 4 + 4 * dims
    return np.frombuffer(data[start:start + count * per], dtype=np.uint8).reshape([count] + shape[1:])


def find(folder, stem):
    for name in (stem + '.gz', stem):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f'{stem}[.gz] not found in {folder}')


def glorot(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def initial_weights(seed=16):
    rng = np.random.default_rng(seed)
    return {
        'conv2d/kernel': glorot(rng, (3, 3, 1, FILTERS), 9, 9 * FILTERS),
        'conv2d/bias': np.zeros(FILTERS, np.float32),
        'batch_normalization/gamma': np.ones(FILTERS, np.float32),
        'batch_normalization/beta': np.zeros(FILTERS, np.float32),
        'batch_normalization/moving_mean': np.zeros(FILTERS, np.float32),
        'batch_normalization/moving_variance': np.ones(FILTERS, np.float32),
        'dense/kernel': glorot(rng, (14 * 14 * FILTERS, CLASSES), 14 * 14 * FILTERS, CLASSES),
        'dense/bias': np.zeros(CLASSES, np.float32),
    }


def train(init, images, labels, dtype):
    """Three SGD steps in `dtype`; returns every weight after them (numpy, that dtype)."""
    w = {k: torch.tensor(v, dtype=dtype) for k, v in init.items()}
    trainable = ['conv2d/kernel', 'conv2d/bias', 'batch_normalization/gamma', 'batch_normalization/beta',
                 'dense/kernel', 'dense/bias']
    for k in trainable:
        w[k].requires_grad_(True)
    x_all = torch.tensor(images, dtype=dtype).reshape(IMAGES, 1, 28, 28) / 255.0
    y_all = torch.tensor(labels, dtype=torch.long)
    for step in range(STEPS):
        x = x_all[step * BATCH:(step + 1) * BATCH]
        y = y_all[step * BATCH:(step + 1) * BATCH]
        # conv weights (kh, kw, cin, cout) -> PyTorch's (cout, cin, kh, kw)
        z = F.relu(F.conv2d(x, w['conv2d/kernel'].permute(3, 2, 0, 1), w['conv2d/bias'], padding=1))
        # PyTorch's own fused batch norm, normalizing with the batch statistics
        zn = F.batch_norm(z, None, None, w['batch_normalization/gamma'], w['batch_normalization/beta'],
                          training=True, eps=EPSILON)
        with torch.no_grad():  # Keras' moving statistics use the biased batch variance
            mean = z.mean(dim=(0, 2, 3))
            var = z.var(dim=(0, 2, 3), unbiased=False)
        p = F.max_pool2d(zn, 2)
        flat = p.permute(0, 2, 3, 1).reshape(BATCH, -1)  # Keras flattens NHWC
        logits = flat @ w['dense/kernel'] + w['dense/bias']
        loss = F.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, [w[k] for k in trainable])
        with torch.no_grad():
            for k, g in zip(trainable, grads):
                w[k] -= LR * g
            m = w['batch_normalization/moving_mean']
            v = w['batch_normalization/moving_variance']
            m.copy_(m * MOMENTUM + mean * (1 - MOMENTUM))
            v.copy_(v * MOMENTUM + var * (1 - MOMENTUM))
    return {k: t.detach().numpy().copy() for k, t in w.items()}


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode('ascii')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--mnist', default='/work/shared/datasets/mnist', help='folder with the MNIST IDX files')
    ap.add_argument('--out', default='test/backend/fixtures/numerics-truth.json')
    ap.add_argument('--init', help='JSON {weight name: [values]} to start from instead of the seeded glorot weights')
    ap.add_argument('--seed', type=int, default=16, help='numpy seed of the glorot weights (default 16)')
    ap.add_argument('--first', type=int, default=0, help='index of the first training image (default 0)')
    args = ap.parse_args()
    end = args.first + IMAGES
    images = read_idx(find(args.mnist, 'train-images-idx3-ubyte'), end)[args.first:].reshape(IMAGES, 784)
    labels = read_idx(find(args.mnist, 'train-labels-idx1-ubyte'), end)[args.first:].astype(np.int32)
    init = initial_weights(args.seed)
    if args.init:
        with open(args.init) as f:
            given = json.load(f)
        init = {k: np.array(given[k], np.float32).reshape(v.shape) for k, v in init.items()}
    truth = train(init, images, labels, torch.float64)
    f32 = train(init, images, labels, torch.float32)
    errors = {}
    for k, t in truth.items():
        err = float(np.max(np.abs(f32[k].astype(np.float64) - t)))
        errors[k] = {'maxAbs': err, 'relative': err / float(np.max(np.abs(t)))}
    fixture = {
        'about': 'written by bench/numerics-truth.py; see its docstring',
        'generator': {'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'machine': platform.processor() or platform.machine()},
        'steps': STEPS, 'batch': BATCH, 'learningRate': LR,
        'images': b64(images), 'labels': labels.tolist(),
        'initial': {k: {'shape': list(v.shape), 'float32': b64(v)} for k, v in init.items()},
        'truth': {k: {'shape': list(v.shape), 'float64': b64(v.astype(np.float64))} for k, v in truth.items()},
        'torchFloat32Error': errors,
    }
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(fixture, f, indent=1)
        f.write('\n')
    for k, e in errors.items():
        print(f'{k:38s} torch float32 max abs error {e["maxAbs"]:.3e}  relative {e["relative"]:.3e}')


if __name__ == '__main__':
    main()
