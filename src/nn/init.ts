// Initializers: (key, shape, dtype) => Tensor. The scale is chosen so that a signal keeps its
// variance as it passes through many layers: fanIn is the number of inputs feeding each output
// (every axis but the last), fanOut the number of outputs (the last axis).

import { random, ShapeError, sizeOf, zeros as zerosOf, type DType, type Shape, type Tensor } from "../autograd/index.ts";

export type Key = random.Key;
export type Initializer = (key: Key, shape: Shape, dtype?: DType) => Tensor;

/** fanIn and fanOut of a weight of this shape: [in, out] gives (in, out); a vector [n] gives (n, n). */
export const fans = (shape: Shape): { fanIn: number; fanOut: number } => {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  return { fanIn: sizeOf(shape.slice(0, -1)), fanOut: shape[shape.length - 1]! };
};

const positiveFans = (who: string, shape: Shape) => {
  const f = fans(shape);
  if (!(f.fanIn > 0 && f.fanOut > 0)) throw new ShapeError(`${who}: cannot initialize shape [${shape.join(", ")}]: it has an empty axis`);
  return f;
};

/** All zeros (biases start here). */
export const zeros: Initializer = (_key, shape, dtype = "float32") => zerosOf(shape, dtype);

/**
 * He (Kaiming) normal: N(0, 2/fanIn). A relu passes on half of its input's second moment, so
 * doubling the variance 1/fanIn keeps the activations' scale steady with depth (He et al., 2015).
 */
export const heNormal: Initializer = (key, shape, dtype = "float32") =>
  random.normal(key, shape, { std: Math.sqrt(2 / positiveFans("heNormal", shape).fanIn), dtype });

/**
 * Glorot (Xavier) normal: N(0, 2/(fanIn + fanOut)), a compromise between keeping the forward
 * activations' variance (1/fanIn) and the backward gradients' (1/fanOut) (Glorot & Bengio, 2010).
 */
export const glorotNormal: Initializer = (key, shape, dtype = "float32") => {
  const { fanIn, fanOut } = positiveFans("glorotNormal", shape);
  return random.normal(key, shape, { std: Math.sqrt(2 / (fanIn + fanOut)), dtype });
};

/** Glorot uniform: U(-l, l) with l = sqrt(6/(fanIn + fanOut)), the same variance l^2/3 as glorotNormal. */
export const glorotUniform: Initializer = (key, shape, dtype = "float32") => {
  const { fanIn, fanOut } = positiveFans("glorotUniform", shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return random.uniform(key, shape, { low: -limit, high: limit, dtype });
};
