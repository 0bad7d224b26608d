// Every kernel the front end may apply, by family. Each is defined with its reference loops in
// ./reference; a backend may run a faster implementation of it.

export { unary, binary, powConstant, where, maskPositive, cast, fill, type UnaryOp, type BinaryOp } from "./reference/elementwise.ts";
export {
  broadcastTo, sumToShape, maxToShape, scatterFlat, takeFlat, transpose, slice, padBlock, concat, gatherAxis, scatterAxis,
  takeAlong, putAlong, argmax, copy,
} from "./reference/movement.ts";
export { matmul, linear, type MatmulParams, type LinearParams } from "./reference/matmul.ts";
export {
  conv2d, conv2dTranspose, conv2dWeightGrad, maxPool2d, avgPool2d, avgPool2dTranspose, type ConvGeometry, type ConvParams, type Conv2dParams, type PoolParams,
} from "./reference/conv.ts";
export { softmaxCrossEntropy, softmaxCrossEntropyGrad, sgdUpdate, momentumUpdate, adamUpdate } from "./reference/training.ts";
export { randomSplit, randomFoldIn, randomUniform, randomNormal, randomBernoulli } from "./reference/random.ts";
