// jit: a function traced once into a program of kernel calls, its memory planned once, and run for
// every later call. A compiled call computes exactly the bits eager execution computes.

import { describe, expect, it } from "vitest";
import {
  add, argmax, cast, DeletedError, div, exp, grad, HandleError, jit, matmul, mul, printCompiledProgram, printProgram, random, relu, scalar, sum, tensor,
  TraceError, treeLeaves, valueAndGradAux, type Tensor,
} from "../../src/autograd/index.ts";
import { adam, mlp, momentum, sgd, softmaxCrossEntropy, type Optimizer, type OptimizerState, type Params } from "../../src/nn/index.ts";

/** Every value of every tensor leaf, with -0 told apart from 0. */
const bits = (tree: unknown): unknown => treeLeaves(tree as Params).map(({ path, leaf }) => [path, leaf.dtype, [...leaf.shape], Array.from(leaf.data, (v) => (Object.is(v, -0) ? "-0" : v))]);

describe("jit computes exactly what eager execution computes", () => {
  // Every op of the op table, value and gradient, on both backends: spec/autograd/op-table.spec.ts (checkOp).
  const optimizers: [string, () => Optimizer][] = [
    ["sgd (whose weight gradients and updates the wasm backend fuses)", () => sgd({ learningRate: 0.1 })],
    ["sgd with weight decay", () => sgd({ learningRate: 0.05, weightDecay: 0.01 })],
    ["momentum", () => momentum({ learningRate: 0.05, nesterov: true })],
    ["adam", () => adam({ learningRate: 0.01 })],
  ];
  it.each(optimizers)("for training steps of an MLP with dropout, step after step, with donated parameters: %s", (_name, makeOptimizer) => {
    const net = mlp([12, 8, 6, 3], { dropout: 0.2 });
    const optimizer = makeOptimizer();
    const pixels = tensor(Array.from({ length: 5 * 12 }, (_, i) => ((i * 37) % 11 === 0 ? 0 : (i * 53) % 256)), [5, 12], "uint8");
    const labels = tensor([0, 2, 1, 1, 0], [5], "int32");
    const gradients = valueAndGradAux((p: Params, x: Tensor, y: Tensor, key: random.Key) => {
      const logits = net.apply(p, x, { training: true, key });
      return [softmaxCrossEntropy(logits, y), logits] as const;
    });
    const step = ({ params, state, key }: { params: Params; state: OptimizerState; key: random.Key }) => {
      const x = mul(cast(pixels, "float32"), 1 / 255);
      const { value, grads, aux } = gradients(params, x, labels, key);
      return { ...optimizer.update(grads, state, params), loss: value, logits: aux };
    };
    const compiled = jit(step, { donate: ["params", "state"] });
    let eager = { params: net.init(random.key(1)).params, state: optimizer.init(net.init(random.key(1)).params) } as { params: Params; state: OptimizerState };
    let fast = { params: net.init(random.key(1)).params, state: optimizer.init(net.init(random.key(1)).params) } as { params: Params; state: OptimizerState };
    for (let i = 0; i < 4; i++) {
      const key = random.foldIn(random.key(2), i);
      const a = step({ ...eager, key });
      const b = compiled({ ...fast, key });
      expect(bits(b)).toEqual(bits(a));
      eager = { params: a.params, state: a.state };
      fast = { params: b.params, state: b.state };
    }
    expect(compiled.traces).toBe(1);
  });
});

describe("a jitted function", () => {
  const f = jit((x: Tensor, y: Tensor) => add(mul(x, y), 1));

  it("is traced once per shape and dtype of its arguments, and reused for new values", () => {
    const g = jit((x: Tensor) => exp(x));
    g(tensor([1, 2]));
    g(tensor([3, 4]));
    expect(g.traces).toBe(1);
    g(tensor([1, 2, 3]));
    g(tensor([1, 2], [2], "float64"));
    expect(g.traces).toBe(3);
    expect(Array.from(g(tensor([0, 1], [2], "float64")).data)).toEqual([1, Math.E]);
  });

  it("treats numbers, strings and booleans among its arguments as constants of the program: a new one traces again", () => {
    const g = jit((x: Tensor, options: { scale: number }) => mul(x, options.scale));
    expect(Array.from(g(tensor([1, 2]), { scale: 3 }).data)).toEqual([3, 6]);
    expect(Array.from(g(tensor([1, 2]), { scale: 4 }).data)).toEqual([4, 8]);
    expect(g.traces).toBe(2);
  });

  it("warns once, naming the way out, when a changing number makes it trace again and again", () => {
    const g = jit((x: Tensor, step: number) => mul(x, step), { name: "scaled" });
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (message: string) => warnings.push(message);
    try {
      for (let step = 0; step < 20; step++) g(tensor([1]), step);
    } finally {
      console.warn = warn;
    }
    expect(g.traces).toBe(20);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^jit\(scaled\) has been traced for 17 different argument structures: .* pass a value that changes as a tensor \(scalar\(x\)\) to trace once$/);
  });

  it("returns new tensors, shaped as the function's results, in the same tree", () => {
    const g = jit((p: { a: Tensor; b: Tensor }) => ({ total: sum(add(p.a, p.b)), parts: [p.a, relu(p.b)], label: "sum" }));
    const out = g({ a: tensor([1, -2]), b: tensor([3, -4]) });
    expect(out.total.item()).toBe(-2);
    expect(out.parts.map((t) => Array.from(t.data))).toEqual([[1, -2], [3, 0]]);
    expect(out.label).toBe("sum");
  });

  it("cannot read values while it is traced: the program must not depend on what it computes", () => {
    const g = jit((x: Tensor) => (x.data[0]! > 0 ? x : mul(x, -1)), { name: "absFirst" });
    expect(() => g(tensor([1, 2]))).toThrow(TraceError);
    expect(() => g(tensor([1, 2]))).toThrow(/jit\(absFirst\): cannot read the values of Tensor\(\[2\], float32\) \(argument x of jit\(absFirst\)\) while tracing/);
  });

  it("refuses a tensor kept from its trace and used afterwards, naming where it was made", () => {
    let kept: Tensor | null = null;
    const g = jit((x: Tensor) => {
      kept = exp(x);
      return kept;
    }, { name: "leaky" });
    g(tensor([1]));
    expect(() => add(kept!, 1)).toThrow(HandleError);
    expect(() => add(kept!, 1)).toThrow(/a tensor \(exp in jit\(leaky\)\) made while jit was tracing a function was used after the trace ended/);
  });

  it("runs its function as it is when differentiated, so gradients flow through it", () => {
    const square = jit((x: Tensor) => mul(x, x));
    expect(Array.from(grad((x: Tensor) => sum(square(x)))(tensor([3, -1])).data)).toEqual([6, -2]);
  });

  it("captures tensors it closes over as constants of the program", () => {
    const w = tensor([[1, 2], [3, 4]]);
    const g = jit((x: Tensor) => matmul(x, w));
    expect(g(tensor([[1, 0]])).toArray()).toEqual([[1, 2]]);
    expect(g(tensor([[0, 1]])).toArray()).toEqual([[3, 4]]);
  });

  it("keeps argument tensors usable when it does not donate them", () => {
    const x = tensor([2, 3]);
    f(x, x);
    expect(Array.from(f(x, x).data)).toEqual([5, 10]);
    expect(Array.from(x.data)).toEqual([2, 3]);
  });
});

describe("donation (jit(f, { donate }))", () => {
  const step = jit(({ w, lr }: { w: Tensor; lr: Tensor }) => ({ w: sub2(w, lr) }), { donate: ["w"], name: "step" });
  function sub2(w: Tensor, lr: Tensor): Tensor {
    return add(w, mul(lr, -1));
  }

  it("deletes the donated tensors: using one afterwards throws, naming the program and the argument", () => {
    const w = tensor([1, 2, 3]);
    const { w: next } = step({ w, lr: scalar(0.5) });
    expect(Array.from(next.data)).toEqual([0.5, 1.5, 2.5]);
    expect(() => w.data).toThrow(DeletedError);
    expect(() => w.data).toThrow(/was donated to jit\(step\) as w, and cannot be used again/);
    expect(() => add(w, 1)).toThrow(/was donated to jit\(step\) as w/);
  });

  it("writes the results over the donated tensors' memory: calls in a loop hold no more memory than the first", () => {
    let w = tensor(Array.from({ length: 1000 }, (_, i) => i));
    const lr = scalar(1);
    ({ w } = step({ w, lr }));
    const held = step.lower({ w, lr }).bytes;
    for (let i = 0; i < 5; i++) ({ w } = step({ w, lr }));
    expect(step.lower({ w, lr }).bytes).toBe(held);
    expect(w.data[999]).toBe(999 - 6);
  });

  it("refuses to donate the same tensor twice in one call, or a tensor also passed undonated", () => {
    const twice = jit((a: Tensor, b: Tensor) => add(a, b), { donate: [0, 1], name: "twice" });
    const x = tensor([1]);
    expect(() => twice(x, x)).toThrow(/jit\(twice\): the same tensor is donated twice/);
    expect(Array.from(x.data)).toEqual([1]);
  });

  it("names by key only what the first argument (a record) has", () => {
    const g = jit((x: Tensor) => x, { donate: ["params"] });
    expect(() => g(tensor([1]))).toThrow(/donate: "params" names no key of the first argument/);
  });
});

describe("printProgram", () => {
  const net = mlp([784, 128, 64, 10]);
  const params = net.init(random.key(0)).params;
  const optimizer = sgd({ learningRate: 0.1 });
  const trainStep = jit(({ params: p, state, pixels, labels }: { params: Params; state: OptimizerState; pixels: Tensor; labels: Tensor }) => {
    const { value, grads } = valueAndGradAux((q: Params) => [softmaxCrossEntropy(net.apply(q, div(cast(pixels, "float32"), 255)), labels), null] as const)(p);
    return { ...optimizer.update(grads, state, p), loss: value };
  }, { donate: ["params", "state"], name: "trainStep" });
  const args = { params, state: optimizer.init(params), pixels: tensor(new Uint8Array(64 * 784), [64, 784], "uint8"), labels: tensor(new Int32Array(64), [64], "int32") };

  it("shows a training step as its list of kernel calls, forward then backward, each with its result's dtype and shape", () => {
    const text = printProgram(trainStep, args);
    expect(text).toMatch(/^program jit\(trainStep\)\(/);
    expect(text).toContain("params.dense1.weight");
    expect(text).toMatch(/%\d+: f32\[64,128\] = linear\[64x784x128 relu\]/);
    expect(text).toMatch(/# linear \(vjp\): matmul\n.*%\d+: f32\[784,128\] = matmul\[784x64x128 transA\]/);
    expect(text).toMatch(/%\d+: f32\[784,128\] = sgdUpdate/);
    expect(text.indexOf("= softmaxCrossEntropy[")).toBeGreaterThan(0);
    expect(text.indexOf("= softmaxCrossEntropy[")).toBeLessThan(text.indexOf("= softmaxCrossEntropyGrad["));
  });

  it("shows, compiled for the WebAssembly backend, the fused kernels that replace chains of them", () => {
    const text = printCompiledProgram(trainStep, args);
    expect(text).toContain("columnListsFromBytes");
    expect(text).toContain("linearFromLists");
    expect(text).toContain("matmulTNListsSgd");
    expect(text).toContain("matmulTNSgd");
    expect(text).toContain("maskColumnSums");
    expect(text).not.toMatch(/f32\[784,128\] = (sgdUpdate|matmul)[[(]/); // the first layer's gradient is never stored
  });

  it("shows, compiled for inference, the first layer reading the pixels' bytes instead of a scaled copy", () => {
    const classify = jit((p: Params, pixels: Tensor) => argmax(net.apply(p, div(cast(pixels, "float32"), 255)), -1));
    const text = printCompiledProgram(classify, params, tensor(new Uint8Array(3 * 784), [3, 784], "uint8"));
    expect(text).toMatch(/f32\[3,128\] = linearFromBytes\[3x784x128 relu\]\(%6, %0, %1\)/);
    expect(text).not.toContain("unitFloats");
  });
});
