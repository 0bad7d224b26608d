// Reverse-mode differentiation of the recorded graph: find the nodes between the output and the
// requested inputs (iteratively, so a 100,000-op chain cannot overflow the stack), walk them in
// reverse topological order, and let each node's vjp turn its cotangent into its parents'.

import { recycle } from "./donation.ts";
import * as e from "./kernels/elementwise.ts";
import { collectAllocations } from "./kernels/pool.ts";
import { sameShape, ShapeError, shapeStr } from "./shape.ts";
import { Tensor, unsettledData as dataOf } from "./tensor.ts";
import { treeLeaves, treeMap, type Tree } from "./tree.ts";

/** A fresh tracked handle on `t`'s data: the start of a graph that gradients will flow back to. */
export const watch = (t: Tensor): Tensor => new Tensor(dataOf(t), t.shape, { op: "input", parents: [], vjp: null });

/**
 * Cotangents of `out` with respect to each of `inputs` (watched tensors), given the cotangent `seed`
 * of `out`. Inputs that `out` does not depend on get zeros.
 */
export const backward = (out: Tensor, inputs: readonly Tensor[], seed: Tensor): Tensor[] => {
  if (!sameShape(seed.shape, out.shape)) {
    throw new ShapeError(`backward: the seed cotangent has shape ${shapeStr(seed.shape)} but the output has ${shapeStr(out.shape)}`);
  }
  const wanted = new Set(inputs);
  // 1. Post-order over tracked nodes with an explicit stack; `needed` marks nodes on a path to an input.
  const order: Tensor[] = [];
  const needed = new Set<Tensor>();
  const visited = new Set<Tensor>();
  if (out.node !== null) {
    const stack: [Tensor, number][] = [[out, 0]];
    visited.add(out);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [t, i] = top;
      const parents = t.node!.parents;
      if (i < parents.length) {
        top[1] = i + 1;
        const p = parents[i]!;
        if (p.node !== null && !visited.has(p)) {
          visited.add(p);
          stack.push([p, 0]);
        }
      } else {
        stack.pop();
        if (wanted.has(t) || parents.some((p) => needed.has(p))) needed.add(t);
        order.push(t);
      }
    }
  }
  // 2. Reverse topological order: every consumer of a tensor is finished before the tensor itself.
  const cotangent = new Map<Tensor, Tensor>([[out, seed]]);
  // Intermediate cotangents are used once and then dead, so the memory of those that the kernels
  // made during this pass goes back to the kernels' free-list (./kernels/pool.ts) for the next
  // results of their size. A buffer is given back only when no cotangent still held refers to it
  // (vjps may pass a cotangent on as it is, e.g. add's, or reshaped) and it was made in this pass.
  const made = new WeakSet<Float32Array>();
  const holders = new Map<ArrayBufferLike, number>();
  const hold = (c: Tensor) => {
    const buffer = dataOf(c).buffer;
    holders.set(buffer, (holders.get(buffer) ?? 0) + 1);
  };
  const letGo = (c: Tensor) => {
    const data = dataOf(c);
    const left = holders.get(data.buffer)! - 1;
    if (left > 0) holders.set(data.buffer, left);
    else {
      holders.delete(data.buffer);
      if (made.has(data as Float32Array)) recycle(c);
    }
  };
  hold(seed);
  const before = collectAllocations(made);
  try {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = cotangent.get(t);
      const node = t.node!;
      if (g === undefined || node.vjp === null || !needed.has(t)) continue;
      const needs = node.parents.map((p) => needed.has(p));
      const grads = node.vjp(g, needs);
      node.parents.forEach((p, j) => {
        const gp = grads[j];
        if (!needs[j] || gp === null || gp === undefined) return;
        if (!sameShape(gp.shape, p.shape)) {
          throw new ShapeError(`${node.op}: vjp returned a cotangent of shape ${shapeStr(gp.shape)} for input ${j} of shape ${shapeStr(p.shape)}`);
        }
        const prev = cotangent.get(p);
        hold(gp);
        if (prev === undefined) cotangent.set(p, gp);
        else {
          // A tensor used twice receives the sum of both paths (x*x gives 2x).
          const sum = new Tensor(e.add(prev.data, gp.data), p.shape);
          cotangent.set(p, sum);
          hold(sum);
          letGo(prev);
          letGo(gp);
        }
      });
      if (!wanted.has(t)) {
        cotangent.delete(t); // intermediate cotangents are freed as soon as they are used
        letGo(g);
      }
    }
  } finally {
    collectAllocations(before);
  }
  return inputs.map((x) => {
    const g = cotangent.get(x);
    return g === undefined ? new Tensor(e.like(dataOf(x)), x.shape) : new Tensor(dataOf(g), g.shape);
  });
};

const checkScalar = (who: string, value: Tensor): void => {
  if (value.size !== 1) {
    throw new ShapeError(`${who}: the function must return a scalar (one-element) tensor to differentiate, got shape ${shapeStr(value.shape)}`);
  }
};

const one = (t: Tensor): Tensor => {
  const data = e.like(dataOf(t), 1);
  data[0] = 1;
  return new Tensor(data, t.shape);
};

/**
 * valueAndGrad(f)(params, ...rest) = { value: f(params, ...rest), grads }, with grads shaped exactly
 * like params. Only params are differentiated; everything in `rest` (the data) is a constant.
 */
export const valueAndGrad = <P extends Tree, R extends unknown[]>(f: (params: P, ...rest: R) => Tensor) =>
  (params: P, ...rest: R): { value: Tensor; grads: P } => {
    const { value, grads } = valueAndGradAux((p: P, ...r: R) => [f(p, ...r), undefined] as const)(params, ...rest);
    return { value, grads };
  };

/** Like valueAndGrad, for an f that returns [loss, aux]: aux (e.g. the logits) is passed through. */
export const valueAndGradAux = <P extends Tree, R extends unknown[], A>(f: (params: P, ...rest: R) => readonly [Tensor, A]) =>
  (params: P, ...rest: R): { value: Tensor; grads: P; aux: A } => {
    const watched = treeMap(params, watch);
    const [value, aux] = f(watched, ...rest);
    checkScalar("valueAndGrad", value);
    const inputs = treeLeaves(watched).map(({ leaf }) => leaf);
    const g = backward(value, inputs, one(value));
    let i = 0;
    const grads = treeMap(watched, () => g[i++]!);
    return { value: new Tensor(dataOf(value), value.shape), grads, aux };
  };

/** grad(f)(params, ...rest): the gradient of scalar f with respect to params, shaped like params. */
export const grad = <P extends Tree, R extends unknown[]>(f: (params: P, ...rest: R) => Tensor) =>
  (params: P, ...rest: R): P => valueAndGrad(f)(params, ...rest).grads;

/**
 * The vector-Jacobian product of f at `primals`: returns f's output and a function mapping a
 * cotangent of that output to one cotangent per primal. Works for any output shape.
 */
export const vjp = (f: (...xs: Tensor[]) => Tensor, ...primals: Tensor[]) => {
  const watched = primals.map(watch);
  const out = f(...watched);
  return {
    out: new Tensor(dataOf(out), out.shape),
    backward: (g: Tensor): Tensor[] => backward(out, watched, g),
  };
};
