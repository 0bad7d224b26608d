// Tensors are immutable, and that is enforced, not asked of the user: values come in by copy and go
// out by copy, a backend's memory is reached only through the engine, and a tensor whose memory was
// given away (donated to a compiled step) refuses to be used instead of showing other values.
// Each case below once gave wrong or changing values silently.

import { describe, expect, it } from "vitest";
import * as engine from "../../src/autograd/index.ts";
import {
  DeletedError, defineOp, grad, jit, linear, matmul, mul, random, sum, Tensor, tensor, valueAndGrad, type Tensor as T,
} from "../../src/autograd/index.ts";
import { batches } from "../../src/data/batches.ts";
import { mlp, sgd, softmaxCrossEntropy, type OptimizerState, type Params } from "../../src/nn/index.ts";

const big = (n: number, seed: number) => random.normal(random.key(seed), [n]);

describe("a tensor's values", () => {
  it("do not change when the array t.data gave is written: it is the reader's copy, made once per tensor", () => {
    const x = random.normal(random.key(1), [4, 300]);
    const w = random.normal(random.key(2), [300, 300]); // large enough for the fast kernels
    const b = tensor(new Float32Array(300));
    const before = [matmul(x, w).toArray(), linear(x, w, b, { activation: "relu" }).toArray()];
    const copy = w.data;
    copy.fill(7);
    expect(w.data).toBe(copy); // the same copy each time it is read
    expect([matmul(x, w).toArray(), linear(x, w, b, { activation: "relu" }).toArray()]).toEqual(before);
    expect(Array.from(new Tensor(w.data, w.shape).data.slice(0, 3))).toEqual([7, 7, 7]); // a new tensor from the written copy has the new values
  });

  it("are copied in by new Tensor(array, shape): refilling the array afterwards changes nothing", () => {
    const buffer = Float32Array.from(big(600, 3).data);
    const w = new Tensor(buffer, [20, 30]);
    const x = random.normal(random.key(4), [2, 20]);
    const before = linear(x, w, tensor(new Float32Array(30))).toArray();
    buffer.fill(-1);
    expect(linear(x, w, tensor(new Float32Array(30))).toArray()).toEqual(before);
  });

  it("live behind a handle the public API does not expose: no function reads or writes a backend's memory directly", () => {
    for (const name of ["unsettledData", "takeOver", "recycle", "ownsBuffer", "handleOf"]) expect(name in engine).toBe(false);
    expect(Object.getOwnPropertyNames(tensor([1, 2]))).toEqual(["shape", "dtype", "size", "node"]);
    expect(Object.isFrozen(tensor([1, 2]))).toBe(true);
  });

  it("of a batch stay as they were after later batches are gathered into the same buffers", () => {
    const data = { images: Uint8Array.from({ length: 6 * 4 }, (_, i) => i * 10), labels: Uint8Array.of(0, 1, 2, 3, 4, 5), count: 6, rows: 2, cols: 2 };
    const all = [...batches(data, { batchSize: 2, reuseBuffers: true })];
    expect(all.map((b) => Array.from(b.pixels.data))).toEqual([[0, 10, 20, 30, 40, 50, 60, 70], [80, 90, 100, 110, 120, 130, 140, 150], [160, 170, 180, 190, 200, 210, 220, 230]]);
    expect(all.map((b) => Array.from(b.labels.data))).toEqual([[0, 1], [2, 3], [4, 5]]);
  });

  it("given to a vjp as its cotangent g stay as they were when kept and read after later backward passes", () => {
    const kept: T[] = [];
    const op = defineOp({
      name: "keepsItsCotangent",
      forward: ([x]) => mul(x!, 2),
      vjp: (g) => {
        kept.push(g);
        return [mul(g, 2)];
      },
    });
    const f = (x: T) => sum(mul(op([x], undefined), tensor(Array.from({ length: 300 }, (_, i) => i), [300])));
    const x = big(300, 5);
    grad(f)(x);
    const first = Array.from(kept[0]!.data);
    for (let i = 0; i < 3; i++) grad(f)(big(300, 6 + i));
    expect(Array.from(kept[0]!.data)).toEqual(first);
    expect(first).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

describe("a tensor donated to a compiled step", () => {
  const net = mlp([4, 3, 2]);
  const optimizer = sgd({ learningRate: 0.5 });
  const step = jit(({ params, state, x }: { params: Params; state: OptimizerState; x: T }) => {
    const { grads } = valueAndGrad((p: Params) => softmaxCrossEntropy(net.apply(p, x), [0, 1]))(params);
    return optimizer.update(grads, state, params);
  }, { donate: ["params", "state"], name: "trainStep" });
  const x = tensor([[1, 0, 0, 1], [0, 1, 1, 0]]);

  it("refuses to be read or used afterwards, naming the step and the argument, instead of showing the new values", () => {
    const params = net.init(random.key(0)).params;
    const weight = (params.dense1 as Params).weight as T;
    const next = step({ params, state: optimizer.init(params), x });
    expect(() => weight.data).toThrow(DeletedError);
    expect(() => weight.data).toThrow(/from an array|randomNormal/);
    expect(() => weight.data).toThrow(/was donated to jit\(trainStep\) as params.dense1.weight/);
    expect(() => matmul(x, weight)).toThrow(/was donated to jit\(trainStep\) as params.dense1.weight/);
    expect(((next.params.dense1 as Params).weight as T).data.length).toBe(12);
  });

  it("leaves its successor readable by eager ops and by other programs, step after step", () => {
    let params = net.init(random.key(0)).params;
    let state = optimizer.init(params);
    const kept: number[][] = [];
    for (let i = 0; i < 3; i++) {
      ({ params, state } = step({ params, state, x }));
      kept.push(Array.from(((params.dense1 as Params).weight as T).data));
      expect(net.apply(params, x).shape).toEqual([2, 2]);
    }
    expect(kept[0]).not.toEqual(kept[2]);
    expect(state.step.item()).toBe(3);
  });
});
