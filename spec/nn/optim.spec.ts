import fc from "fast-check";
import { freeze } from "immer";
import { describe, expect, it } from "vitest";
import { mul, scalar, square, sub, sum, tensor, treeLeaves, valueAndGrad, zerosLike, type Tensor } from "../../src/autograd/index.ts";
import {
  adam,
  constant,
  flattenTree,
  momentum,
  sgd,
  stepDecay,
  unflattenTree,
  type AdamState,
  type Optimizer,
  type OptimizerState,
  type Params,
} from "../../src/nn/index.ts";
import { doubles } from "../../src/testing/index.ts";
import { expectClose, snapshot } from "./helpers.ts";

const vec = (values: number[]) => tensor(values, undefined, "float64");
/** A one-layer tree { layer: { weight, bias } }: weight decay applies to the weight only. */
const tree = (weight: number[], bias: number[] = [0]) => ({ layer: { weight: vec(weight), bias: vec(bias) } });
type Tree1 = ReturnType<typeof tree>;
const values = (params: Params, path: string) => Array.from(flattenTree(params)[path]!.data);

/** Run `update` on fixed gradients, returning the weights after each step. */
const unroll = <S extends OptimizerState>(opt: Optimizer<S>, start: Tree1, gradients: number[][]): number[][] => {
  let params: Tree1 = start;
  let state = opt.init(params);
  return gradients.map((g) => {
    ({ params, state } = opt.update(tree(g, [0]), state, params));
    return values(params, "layer.weight");
  });
};

describe("sgd", () => {
  it("takes one step on a quadratic exactly as the closed form: w - lr * a * (w - c) for L = sum a (w - c)^2 / 2", () => {
    fc.assert(
      fc.property(doubles(4, { min: -10, max: 10 }), doubles(4, { min: 0, max: 3 }), doubles(4), fc.double({ min: 0, max: 1, noNaN: true }), (w, a, c, lr) => {
        const loss = (p: Tree1) => mul(sum(mul(vec(a), square(sub(p.layer.weight, vec(c))))), 0.5);
        const params = tree(w);
        const { grads } = valueAndGrad(loss)(params);
        const next = sgd({ learningRate: lr }).update(grads, sgd({ learningRate: lr }).init(params), params);
        expectClose(values(next.params, "layer.weight"), w.map((wi, i) => wi - lr * a[i]! * (wi - c[i]!)), 1e-12);
      }),
    );
  });

  it("with weight decay shrinks weights by (1 - lr * decay) and leaves biases alone", () => {
    const opt = sgd({ learningRate: 0.1, weightDecay: 0.5 });
    const params = tree([2, -4], [3]);
    const { params: next } = opt.update(tree([0, 0], [0]), opt.init(params), params);
    expectClose(values(next, "layer.weight"), [2 * 0.95, -4 * 0.95], 1e-15);
    expect(values(next, "layer.bias")).toEqual([3]);
  });

  it("reads a schedule at the state's step: the first update uses lr(0), the next lr(1)", () => {
    const opt = sgd({ learningRate: (step) => sub(0.5, mul(step, 0.25)) }); // 0.5, then 0.25
    expect(unroll(opt, tree([1]), [[1], [1]])).toEqual([[0.5], [0.25]]);
  });
});

describe("momentum", () => {
  // w0 = 1, lr = 0.1, mu = 0.9, gradients 1 then 2.
  it("matches a hand-unrolled two-step example: v1 = 1, w1 = 0.9; v2 = 0.9 + 2 = 2.9, w2 = 0.9 - 0.29 = 0.61", () => {
    const [w1, w2] = unroll(momentum({ learningRate: 0.1, momentum: 0.9 }), tree([1]), [[1], [2]]);
    expectClose(w1!, [0.9], 1e-15);
    expectClose(w2!, [0.61], 1e-15);
  });

  it("with nesterov looks ahead: w1 = 1 - 0.1 (1 + 0.9 * 1) = 0.81; w2 = 0.81 - 0.1 (2 + 0.9 * 2.9) = 0.349", () => {
    const [w1, w2] = unroll(momentum({ learningRate: 0.1, momentum: 0.9, nesterov: true }), tree([1]), [[1], [2]]);
    expectClose(w1!, [0.81], 1e-15);
    expectClose(w2!, [0.349], 1e-15);
  });

  it("keeps its velocity in the state, shaped like the parameters", () => {
    const opt = momentum({ learningRate: 0.1 });
    const params = tree([1, 2], [3]);
    const { state } = opt.update(tree([1, -1], [0.5]), opt.init(params), params);
    expect(state.step.item()).toBe(1);
    expect(values(state.velocity, "layer.weight")).toEqual([1, -1]);
    expect(values(state.velocity, "layer.bias")).toEqual([0.5]);
  });

  it("with weight decay adds lr * decay * w to the step outside the velocity (decoupled)", () => {
    const opt = momentum({ learningRate: 0.1, weightDecay: 0.5 });
    const params = tree([2], [2]);
    const { params: next, state } = opt.update(tree([0], [0]), opt.init(params), params);
    expectClose(values(next, "layer.weight"), [2 - 0.1 * 0.5 * 2], 1e-15);
    expect(values(next, "layer.bias")).toEqual([2]);
    expect(values(state.velocity, "layer.weight")).toEqual([0]);
  });
});

describe("adam", () => {
  it("moves every coordinate by about learningRate on its first step, whatever the gradient's scale", () => {
    fc.assert(
      fc.property(doubles(6), doubles(6, { min: -3, max: 3 }), fc.double({ min: 1e-4, max: 1, noNaN: true }), (w, logScale, lr) => {
        // gradients from ±1e-3 to ±1e3: m^ = g and v^ = g^2 on the first step, so the step is lr * g / (|g| + eps)
        const g = logScale.map((s, i) => (i % 2 === 0 ? 1 : -1) * 10 ** s);
        const [w1] = unroll(adam({ learningRate: lr }), tree(w), [g]);
        w1!.forEach((wi, i) => {
          expect(Math.abs(wi - w[i]!) / lr).toBeGreaterThan(1 - 1e-4);
          expect(Math.abs(wi - w[i]!) / lr).toBeLessThanOrEqual(1 + 1e-12);
          expect(Math.sign(w[i]! - wi)).toBe(Math.sign(g[i]!));
        });
      }),
    );
  });

  // lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, w0 = 1, gradients 2 then -1.
  //   step 1: m = 0.1 * 2 = 0.2,  v = 0.001 * 4 = 0.004;  m^ = 0.2/0.1 = 2,  v^ = 0.004/0.001 = 4
  //           w1 = 1 - 0.1 * 2 / (2 + 1e-8) = 0.9 (to 1e-9)
  //   step 2: m = 0.9 * 0.2 + 0.1 * -1 = 0.08,  v = 0.999 * 0.004 + 0.001 * 1 = 0.004996
  //           m^ = 0.08 / (1 - 0.81) = 0.421053,  v^ = 0.004996 / (1 - 0.998001) = 2.499250
  //           w2 = 0.9 - 0.1 * 0.421053 / (1.580902 + 1e-8) = 0.9 - 0.026634 = 0.873366
  it("matches a hand-unrolled two-step example with bias correction: w1 = 0.9, w2 = 0.873366", () => {
    const opt = adam({ learningRate: 0.1 });
    let params = tree([1]);
    let state: AdamState = opt.init(params);
    ({ params, state } = opt.update(tree([2]), state, params));
    expectClose(values(params, "layer.weight"), [0.9], 1e-9);
    expectClose(values(state.m, "layer.weight"), [0.2], 1e-15);
    expectClose(values(state.v, "layer.weight"), [0.004], 1e-15);
    ({ params, state } = opt.update(tree([-1]), state, params));
    expectClose(values(state.m, "layer.weight"), [0.08], 1e-15);
    expectClose(values(state.v, "layer.weight"), [0.004996], 1e-15);
    expectClose(values(params, "layer.weight"), [0.873366], 1e-6);
    expect(state.step.item()).toBe(2);
  });

  it("with weight decay shrinks weights by lr * decay * w even where the gradient is 0 (AdamW), and not biases", () => {
    const opt = adam({ learningRate: 0.01, weightDecay: 0.1 });
    const params = tree([5, -5], [5]);
    const { params: next } = opt.update(tree([0, 0], [0]), opt.init(params), params);
    expectClose(values(next, "layer.weight"), [5 * 0.999, -5 * 0.999], 1e-15);
    expect(values(next, "layer.bias")).toEqual([5]);
  });
});

describe("every optimizer", () => {
  const optimizers: [string, () => Optimizer][] = [
    ["sgd", () => sgd({ learningRate: 0.1, weightDecay: 0.01 })],
    ["momentum", () => momentum({ learningRate: stepDecay({ initial: 0.1, factor: 0.5, stepSize: 2 }), nesterov: true })],
    ["adam", () => adam({ learningRate: constant(0.01), weightDecay: 0.01 })],
  ];
  const gradsFor = (params: Params, k: number): Params =>
    unflattenTree(Object.fromEntries(treeLeaves(params).map(({ path, leaf }) => [path, tensor(Array.from(leaf.data, (v, i) => Math.sin(v + i + k)), leaf.shape, "float64")])));

  it.each(optimizers)("%s starts from a frozen state { step: 0, ...zeros shaped like the parameters }", (_name, make) => {
    const params = tree([1, 2], [3]);
    const state = make().init(params) as unknown as Record<string, unknown>;
    expect((state.step as Tensor).dtype).toBe("int32");
    expect((state.step as Tensor).item()).toBe(0);
    expect(Object.isFrozen(state)).toBe(true);
    for (const [key, slot] of Object.entries(state)) {
      if (key === "step") continue;
      expect(snapshot(slot as Params)).toEqual({ "layer.weight": [0, 0], "layer.bias": [0] });
    }
  });

  it.each(optimizers)("%s never changes its inputs and returns frozen trees", (_name, make) => {
    const opt = make();
    let params: Params = freeze(tree([1, -2, 3], [0.5]), true);
    let state = opt.init(params);
    for (let k = 0; k < 3; k++) {
      const grads = freeze(gradsFor(params, k), true);
      const before = { params: snapshot(params), state: snapshot(state as unknown as Params), grads: snapshot(grads), step: state.step.item() };
      const next = opt.update(grads, state, params);
      expect(snapshot(params)).toEqual(before.params);
      expect(snapshot(state as unknown as Params)).toEqual(before.state);
      expect(snapshot(grads)).toEqual(before.grads);
      expect(state.step.item()).toBe(before.step);
      expect(next.state.step.item()).toBe(before.step + 1);
      expect(snapshot(next.params)).not.toEqual(before.params);
      expect(Object.isFrozen(next.params) && Object.isFrozen(next.state)).toBe(true);
      ({ params, state } = next);
    }
  });

  it.each(optimizers)("%s keeps a state of Tensors (the step an int32 scalar) that restores exactly from its named tensors", (_name, make) => {
    const opt = make();
    let params: Params = tree([1, -2, 3], [0.5]);
    let state = opt.init(params);
    for (let k = 0; k < 2; k++) ({ params, state } = opt.update(gradsFor(params, k), state, params));
    // Save as a checkpoint would: named tensors, then rebuild.
    const saved = flattenTree(state as unknown as Params);
    const restored = unflattenTree(Object.fromEntries(Object.entries(saved).map(([k, t]) => [k, tensor(t.data, t.shape, t.dtype)]))) as unknown as typeof state;
    const a = opt.update(gradsFor(params, 9), state, params);
    const b = opt.update(gradsFor(params, 9), restored, params);
    expect(snapshot(b.params)).toEqual(snapshot(a.params));
    expect(snapshot(b.state as unknown as Params)).toEqual(snapshot(a.state as unknown as Params));
    expect(b.state.step.item()).toBe(3);
  });

  it.each(optimizers)("%s refuses gradients that are not shaped like the parameters", (_name, make) => {
    const opt = make();
    const params: Params = tree([1, 2], [3]);
    const state = opt.init(params);
    expect(() => opt.update({ layer: { weight: vec([1, 2]) } }, state, params)).toThrow(/grads has no leaf "layer.bias"/);
    expect(() => opt.update(tree([1, 2, 3], [0]), state, params)).toThrow(/grads "layer.weight" has shape \[3\] but the parameter has \[2\]/);
    expect(() => opt.update({ ...tree([1, 2], [3]), extra: vec([1]) }, state, params)).toThrow(/grads has leaves the parameters lack: extra/);
  });
});

describe("optimizer options", () => {
  it("are validated with messages that name the option", () => {
    expect(() => sgd({ learningRate: -1 })).toThrow(/sgd: learningRate must be a finite number >= 0 or a schedule, got -1/);
    expect(() => sgd({ learningRate: 0.1, weightDecay: Number.NaN })).toThrow(/weightDecay/);
    expect(() => momentum({ learningRate: 0.1, momentum: 1 })).toThrow(/momentum: momentum must be in \[0, 1\)/);
    expect(() => adam({ learningRate: 0.1, beta1: 1 })).toThrow(/beta1/);
    expect(() => adam({ learningRate: 0.1, beta2: -0.1 })).toThrow(/beta2/);
    expect(() => adam({ learningRate: 0.1, eps: 0 })).toThrow(/eps/);
    const bad = sgd({ learningRate: () => scalar(Number.NaN, "float64") });
    const params = tree([1]);
    expect(() => bad.update(tree([1]), bad.init(params), params)).toThrow(/sgdUpdate: the learning rate is NaN/);
    expect(() => bad.update(tree([1]), { step: -1 } as never, params)).toThrow(/state.step must be an int32 scalar tensor/);
    expect(() => bad.update(tree([1]), { step: scalar(1) }, params)).toThrow(/state.step must be an int32 scalar tensor/);
  });

  it("accept float32 parameters and keep them float32", () => {
    const params = { layer: { weight: tensor([1, 2]), bias: tensor([0]) } };
    const opt = adam({ learningRate: 0.1 });
    const { params: next, state } = opt.update({ layer: { weight: tensor([1, 1]), bias: zerosLike(params.layer.bias) } }, opt.init(params), params);
    for (const { leaf } of [...treeLeaves(next), ...treeLeaves(state.m as Params)]) expect((leaf as Tensor).dtype).toBe("float32");
  });
});
