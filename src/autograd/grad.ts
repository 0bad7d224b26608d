// Reverse-mode differentiation of the recorded graph: find the nodes between the output and the
// requested inputs (iteratively, so a 100,000-op chain cannot overflow the stack), walk them in
// reverse topological order, and let each node's vjp turn its cotangent into its parents'.
//
// Higher-order gradients: while a valueAndGrad is running its function, a gradient taken inside it
// is built with createGraph: the vjps get the tracked tensors themselves, so the cotangents they
// compute (with ops) are recorded too, and the outer gradient differentiates through them.

import { zerosLike, ones } from "./ops/creation.ts";
import { add } from "./ops/elementwise.ts";
import { isFloat } from "../backend/index.ts";
import { sameShape, ShapeError, shapeStr } from "./shape.ts";
import { detach, Tensor, withShape } from "./tensor.ts";
import { treeLeaves, treeMap, type Tree } from "./tree.ts";

/** How many differentiated functions are running now: > 0 means a gradient taken now must be differentiable. */
let depth = 0;

const differentiating = <T>(f: () => T): T => {
  depth++;
  try {
    return f();
  } finally {
    depth--;
  }
};

/**
 * A fresh tracked handle on `t`'s values: the start of a graph that gradients will flow back to.
 * If t is itself tracked (a gradient of a gradient), the new handle passes cotangents on to it.
 */
export const watch = (t: Tensor): Tensor => {
  if (!isFloat(t.dtype)) throw new ShapeError(`watch: only float tensors can be differentiated, got ${t.dtype}`);
  return withShape(t, t.shape, t.node === null ? { op: "input", parents: [], vjp: null } : { op: "input", parents: [t], vjp: (g) => [g] });
};

/**
 * The tracked tensors between `out` and the watched `inputs`, in the order backward visits them:
 * `out` first, and every tensor only after all the tensors computed from it (reverse topological
 * order), so that its cotangent is complete when its vjp runs. Tensors that lead to no input are
 * left out, and so are the inputs, which receive cotangents but have no vjp to call.
 */
export const backwardOrder = (out: Tensor, inputs: readonly Tensor[]): Tensor[] => {
  const wanted = new Set(inputs);
  // Post-order over tracked nodes with an explicit stack (no recursion: a 100,000-op chain is
  // fine), stopping at the inputs; `needed` marks the tensors on a path to an input.
  const order: Tensor[] = [];
  const needed = new Set<Tensor>();
  const visited = new Set<Tensor>();
  if (out.node !== null) {
    const stack: [Tensor, number][] = [[out, 0]];
    visited.add(out);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [t, i] = top;
      const parents = wanted.has(t) ? [] : t.node!.parents;
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
  // A post-order lists every tensor after its parents; reversed, after everything computed from it.
  return order.reverse().filter((t) => needed.has(t) && !wanted.has(t) && t.node!.vjp !== null);
};

/**
 * Cotangents of `out` with respect to each of `inputs` (watched tensors), given the cotangent `seed`
 * of `out`. Inputs that `out` does not depend on get zeros.
 */
export const backward = (out: Tensor, inputs: readonly Tensor[], seed: Tensor): Tensor[] => {
  if (!sameShape(seed.shape, out.shape)) {
    throw new ShapeError(`backward: the seed cotangent has shape ${shapeStr(seed.shape)} but the output has ${shapeStr(out.shape)}`);
  }
  const createGraph = depth > 0;
  const order = backwardOrder(out, inputs);
  const needed = new Set<Tensor>([...order, ...inputs]);
  // Each vjp turns its tensor's (complete) cotangent into one for each parent that leads to an input.
  const cotangent = new Map<Tensor, Tensor>([[out, seed]]);
  for (const t of order) {
    const g = cotangent.get(t);
    if (g === undefined) continue;
    const node = t.node!;
    const needs = node.parents.map((p) => needed.has(p));
    const grads = node.vjp!(g, needs, t, createGraph);
    node.parents.forEach((p, j) => {
      const gp = grads[j];
      if (!needs[j] || gp === null || gp === undefined) return;
      if (!sameShape(gp.shape, p.shape)) {
        throw new ShapeError(`${node.op}: vjp returned a cotangent of shape ${shapeStr(gp.shape)} for input ${j} of shape ${shapeStr(p.shape)}`);
      }
      if (gp.dtype !== p.dtype) {
        throw new ShapeError(`${node.op}: vjp returned a ${gp.dtype} cotangent for input ${j}, which is ${p.dtype}`);
      }
      const prev = cotangent.get(p);
      // A tensor used twice receives the sum of both paths (x*x gives 2x).
      cotangent.set(p, prev === undefined ? gp : add(prev, gp));
    });
    cotangent.delete(t); // intermediate cotangents are dropped as soon as they are used
  }
  return inputs.map((x) => cotangent.get(x) ?? zerosLike(x));
};

const checkScalar = (who: string, value: Tensor): void => {
  if (value.size !== 1) {
    throw new ShapeError(`${who}: the function must return a scalar (one-element) tensor to differentiate, got shape ${shapeStr(value.shape)}`);
  }
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
    const [value, aux] = differentiating(() => f(watched, ...rest));
    checkScalar("valueAndGrad", value);
    const inputs = treeLeaves(watched).map(({ leaf }) => leaf);
    const g = backward(value, inputs, ones(value.shape, value.dtype));
    let i = 0;
    const grads = treeMap(watched, () => g[i++]!);
    return { value: depth > 0 ? value : detach(value), grads, aux };
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
  const out = differentiating(() => f(...watched));
  return {
    out: depth > 0 ? out : detach(out),
    backward: (g: Tensor): Tensor[] => backward(out, watched, g),
  };
};
