// Shared fast-check arbitraries: shapes, broadcastable shape pairs, tensors from doubles, logits and
// labels. Values are always doubles shifted into an op's domain (log of x*x + 0.5), never filtered,
// so every generated case is used and shrinking stays simple.

import fc from "fast-check";
import { broadcastShapes, type DType, type Shape, sizeOf, Tensor, tensor } from "../autograd/index.ts";

export interface ShapeOptions {
  readonly minRank?: number;
  readonly maxRank?: number;
  readonly minDim?: number;
  readonly maxDim?: number;
}

/** Small shapes: rank 0..3 and dimensions 1..3 by default (every index of them is gradchecked). */
export const shapes = ({ minRank = 0, maxRank = 3, minDim = 1, maxDim = 3 }: ShapeOptions = {}): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** A shape that broadcasts to `target`: some leading axes dropped, some of the rest set to 1. */
export const broadcastableTo = (target: Shape): fc.Arbitrary<number[]> =>
  fc
    .tuple(fc.nat({ max: target.length }), fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }))
    .map(([drop, toOne]) => target.slice(drop).map((d, i) => (toOne[i + drop] ? 1 : d)));

export interface BroadcastPair {
  readonly a: number[];
  readonly b: number[];
  /** broadcastShapes(a, b). */
  readonly shape: Shape;
}

/** Two shapes that broadcast together (missing leading axes and size-1 axes on either side). */
export const broadcastablePair = (options: ShapeOptions = {}): fc.Arbitrary<BroadcastPair> =>
  shapes(options).chain((target) =>
    fc.tuple(broadcastableTo(target), broadcastableTo(target)).map(([a, b]) => ({ a, b, shape: broadcastShapes("spec", a, b) })),
  );

/** Maps a double from [min, max] into the domain an op needs. */
export type Domain = (x: number) => number;

/** Ways to shift doubles into an op's domain by construction. */
export const domains = {
  real: (x: number) => x,
  /** x*x + 0.5 >= 0.5: inside the domain of log, sqrt, fractional pow; and away from 1/x's pole. */
  positive: (x: number) => x * x + 0.5,
  /** |result| >= 0.25: clear of the kinks of relu and abs at 0 and of the pole of division. */
  awayFromZero: (x: number) => (x < 0 ? x - 0.25 : x + 0.25),
} satisfies Record<string, Domain>;

export interface ValueOptions {
  /** Range of the raw doubles, before `domain` is applied. Default [-2, 2]. */
  readonly min?: number;
  readonly max?: number;
  readonly domain?: Domain;
}

/** n finite doubles in [min, max], shifted into `domain`. */
export const doubles = (n: number, { min = -2, max = 2, domain = domains.real }: ValueOptions = {}): fc.Arbitrary<number[]> =>
  fc
    .array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
    .map((xs) => xs.map((x) => domain(x) + 0)); // + 0 turns -0 into 0

/**
 * n values at least `gap` apart from each other (no ties, so max and maximum are differentiable
 * everywhere): a shuffled ladder k * gap, each rung jittered by less than gap / 4, then centred.
 */
export const distinctDoubles = (n: number, gap = 0.5): fc.Arbitrary<number[]> =>
  fc
    .tuple(
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
      fc.array(fc.double({ min: 0, max: gap / 4, noNaN: true }), { minLength: n, maxLength: n }),
    )
    .map(([order, jitter]) => order.map((k, i) => (k - (n - 1) / 2) * gap + jitter[i]!));

export interface TensorOptions extends ValueOptions {
  readonly dtype?: DType;
}


/** A tensor of the given shape (float64 by default) with values from `doubles`. */
export const tensorOfShape = (shape: Shape, { dtype = "float64", ...values }: TensorOptions = {}): fc.Arbitrary<Tensor> =>
  doubles(sizeOf(shape), values).map((xs) => tensor(xs, shape, dtype));

/** A tensor of a random small shape. */
export const tensors = (options: TensorOptions & ShapeOptions = {}): fc.Arbitrary<Tensor> =>
  shapes(options).chain((shape) => tensorOfShape(shape, options));

/** A tensor of the given shape whose values are pairwise at least `gap` apart (no ties). */
export const distinctTensorOfShape = (shape: Shape, dtype: DType = "float64", gap = 0.5): fc.Arbitrary<Tensor> =>
  distinctDoubles(sizeOf(shape), gap).map((xs) => tensor(xs, shape, dtype));

/** Two tensors whose shapes broadcast together. */
export const broadcastableTensors = (options: TensorOptions & ShapeOptions = {}): fc.Arbitrary<[Tensor, Tensor]> =>
  broadcastablePair(options).chain(({ a, b }) => fc.tuple(tensorOfShape(a, options), tensorOfShape(b, options)));

export interface ClassificationOptions {
  readonly maxBatch?: number;
  readonly maxClasses?: number;
  /** Logits lie in [-scale, scale]. */
  readonly scale?: number;
  readonly dtype?: DType;
}

/** Integer class labels in [0, classes), one per example. */
export const labels = (batch: number, classes: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: batch, maxLength: batch });

/** Logits of shape [batch, classes]. */
export const logits = (batch: number, classes: number, { scale = 10, dtype = "float64" }: ClassificationOptions = {}): fc.Arbitrary<Tensor> =>
  tensorOfShape([batch, classes], { min: -scale, max: scale, dtype });

/** A batch of logits [batch, classes] with a matching label per row. */
export const logitsAndLabels = (
  options: ClassificationOptions = {},
): fc.Arbitrary<{ logits: Tensor; labels: number[]; batch: number; classes: number }> => {
  const { maxBatch = 4, maxClasses = 5 } = options;
  return fc
    .tuple(fc.integer({ min: 1, max: maxBatch }), fc.integer({ min: 2, max: maxClasses }))
    .chain(([batch, classes]) =>
      fc.record({ logits: logits(batch, classes, options), labels: labels(batch, classes) }).map((r) => ({ ...r, batch, classes })),
    );
};

/** The geometry of a small 2-D convolution: x [n, c, h, w], filters [k, c, kh, kw], and its options. */
export interface ConvCase {
  readonly x: [number, number, number, number];
  readonly weight: [number, number, number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
}

export interface ConvCaseOptions {
  readonly maxBatch?: number;
  readonly maxChannels?: number;
  readonly maxFilters?: number;
  readonly maxKernel?: number;
  readonly maxStride?: number;
  readonly maxPadding?: number;
  readonly maxDilation?: number;
  /** The input is at most this much larger than the window's span (on each axis). */
  readonly maxExtra?: number;
}

/** Convolutions with every kind of stride, padding and dilation, whose window always fits the padded input. */
export const convCases = ({ maxBatch = 2, maxChannels = 2, maxFilters = 3, maxKernel = 3, maxStride = 2, maxPadding = 1, maxDilation = 2, maxExtra = 3 }: ConvCaseOptions = {}): fc.Arbitrary<ConvCase> => {
  const int = (min: number, max: number) => fc.integer({ min, max });
  return fc
    .record({
      n: int(1, maxBatch), c: int(1, maxChannels), k: int(1, maxFilters), kh: int(1, maxKernel), kw: int(1, maxKernel),
      sh: int(1, maxStride), sw: int(1, maxStride), ph: int(0, maxPadding), pw: int(0, maxPadding), dh: int(1, maxDilation), dw: int(1, maxDilation),
      eh: int(0, maxExtra), ew: int(0, maxExtra),
    })
    .map(({ n, c, k, kh, kw, sh, sw, ph, pw, dh, dw, eh, ew }) => ({
      x: [n, c, Math.max(1, dh * (kh - 1) + 1 - 2 * ph) + eh, Math.max(1, dw * (kw - 1) + 1 - 2 * pw) + ew],
      weight: [k, c, kh, kw],
      stride: [sh, sw],
      padding: [ph, pw],
      dilation: [dh, dw],
    }));
};

/** The geometry of a small pooling: x [n, c, h, w], a window, a stride, padding at most half the window. */
export interface PoolCase {
  readonly x: [number, number, number, number];
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
}

export const poolCases = ({ maxBatch = 2, maxChannels = 2, maxKernel = 3, maxStride = 3, maxExtra = 3 } = {}): fc.Arbitrary<PoolCase> => {
  const int = (min: number, max: number) => fc.integer({ min, max });
  return fc
    .record({ n: int(1, maxBatch), c: int(1, maxChannels), kh: int(1, maxKernel), kw: int(1, maxKernel), sh: int(1, maxStride), sw: int(1, maxStride), eh: int(0, maxExtra), ew: int(0, maxExtra) })
    .chain((g) => fc.record({ ph: int(0, Math.floor(g.kh / 2)), pw: int(0, Math.floor(g.kw / 2)) }).map((p) => ({ ...g, ...p })))
    .map(({ n, c, kh, kw, sh, sw, eh, ew, ph, pw }) => ({
      x: [n, c, Math.max(1, kh - 2 * ph) + eh, Math.max(1, kw - 2 * pw) + ew],
      kernel: [kh, kw],
      stride: [sh, sw],
      padding: [ph, pw],
    }));
};
