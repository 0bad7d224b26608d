// The table of differentiable ops that drives the table specs (gradcheck, purity, dtypes, graph
// recording). Each row generates float64 inputs already inside the op's domain and clear of its
// non-differentiable points (relu and abs at 0, ties for max and maximum), plus the function of
// those inputs to check. A new op joins this table and every table spec covers it.

import fc from "fast-check";
import {
  abs, add, avgPool2d, broadcastTo, concat, conv2d, conv2dTranspose, maxPool2d, pad, div, exp, gather, greater, log, logSumExp, matmul, max, maximum, mean, min, mul, neg,
  pow, relu, reshape, sigmoid, sizeOf, slice, sqrt, square, sub, sum, sumToShape, takeAlongAxis, tanh, tensor,
  transpose, where, type Shape, type Tensor,
} from "../../src/autograd/index.ts";
import {
  broadcastablePair, broadcastableTo, convCases, distinctDoubles, poolCases, distinctTensorOfShape, domains, shapes, tensorOfShape,
  type Domain,
} from "../arbitraries.ts";

/** One generated case: inputs and the function of them to differentiate. */
export interface Instance {
  readonly f: (...xs: Tensor[]) => Tensor;
  readonly inputs: Tensor[];
}

export interface OpRow {
  /** The op and the variant exercised, as the test names print it. */
  readonly name: string;
  readonly cases: fc.Arbitrary<Instance>;
}

const show = (t: Tensor): string => `${t.dtype}${JSON.stringify(t.shape)} ${JSON.stringify(Array.from(t.data))}`;

/** An instance that prints its attributes and inputs when fast-check reports a counterexample. */
const instance = (f: Instance["f"], inputs: Tensor[], attrs = ""): Instance =>
  Object.assign({ f, inputs }, { [fc.toStringMethod]: () => `${attrs ? `${attrs} ` : ""}on ${inputs.map(show).join(" and ")}` });

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---- generators of inputs and attributes -------------------------------------------------------

const oneTensor = (domain: Domain, shapeOptions = {}) =>
  shapes(shapeOptions).chain((shape) => tensorOfShape(shape, { domain }));

const twoBroadcasting = (domainB: Domain = domains.real) =>
  broadcastablePair().chain(({ a, b }) => fc.tuple(tensorOfShape(a), tensorOfShape(b, { domain: domainB })));

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

const reductionRow = (name: string, op: Reduction, distinct = false): OpRow => ({
  name,
  cases: shapes().chain((shape) =>
    fc
      .tuple(distinct ? distinctTensorOfShape(shape) : tensorOfShape(shape), axisFor(shape.length), fc.boolean())
      .map(([x, axis, keepDims]) => instance((a) => op(a, axis, keepDims), [x], `axis ${JSON.stringify(axis)}, keepDims ${keepDims}`)),
  ),
});

const unaryRow = (name: string, op: (a: Tensor) => Tensor, domain: Domain = domains.real): OpRow => ({
  name,
  cases: oneTensor(domain).map((x) => instance(op, [x])),
});

const binaryRow = (name: string, op: (a: Tensor, b: Tensor) => Tensor, domainB?: Domain): OpRow => ({
  name,
  cases: twoBroadcasting(domainB).map(([a, b]) => instance(op, [a, b], "broadcasting")),
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

export const opTable: readonly OpRow[] = [
  // elementwise, binary, broadcasting
  binaryRow("add", add),
  binaryRow("sub", sub),
  binaryRow("mul", mul),
  binaryRow("div", div, domains.awayFromZero),
  { name: "maximum", cases: twoDistinct.map(([a, b]) => instance(maximum, [a, b], "distinct values")) },
  {
    name: "where",
    cases: shapes()
      .chain((target) => fc.tuple(broadcastableTo(target), broadcastableTo(target), broadcastableTo(target)))
      .chain(([c, a, b]) =>
        fc.tuple(fc.array(fc.boolean(), { minLength: sizeOf(c), maxLength: sizeOf(c) }), tensorOfShape(a), tensorOfShape(b)).map(([bits, x, y]) => {
          const condition = tensor(bits.map(Number), c, "float64");
          return instance((u, v) => where(condition, u, v), [x, y], `condition ${show(condition)}`);
        }),
      ),
  },
  // elementwise with a number operand
  { name: "add a number", cases: oneTensor(domains.real).map((x) => instance((a) => add(a, 2.5), [x])) },
  { name: "sub from a number", cases: oneTensor(domains.real).map((x) => instance((a) => sub(1, a), [x])) },
  { name: "mul by a number", cases: oneTensor(domains.real).map((x) => instance((a) => mul(-3, a), [x])) },
  { name: "div a number by a tensor", cases: oneTensor(domains.awayFromZero).map((x) => instance((a) => div(1, a), [x])) },
  { name: "where with a number branch", cases: oneTensor(domains.awayFromZero).map((x) => instance((a) => where(greater(a, 0), a, 0), [x], "where(a > 0, a, 0)")) },
  // elementwise, unary
  unaryRow("neg", neg),
  unaryRow("exp", exp),
  unaryRow("log", log, domains.positive),
  unaryRow("sqrt", sqrt, domains.positive),
  unaryRow("relu", relu, domains.awayFromZero),
  unaryRow("sigmoid", sigmoid),
  unaryRow("tanh", tanh),
  unaryRow("abs", abs, domains.awayFromZero),
  unaryRow("square", square),
  {
    name: "pow of positive values",
    cases: fc
      .tuple(oneTensor(domains.positive), fc.constantFrom(-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3))
      .map(([x, p]) => instance((a) => pow(a, p), [x], `exponent ${p}`)),
  },
  {
    name: "pow with an integer exponent",
    cases: fc.tuple(oneTensor(domains.real), fc.constantFrom(0, 1, 2, 3, 4)).map(([x, p]) => instance((a) => pow(a, p), [x], `exponent ${p}`)),
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
      .map(([x, target]) => instance((a) => reshape(a, target), [x], `to ${JSON.stringify(target)}`)),
  },
  {
    name: "transpose",
    cases: shapes()
      .chain((shape) => fc.tuple(tensorOfShape(shape), fc.option(fc.shuffledSubarray(range(shape.length), { minLength: shape.length, maxLength: shape.length }), { nil: undefined })))
      .map(([x, perm]) => instance((a) => transpose(a, perm), [x], `perm ${JSON.stringify(perm)}`)),
  },
  {
    name: "broadcastTo",
    cases: broadcastablePair()
      .chain(({ a, shape }) => tensorOfShape(a).map((x) => [x, shape] as const))
      .map(([x, shape]) => instance((a) => broadcastTo(a, shape), [x], `to ${JSON.stringify(shape)}`)),
  },
  {
    name: "sumToShape",
    cases: broadcastablePair()
      .chain(({ a, shape }) => tensorOfShape(shape).map((x) => [x, a] as const))
      .map(([x, target]) => instance((a) => sumToShape(a, target), [x], `to ${JSON.stringify(target)}`)),
  },
  {
    name: "slice",
    cases: shapes()
      .chain((shape) => fc.tuple(tensorOfShape(shape), sliceBounds(shape)))
      .map(([x, bounds]) =>
        instance((a) => slice(a, bounds.map(([lo]) => lo), bounds.map(([, hi]) => hi)), [x], `bounds ${JSON.stringify(bounds)}`),
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
            .map((xs) => instance((...ts) => concat(ts, axis), xs, `axis ${axis}`)),
        ),
      ),
  },
  {
    name: "gather (repeated indices)",
    cases: shapes({ minRank: 1 })
      .chain((shape) => fc.tuple(tensorOfShape(shape), fc.integer({ min: -shape.length, max: shape.length - 1 })))
      .chain(([x, axis]) => {
        const size = x.shape[axis < 0 ? axis + x.rank : axis]!;
        return fc
          .array(fc.integer({ min: 0, max: size - 1 }), { minLength: 1, maxLength: 4 })
          .map((indices) => instance((a) => gather(a, indices, axis), [x], `indices ${JSON.stringify(indices)} along axis ${axis}`));
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
          .map((indices) => instance((a) => takeAlongAxis(a, indices, axis), [x], `indices ${JSON.stringify(indices)} along axis ${axis}`));
      }),
  },
  // matrix products
  {
    name: "matmul of matrices",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
      .chain(([m, k, n]) => fc.tuple(tensorOfShape([m, k]), tensorOfShape([k, n])))
      .map(([a, b]) => instance((x, y) => matmul(x, y), [a, b])),
  },
  {
    name: "matmul of stacks of matrices",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([batch, m, k, n]) => fc.tuple(tensorOfShape([batch, m, k]), tensorOfShape([batch, k, n])))
      .map(([a, b]) => instance((x, y) => matmul(x, y), [a, b])),
  },
  {
    name: "matmul of a stack by one matrix, and of one matrix by a stack (a broadcast batch axis)",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean())
      .chain(([batch, m, k, n, stackFirst]) =>
        fc.tuple(tensorOfShape(stackFirst ? [batch, m, k] : [m, k]), tensorOfShape(stackFirst ? [k, n] : [batch, k, n])))
      .map(([a, b]) => instance((x, y) => matmul(x, y), [a, b])),
  },
  {
    name: "matmul with transposed operands",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean())
      .chain(([m, k, n, transposeA, transposeB]) =>
        fc.tuple(tensorOfShape(transposeA ? [k, m] : [m, k]), tensorOfShape(transposeB ? [n, k] : [k, n]), fc.constant({ transposeA, transposeB })))
      .map(([a, b, options]) => instance((x, y) => matmul(x, y, options), [a, b], JSON.stringify(options))),
  },
  // convolution and pooling (NCHW), over every stride, padding and dilation
  {
    name: "conv2d (stride, padding, dilation)",
    cases: convCases()
      .chain((g) => fc.tuple(tensorOfShape(g.x), tensorOfShape(g.weight), fc.constant(g)))
      .map(([x, w, { stride, padding, dilation }]) => instance((a, b) => conv2d(a, b, { stride, padding, dilation }), [x, w], JSON.stringify({ stride, padding, dilation }))),
  },
  {
    name: "conv2d with a bias, padding \"same\"",
    cases: convCases({ maxStride: 1 })
      .chain((g) => fc.tuple(tensorOfShape(g.x), tensorOfShape(g.weight), tensorOfShape([g.weight[0]]), fc.constant(g)))
      .map(([x, w, b, { dilation }]) => instance((a, u, c) => conv2d(a, u, { bias: c, padding: "same", dilation }), [x, w, b], `dilation ${JSON.stringify(dilation)}`)),
  },
  {
    name: "conv2dTranspose (stride, padding, dilation, outputPadding)",
    cases: convCases({ maxPadding: 0 })
      .chain((g) => fc.tuple(tensorOfShape([g.x[0], g.weight[0], g.x[2], g.x[3]]), tensorOfShape(g.weight), fc.integer({ min: 0, max: g.stride[0] - 1 }), fc.constant(g)))
      .map(([x, w, extra, { stride, dilation }]) => {
        const options = { stride, dilation, outputPadding: [extra, 0] as [number, number] };
        return instance((a, b) => conv2dTranspose(a, b, options), [x, w], JSON.stringify(options));
      }),
  },
  {
    name: "maxPool2d (distinct values; overlapping windows and padding)",
    cases: poolCases()
      .chain((g) => fc.tuple(distinctTensorOfShape(g.x), fc.constant(g)))
      .map(([x, { kernel, stride, padding }]) => instance((a) => maxPool2d(a, kernel, { stride, padding }), [x], JSON.stringify({ kernel, stride, padding }))),
  },
  {
    name: "avgPool2d (overlapping windows and padding)",
    cases: poolCases()
      .chain((g) => fc.tuple(tensorOfShape(g.x), fc.constant(g)))
      .map(([x, { kernel, stride, padding }]) => instance((a) => avgPool2d(a, kernel, { stride, padding }), [x], JSON.stringify({ kernel, stride, padding }))),
  },
  {
    name: "pad",
    cases: shapes()
      .chain((shape) => fc.tuple(tensorOfShape(shape), fc.tuple(...shape.map(() => fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }))))))
      .map(([x, widths]) => instance((a) => pad(a, widths), [x], `widths ${JSON.stringify(widths)}`)),
  },
  // compositions the layers rely on
  {
    name: "log-softmax as x - logSumExp(x) over the last axis",
    cases: shapes({ minRank: 1 }).chain((shape) => tensorOfShape(shape, { min: -5, max: 5 })).map((x) => instance((a) => sub(a, logSumExp(a, -1, true)), [x])),
  },
  {
    name: "dense layer tanh(x W + b)",
    cases: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([batch, inputs, outputs]) =>
        fc.tuple(tensorOfShape([batch, inputs]), tensorOfShape([inputs, outputs]), tensorOfShape([outputs])),
      )
      .map(([x, w, b]) => instance((u, v, c) => tanh(add(matmul(u, v), c)), [x, w, b])),
  },
];
