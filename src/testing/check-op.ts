// checkOp: the checks every op of the engine passes, for an op of your own. Say how to draw its
// inputs (arity and domain, or cases of your own for an op with attributes); checkOp runs each
// property on random small shapes with fast-check and throws an OpCheckError naming the op, the
// check and the shrunk counterexample at the first failure. The engine's op table
// (spec/autograd/op-table.ts) is checked with it, as are the examples in examples/.

import fc from "fast-check";
import {
  broadcastShapes, broadcastTo, cast, currentBackend, grad, gradcheck, jit, mul, ones, reshape, sum, sumToShape, Tensor, treeLeaves,
  useBackend, vjp, watch, type GradcheckOptions, type Shape, type Tree,
} from "../autograd/index.ts";
import { broadcastableTo, domains, shapes, tensorOfShape, type Domain, type ShapeOptions } from "./arbitraries.ts";

/** One drawn case: a function of tensors (an op with its attributes fixed) and its inputs. */
export interface OpCase {
  readonly f: (...xs: Tensor[]) => Tensor;
  readonly inputs: readonly Tensor[];
}

/** What checkOp needs to know about an op: how to call it and how to draw inputs it is smooth at. */
export interface OpUnderTest {
  /** The op's name, as failures name it. */
  readonly name: string;
  /** The op, called with `arity` float tensors. Give either op and arity, or cases. */
  readonly op?: (...xs: Tensor[]) => Tensor;
  readonly arity?: number;
  /** Maps raw doubles into the op's domain, one for every input or one per input. Default: the reals. */
  readonly domain?: Domain | readonly Domain[];
  /** The range of the raw doubles before `domain` (default [-2, 2]). */
  readonly values?: { readonly min?: number; readonly max?: number };
  /** The inputs' shapes (default: rank 0..3, dimensions 1..3). */
  readonly shapes?: ShapeOptions;
  /** The inputs broadcast together (elementwise ops): drawn as broadcastable shapes, and checked. */
  readonly broadcasts?: boolean;
  /** Cases drawn your own way, each with its own function: for ops with attributes (an axis, an exponent). */
  readonly cases?: fc.Arbitrary<OpCase>;
}

/** The properties checkOp checks, each as the sentence it proves. */
export const opChecks = {
  gradcheck: "its gradient equals central differences in float64 at every index (eps 1e-6, atol 1e-5, rtol 1e-3, as PyTorch's gradcheck)",
  gradOfGrad: "the gradient of its gradient equals central differences too, so it can be differentiated twice",
  purity: "it never changes its inputs, forward or backward",
  graph: "it records a graph node only when an input is tracked",
  float32: "float32 inputs give float32 values and gradients that agree with float64 to float32 precision",
  broadcasting: "broadcasting is only a view: on inputs broadcast to one shape first it gives the same values, and the same gradients once summed back",
  jit: "compiled with jit it computes exactly the bits of eager execution, value and gradient, in float64 and float32, on every backend",
} as const;

export type OpCheck = keyof typeof opChecks;

/** fast-check runs per check: a gradcheck evaluates the op about 2 * (input size) + (output size) times. */
export const defaultRuns: Readonly<Record<OpCheck, number>> = {
  gradcheck: 50,
  gradOfGrad: 5,
  purity: 25,
  graph: 25,
  float32: 25,
  broadcasting: 25,
  jit: 15,
};

export interface CheckOpOptions {
  /** The checks to run (default: all that apply; broadcasting applies to ops that broadcast). */
  readonly checks?: readonly OpCheck[];
  /** Cases per check: one number for all, or per check. */
  readonly numRuns?: number | Partial<Record<OpCheck, number>>;
  /** fast-check's seed, to reproduce a failure (default: fast-check's global configuration). */
  readonly seed?: number;
  /** gradcheck's tolerances (default PyTorch's: eps 1e-6, atol 1e-5, rtol 1e-3). */
  readonly tolerances?: GradcheckOptions;
}

export interface CheckOpReport {
  readonly name: string;
  /** Every check that ran, with its number of cases. */
  readonly passed: readonly { readonly check: OpCheck; readonly runs: number }[];
}

/** A check failed: the message names the op, the check, and the counterexample fast-check shrank to. */
export class OpCheckError extends Error {
  override name = "OpCheckError";
}

const show = (t: Tensor): string => `${t.dtype}${JSON.stringify(t.shape)} ${JSON.stringify(Array.from(t.data))}`;

/** A case that prints its attributes and inputs when fast-check reports it as a counterexample. */
export const opCase = (f: OpCase["f"], inputs: readonly Tensor[], attrs = ""): OpCase =>
  Object.assign({ f, inputs }, { [fc.toStringMethod]: () => `${attrs ? `${attrs} ` : ""}on ${inputs.map(show).join(" and ")}` });

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The cases of an op given by op, arity and domain. */
const drawCases = ({ name, op, arity, domain = domains.real, values = {}, shapes: shapeOptions = {}, broadcasts = false }: OpUnderTest): fc.Arbitrary<OpCase> => {
  if (op === undefined || arity === undefined || !Number.isInteger(arity) || arity < 1) {
    throw new OpCheckError(`checkOp: ${name}: give op with its arity (a positive integer), or cases`);
  }
  const domainOf = (i: number): Domain => (typeof domain === "function" ? domain : domain[i] ?? domains.real);
  const inputShapes = shapes(shapeOptions).chain((shape) =>
    broadcasts ? fc.tuple(...range(arity).map(() => broadcastableTo(shape))) : fc.constant(range(arity).map(() => [...shape])),
  );
  return inputShapes
    .chain((list) => fc.tuple(...list.map((shape, i) => tensorOfShape(shape, { ...values, domain: domainOf(i) }))))
    .map((inputs) => opCase(op, inputs, broadcasts ? "broadcasting" : ""));
};

/** Fresh reads of a tensor's values: through a new tensor on the same storage, never a cached copy. */
const freshValues = (t: Tensor): number[] => Array.from(reshape(t, [...t.shape, 1]).data);

const fail = (message: string): never => {
  throw new Error(message);
};

/** |got - want| <= tol (1 + |want|) everywhere, with equal shapes. */
const expectClose = (what: string, got: Tensor, want: Tensor, tol: number): void => {
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) fail(`${what}: shape ${JSON.stringify(got.shape)}, expected ${JSON.stringify(want.shape)}`);
  const [g, w] = [got.data, want.data];
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= tol * (1 + Math.abs(w[i]!)))) fail(`${what}: index ${i} is ${g[i]}, expected ${w[i]} (tolerance ${tol})`);
  }
};

/** Every value of every tensor leaf, with -0 told apart from 0. */
const bits = (tree: Tree): string =>
  JSON.stringify(treeLeaves(tree).map(({ path, leaf }) => [path, leaf.dtype, leaf.shape, Array.from(leaf.data, (v) => (Object.is(v, -0) ? "-0" : v))]));

/** A fixed cotangent with distinct entries of both signs, so no gradient entry can hide behind a 1. */
const cotangent = (shape: Shape, dtype: Tensor["dtype"]): Tensor => {
  const size = shape.reduce((a, b) => a * b, 1);
  return cast(new Tensor(Float64Array.from(range(size), (i) => ((i * 7 + 3) % 11) / 11 - 0.45), shape), dtype);
};

const properties = (tolerances: GradcheckOptions): Record<OpCheck, (c: OpCase) => void> => ({
  gradcheck: ({ f, inputs }) => {
    const result = gradcheck(f, inputs, tolerances);
    if (!result.ok) fail(result.message);
  },
  gradOfGrad: ({ f, inputs }) => {
    inputs.forEach((_, i) => {
      // The gradient of sum(f^2), a nonlinear function of f, so that f's second derivative shows.
      const gradient = (...ys: Tensor[]) => grad((zs: Tensor[]) => sum(mul(f(...zs), f(...zs))))(ys)[i]!;
      const result = gradcheck(gradient, inputs, tolerances);
      if (!result.ok) fail(`the gradient with respect to input ${i}: ${result.message}`);
    });
  },
  purity: ({ f, inputs }) => {
    const before = inputs.map(freshValues);
    const { out, backward } = vjp(f, ...inputs);
    backward(ones(out.shape, out.dtype));
    inputs.forEach((x, i) => {
      if (JSON.stringify(freshValues(x)) !== JSON.stringify(before[i])) fail(`input ${i} changed from ${JSON.stringify(before[i])} to ${JSON.stringify(freshValues(x))}`);
    });
  },
  graph: ({ f, inputs }) => {
    if (f(...inputs).node !== null) fail("the result of constants has a graph node");
    if (f(...inputs.map(watch)).node === null) fail("the result of tracked inputs has no graph node");
  },
  float32: ({ f, inputs }) => {
    const single = inputs.map((x) => cast(x, "float32"));
    const double = single.map((x) => cast(x, "float64")); // the same values, exactly
    const [got, want] = [vjp(f, ...single), vjp(f, ...double)];
    if (got.out.dtype !== "float32") fail(`float32 inputs gave a ${got.out.dtype} result`);
    expectClose("the float32 value", got.out, want.out, 1e-5);
    const gotGrads = got.backward(ones(got.out.shape));
    const wantGrads = want.backward(ones(want.out.shape, "float64"));
    gotGrads.forEach((g, i) => {
      if (g.dtype !== "float32") fail(`the gradient of float32 input ${i} is ${g.dtype}`);
      expectClose(`the float32 gradient of input ${i}`, g, wantGrads[i]!, 1e-4);
    });
  },
  broadcasting: ({ f, inputs }) => {
    const shape = inputs.map((x) => x.shape).reduce((a, b) => broadcastShapes("checkOp", a, b));
    const direct = vjp(f, ...inputs);
    const expanded = vjp(f, ...inputs.map((x) => broadcastTo(x, shape)));
    if (bits(direct.out) !== bits(expanded.out)) fail(`on inputs broadcast to ${JSON.stringify(shape)} first, the values differ`);
    const g = cotangent(direct.out.shape, direct.out.dtype);
    const [gotGrads, wantGrads] = [direct.backward(g), expanded.backward(g)];
    inputs.forEach((x, i) => expectClose(`the gradient of input ${i}`, gotGrads[i]!, sumToShape(wantGrads[i]!, x.shape), 1e-12));
  },
  jit: ({ f, inputs }) => {
    const both = (...ys: Tensor[]) => ({ value: f(...ys), grads: grad((zs: Tensor[]) => sum(f(...zs)))(ys) });
    const before = currentBackend().name;
    try {
      for (const backend of ["reference", "wasm"] as const) {
        try {
          useBackend(backend);
        } catch {
          continue; // not available here (no WebAssembly SIMD)
        }
        for (const dtype of ["float64", "float32"] as const) {
          const xs = inputs.map((x) => cast(x, dtype));
          if (bits(jit(both)(...xs)) !== bits(both(...xs))) fail(`on the ${backend} backend in ${dtype}, jit(f) differs from f`);
        }
      }
    } finally {
      useBackend(before);
    }
  },
});

/**
 * Check an op the way the engine's own ops are checked, and throw an OpCheckError at the first
 * failure. Returns the checks that ran.
 *
 *   checkOp({ name: "softplus", op: softplus, arity: 1 })
 *   checkOp({ name: "div", op: div, arity: 2, domain: [domains.real, domains.awayFromZero], broadcasts: true })
 */
export const checkOp = (spec: OpUnderTest, options: CheckOpOptions = {}): CheckOpReport => {
  const { checks, numRuns, seed, tolerances = {} } = options;
  if (spec.cases !== undefined && spec.op !== undefined) throw new OpCheckError(`checkOp: ${spec.name}: give op or cases, not both`);
  const cases = spec.cases ?? drawCases(spec);
  const broadcasts = spec.broadcasts ?? false;
  const applicable = (Object.keys(opChecks) as OpCheck[]).filter((c) => c !== "broadcasting" || broadcasts);
  for (const c of checks ?? []) {
    if (!(c in opChecks)) throw new OpCheckError(`checkOp: unknown check "${c}"; the checks are ${Object.keys(opChecks).join(", ")}`);
    if (c === "broadcasting" && !broadcasts) throw new OpCheckError(`checkOp: ${spec.name}: the broadcasting check needs an op declared with broadcasts: true`);
  }
  const property = properties(tolerances);
  const passed: { check: OpCheck; runs: number }[] = [];
  for (const check of checks ?? applicable) {
    const runs = typeof numRuns === "number" ? numRuns : numRuns?.[check] ?? defaultRuns[check];
    try {
      fc.assert(fc.property(cases, property[check]), { numRuns: runs, includeErrorInReport: true, ...(seed === undefined ? {} : { seed }) });
    } catch (error) {
      throw new OpCheckError(`${spec.name}: ${check} failed (${opChecks[check]}):\n${(error as Error).message}`);
    }
    passed.push({ check, runs });
  }
  return { name: spec.name, passed };
};
