// The engine's table of differentiable ops. Every row is checked by checkOp (src/testing), as an op
// of your own would be: gradcheck, gradcheck of the gradient, purity, graph recording, float32,
// broadcasting where it applies, and jit against eager. Each row draws float64 inputs inside the
// op's domain and clear of its non-differentiable points (relu and abs at 0, ties for max and
// maximum). A new op joins this table and every check covers it.

import fc from "fast-check";
import {
  abs, add, avgPool2d, broadcastTo, concat, conv2d, conv2dTranspose, maxPool2d, pad, div, exp, gather, greater, log, logSumExp, matmul, max, maximum, mean, min, mul, neg,
  pow, relu, reshape, sigmoid, sizeOf, slice, sqrt, square, sub, sum, sumToShape, takeAlongAxis, tanh, tensor,
  transpose, where, type Shape, type Tensor,
} from "../../src/autograd/index.ts";
import {
  broadcastablePair, broadcastableTo, convCases, distinctDoubles, distinctTensorOfShape, domains, opCase, poolCases, shapes, tensorOfShape, tensors,
  type OpUnderTest,
} from "../../src/testing/index.ts";

const show = (t: Tensor): string => `${t.dtype}${JSON.stringify(t.shape)} ${JSON.stringify(Array.from(t.data))}`;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---- generators of inputs and attributes -------------------------------------------------------

/** Two tensors whose values are all at least 0.5 apart: maximum never sees a tie. */
const twoDistinct = broadcastablePair().chain(({ a, b }) =>
  distinctDoubles(sizeOf(a) + sizeOf(b)).map((xs) => [tensor(xs.slice(0, sizeOf(a)), a, "float64"), tensor(xs.slice(sizeOf(a)), b, "float64")] as const),
);

/** An axis argument for rank r: all axes, one axis (possibly negative), or a list of axes. */
const axisFor = (rank: number): fc.Arbitrary<number | number[] | undefined> =>
  rank === 0
    ? fc.constantFrom(undefined, [] as number[])
    : fc.oneof(
        fc.constant(undefined),
        fc.integer({ min: -rank, max: rank - 1 }),
        fc.shuffledSubarray(range(rank), { minLength: 1, maxLength: rank }),
      );

type Reduction = (a: Tensor, axis?: number | readonly number[], keepDims?: boolean) => Tensor;

const reductionRow = (name: string, op: Reduction, distinct = false): OpUnderTest => ({
  name,
  cases: shapes().chain((shape) =>
    fc
      .tuple(distinct ? distinctTensorOfShape(shape) : tensorOfShape(shape), axisFor(shape.length), fc.boolean())
      .map(([x, axis, keepDims]) => opCase((a) => op(a, axis, keepDims), [x], `axis ${JSON.stringify(axis)}, keepDims ${keepDims}`)),
  ),
});

/** Targets with the same number of elements as `shape`, for reshape. */
const reshapeTargets = (shape: Shape): number[][] => {
  const size = sizeOf(shape);
  const targets = [[size], [-1], [...shape, 1], [1, ...shape], [...shape].reverse()];
  if (shape.length >= 2) targets.push([shape[0]! * shape[1]!, ...shape.slice(2)], [...shape.slice(0, -1), -1]);
  return targets;
};

/** Per-axis [start, end) bounds with end > start. */
const sliceBounds = (shape: Shape) =>
  fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((lo) => fc.tuple(fc.constant(lo), fc.integer({ min: lo + 1, max: d })))));

// ---- the table -----------------------------------------------------------------------------------

export const opTable: readonly OpUnderTest[] = [
  // elementwise, binary, broadcasting
  { name: "add", op: add, arity: 2, broadcasts: true },
  { name: "sub", op: sub, arity: 2, broadcasts: true },
  { name: "mul", op: mul, arity: 2, broadcasts: true },
  { name: "div", op: div, arity: 2, domain: [domains.real, domains.awayFromZero], broadcasts: true },
  { name: "maximum", cases: twoDistinct.map(([a, b]) => opCase(maximum, [a, b], "distinct values")), broadcasts: true },
  {
    name: "where",
    cases: shapes()
      .chain((target) => fc.tuple(broadcastableTo(target), broadcastableTo(target), broadcastableTo(target)))
      .chain(([c, a, b]) =>
        fc.tuple(fc.array(fc.boolean(), { minLength: sizeOf(c), maxLength: sizeOf(c) }), tensorOfShape(a), tensorOfShape(b)).map(([bits, x, y]) => {
          const condition = tensor(bits.map(Number), c, "float64");
          return opCase((u, v) => where(condition, u, v), [x, y], `condition ${show(condition)}`);
        }),
      ),
    broadcasts: true,
  },
  // elementwise with a number operand
  { name: "x + 2.5", op: (a) => add(a, 2.5), arity: 1 },
  { name: "1 - x", op: (a) => sub(1, a), arity: 1 },
  { name: "-3 x", op: (a) => mul(-3, a), arity: 1 },
  { name: "1 / x", op: (a) => div(1, a), arity: 1, domain: domains.awayFromZero },
  { name: "where(x > 0, x, 0)", op: (a) => where(greater(a, 0), a, 0), arity: 1, domain: domains.awayFromZero },
  // elementwise, unary
  { name: "neg", op: neg, arity: 1 },
  { name: "exp", op: exp, arity: 1 },
  { name: "log", op: log, arity: 1, domain: domains.positive },
  { name: "sqrt", op: sqrt, arity: 1, domain: domains.positive },
  { name: "relu", op: relu, arity: 1, domain: domains.awayFromZero },
  { name: "sigmoid", op: sigmoid, arity: 1 },
  { name: "tanh", op: tanh, arity: 1 },
  { name: "abs", op: abs, arity: 1, domain: domains.awayFromZero },
  { name: "square", op: square, arity: 1 },
  {
    name: "pow(x, p) for x > 0",
    cases: fc
      .tuple(tensors({ domain: domains.positive }), fc.constantFrom(-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3))
      .map(([x, p]) => opCase((a) => pow(a, p), [x], `exponent ${p}`)),
  },
  {
    name: "pow(x, n) for integers n",
    cases: fc.tuple(tensors(), fc.constantFrom(0, 1, 2, 3, 4)).map(([x, p]) => opCase((a) => pow(a, p), [x], `exponent ${p}`)),
  },
  // reductions, over all axes, one axis, or several, with and without keepDims
  reductionRow("sum", sum),
  reductionRow("mean", mean),
  reductionRow("max", max, true),
  reductionRow("min", min, true),
  reductionRow("logSumExp", logSumExp),
  // movement
  {
    name: "reshape",
    cases: shapes()
      .chain((shape) => fc.tuple(tensorOfShape(shape), fc.constantFrom(...reshapeTargets(shape))))
      .map(([x, target]) => opCase((a) => reshape(a, target), [x], `to ${JSON.stringify(target)}`)),
  },
  {
    name: "transpose",
    cases: shapes()
      .chain((shape) => fc.tuple(tensorOfShape(shape), fc.option(fc.shuffledSubarray(range(shape.length), { minLength: shape.length, maxLength: shape.length }), { nil: undefined })))
      .map(([x, perm]) => opCase((a) => transpose(a, perm), [x], `perm ${JSON.stringify(perm)}`)),
  },
  {
    name: "broadcastTo",
    cases: broadcastablePair()
      .chain(({ a, shape }) => tensorOfShape(a).map((x) => [x, shape] as const))
      .map(([x, shape]) => opCase((a) => broadcastTo(a, shape), [x], `to ${JSON.stringify(shape)}`)),
  },
  {
    name: "sumToShape",
    cases: broadcastablePair()
      .chain(({ a, shape }) => tensorOfShape(shape).map((x) => [x, a] as const))
      .map(([x, target]) => opCase((a) => sumToShape(a, target), [x], `to ${JSON.stringify(target)}`)),
  },
  {
    name: "slice",
    cases: shapes()
      .chain((shape) => fc.tuple(tensorOfShape(shape), sliceBounds(shape)))
      .map(([x, bounds]) =>
        opCase((a) => slice(a, bounds.map(([lo]) => lo), bounds.map(([, hi]) => hi)), [x], `bounds ${JSON.stringify(bounds)}`),
      ),
  },
  {
    name: "concat",
    cases: fc
      .tuple(shapes({ minRank: 1 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }))
      .chain(([shape, sizes]) =>
        fc.integer({ min: 0, max: shape.length - 1 }).chain((axis) =>
          fc
            .tuple(...sizes.map((d) => tensorOfShape(shape.map((s, i) => (i === axis ? d : s)))))
            .map((xs) => opCase((...ts) => concat(ts, axis), xs, `axis ${axis}`)),
        ),
      ),
  },
  {
    name: "gather",
    cases: shapes({ minRank: 1 })
      .chain((shape) => fc.tuple(tensorOfShape(shape), fc.integer({ min: -shape.length, max: shape.length - 1 })))
      .chain(([x, axis]) => {
        const size = x.shape[axis < 0 ? axis + x.rank : axis]!;
        return fc
          .array(fc.integer({ min: 0, max: size - 1 }), { minLength: 1, maxLength: 4 })
          .map((indices) => opCase((a) => gather(a, indices, axis), [x], `indices ${JSON.stringify(indices)} along axis ${axis}`));
      }),
  },
  {
    name: "takeAlongAxis",
    cases: shapes({ minRank: 1 })
      .chain((shape) => fc.tuple(tensorOfShape(shape), fc.integer({ min: -shape.length, max: shape.length - 1 })))
      .chain(([x, axis]) => {
        const ax = axis < 0 ? axis + x.rank : axis;
        const n = x.size / x.shape[ax]!;
        return fc
          .array(fc.integer({ min: 0, max: x.shape[ax]! - 1 }), { minLength: n, maxLength: n })
          .map((indices) => opCase((a) => takeAlongAxis(a, indices, axis), [x], `indices ${JSON.stringify(indices)} along axis ${axis}`));
      }),
  },
  // matrix products
  {
    name: "matmul",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
      .chain(([m, k, n]) => fc.tuple(tensorOfShape([m, k]), tensorOfShape([k, n])))
      .map(([a, b]) => opCase((x, y) => matmul(x, y), [a, b])),
  },
  {
    name: "matmul of stacks",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([batch, m, k, n]) => fc.tuple(tensorOfShape([batch, m, k]), tensorOfShape([batch, k, n])))
      .map(([a, b]) => opCase((x, y) => matmul(x, y), [a, b])),
  },
  {
    name: "matmul of a stack by a matrix",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean())
      .chain(([batch, m, k, n, stackFirst]) =>
        fc.tuple(tensorOfShape(stackFirst ? [batch, m, k] : [m, k]), tensorOfShape(stackFirst ? [k, n] : [batch, k, n])))
      .map(([a, b]) => opCase((x, y) => matmul(x, y), [a, b])),
  },
  {
    name: "matmul of a stack by a stack of one",
    cases: fc
      .tuple(fc.integer({ min: 2, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean())
      .chain(([batch, m, k, n, stackFirst]) =>
        fc.tuple(tensorOfShape([stackFirst ? batch : 1, m, k]), tensorOfShape([stackFirst ? 1 : batch, k, n])))
      .map(([a, b]) => opCase((x, y) => matmul(x, y), [a, b])),
  },
  {
    name: "matmul transposed",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean())
      .chain(([m, k, n, transposeA, transposeB]) =>
        fc.tuple(tensorOfShape(transposeA ? [k, m] : [m, k]), tensorOfShape(transposeB ? [n, k] : [k, n]), fc.constant({ transposeA, transposeB })))
      .map(([a, b, options]) => opCase((x, y) => matmul(x, y, options), [a, b], JSON.stringify(options))),
  },
  // convolution and pooling (NCHW), over every stride, padding and dilation; maxPool2d on distinct values
  {
    name: "conv2d",
    cases: convCases()
      .chain((g) => fc.tuple(tensorOfShape(g.x), tensorOfShape(g.weight), fc.constant(g)))
      .map(([x, w, { stride, padding, dilation }]) => opCase((a, b) => conv2d(a, b, { stride, padding, dilation }), [x, w], JSON.stringify({ stride, padding, dilation }))),
  },
  {
    name: "conv2d with a bias, padding same",
    cases: convCases({ maxStride: 1 })
      .chain((g) => fc.tuple(tensorOfShape(g.x), tensorOfShape(g.weight), tensorOfShape([g.weight[0]]), fc.constant(g)))
      .map(([x, w, b, { dilation }]) => opCase((a, u, c) => conv2d(a, u, { bias: c, padding: "same", dilation }), [x, w, b], `dilation ${JSON.stringify(dilation)}`)),
  },
  {
    name: "conv2dTranspose",
    cases: convCases({ maxPadding: 0 })
      .chain((g) => fc.tuple(tensorOfShape([g.x[0], g.weight[0], g.x[2], g.x[3]]), tensorOfShape(g.weight), fc.integer({ min: 0, max: g.stride[0] - 1 }), fc.constant(g)))
      .map(([x, w, extra, { stride, dilation }]) => {
        const options = { stride, dilation, outputPadding: [extra, 0] as [number, number] };
        return opCase((a, b) => conv2dTranspose(a, b, options), [x, w], JSON.stringify(options));
      }),
  },
  {
    name: "maxPool2d",
    cases: poolCases()
      .chain((g) => fc.tuple(distinctTensorOfShape(g.x), fc.constant(g)))
      .map(([x, { kernel, stride, padding }]) => opCase((a) => maxPool2d(a, kernel, { stride, padding }), [x], JSON.stringify({ kernel, stride, padding }))),
  },
  {
    name: "avgPool2d",
    cases: poolCases()
      .chain((g) => fc.tuple(tensorOfShape(g.x), fc.constant(g)))
      .map(([x, { kernel, stride, padding }]) => opCase((a) => avgPool2d(a, kernel, { stride, padding }), [x], JSON.stringify({ kernel, stride, padding }))),
  },
  {
    name: "pad",
    cases: shapes()
      .chain((shape) => fc.tuple(tensorOfShape(shape), fc.tuple(...shape.map(() => fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }))))))
      .map(([x, widths]) => opCase((a) => pad(a, widths), [x], `widths ${JSON.stringify(widths)}`)),
  },
  // compositions the layers rely on
  {
    name: "x - logSumExp(x)",
    cases: shapes({ minRank: 1 }).chain((shape) => tensorOfShape(shape, { min: -5, max: 5 })).map((x) => opCase((a) => sub(a, logSumExp(a, -1, true)), [x])),
  },
  {
    name: "tanh(x W + b)",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([batch, inputs, outputs]) =>
        fc.tuple(tensorOfShape([batch, inputs]), tensorOfShape([inputs, outputs]), tensorOfShape([outputs])),
      )
      .map(([x, w, b]) => opCase((u, v, c) => tanh(add(matmul(u, v), c)), [x, w, b])),
  },
];
