// Small helpers shared by the nn specs (not specs themselves).

import { expect } from "vitest";
import { Tensor, treeLeaves, type Tree } from "../../src/autograd/index.ts";

/** The rows of a [batch, classes] tensor as plain arrays of numbers. */
export const rows = (t: Tensor): number[][] => {
  const [n, c] = t.shape as [number, number];
  return Array.from({ length: n }, (_, i) => Array.from(t.data.subarray(i * c, (i + 1) * c)));
};

/** |actual - expected| <= tol * max(1, |expected|), elementwise. */
export const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`entry ${i}: ${a} differs from ${e} by ${Math.abs(a - e)} (tolerance ${tol})`);
    }
  }
};

/** A deep copy of every leaf's values, to compare before and after a call. */
export const snapshot = (tree: Tree): Record<string, number[]> =>
  Object.fromEntries(treeLeaves(tree).map(({ path, leaf }) => [path, Array.from(leaf.data)]));

/** The largest absolute value (without spreading a large array into arguments). */
export const maxAbs = (values: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
};
