// Initializers: (key, shape, dtype, fanAxes) => Tensor. The scale is chosen so that a signal keeps
// its variance as it passes through many layers: fanIn is the number of inputs feeding each output,
// fanOut the number of outputs each input feeds. Which axes count is the layer's to say: a dense
// weight [in, out] has fanIn = in and fanOut = out (the default: every axis but the last, and the
// last); a convolution's filters [K, C, kh, kw] have fanIn = C kh kw and fanOut = K kh kw (axes
// [1, 2, 3] and [0, 2, 3], as PyTorch counts them).

import { random, ShapeError, sizeOf, zeros as zerosOf, type DType, type Shape, type Tensor } from "../autograd/index.ts";

export type Key = random.Key;
/** The axes whose sizes multiply into fanIn and into fanOut. */
export interface FanAxes {
  readonly in: readonly number[];
  readonly out: readonly number[];
}

/** A convolution's filters [K, C, kh, kw]: fanIn = C kh kw, fanOut = K kh kw. */
export const convFanAxes: FanAxes = Object.freeze({ in: Object.freeze([1, 2, 3]), out: Object.freeze([0, 2, 3]) });

export type Initializer = (key: Key, shape: Shape, dtype?: DType, fanAxes?: FanAxes) => Tensor;

/**
 * fanIn and fanOut of a weight of this shape: the products of the sizes of `axes`, or by default
 * [in, out] gives (in, out), [a, b, out] gives (a b, out), and a vector [n] gives (n, n).
 */
export const fans = (shape: Shape, axes?: FanAxes): { fanIn: number; fanOut: number } => {
  if (axes !== undefined) {
    for (const a of [...axes.in, ...axes.out]) {
      if (!Number.isInteger(a) || a < 0 || a >= shape.length) throw new ShapeError(`fans: axis ${a} is not an axis of shape [${shape.join(", ")}]`);
    }
    return { fanIn: sizeOf(axes.in.map((a) => shape[a]!)), fanOut: sizeOf(axes.out.map((a) => shape[a]!)) };
  }
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  return { fanIn: sizeOf(shape.slice(0, -1)), fanOut: shape[shape.length - 1]! };
};

const positiveFans = (who: string, shape: Shape, axes?: FanAxes) => {
  const f = fans(shape, axes);
  if (!(f.fanIn > 0 && f.fanOut > 0)) throw new ShapeError(`${who}: cannot initialize shape [${shape.join(", ")}]: it has an empty axis`);
  return f;
};

/** All zeros (biases start here). */
export const zeros: Initializer = (_key, shape, dtype = "float32") => zerosOf(shape, dtype);

/**
 * He (Kaiming) normal: N(0, 2/fanIn). A relu passes on half of its input's second moment, so
 * doubling the variance 1/fanIn keeps the activations' scale steady with depth (He et al., 2015).
 */
export const heNormal: Initializer = (key, shape, dtype = "float32", axes) =>
  random.normal(key, shape, { std: Math.sqrt(2 / positiveFans("heNormal", shape, axes).fanIn), dtype });

/**
 * Glorot (Xavier) normal: N(0, 2/(fanIn + fanOut)), a compromise between keeping the forward
 * activations' variance (1/fanIn) and the backward gradients' (1/fanOut) (Glorot & Bengio, 2010).
 */
export const glorotNormal: Initializer = (key, shape, dtype = "float32", axes) => {
  const { fanIn, fanOut } = positiveFans("glorotNormal", shape, axes);
  return random.normal(key, shape, { std: Math.sqrt(2 / (fanIn + fanOut)), dtype });
};

/** Glorot uniform: U(-l, l) with l = sqrt(6/(fanIn + fanOut)), the same variance l^2/3 as glorotNormal. */
export const glorotUniform: Initializer = (key, shape, dtype = "float32", axes) => {
  const { fanIn, fanOut } = positiveFans("glorotUniform", shape, axes);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return random.uniform(key, shape, { low: -limit, high: limit, dtype });
};
