// The public face of the engine: tensors, ops, differentiation, gradcheck, randomness.

export { Tensor, tensor, zeros, ones, full, scalar, arange, eye, zerosLike, onesLike, unsettledData } from "./tensor.ts";
export type { DType, TypedArray, NestedArray, GraphNode, Cotangents } from "./tensor.ts";
export { ShapeError, broadcastShapes, sizeOf, shapeStr, type Shape } from "./shape.ts";
export { defineOp, type OpDefinition, type VjpContext, type Op } from "./define-op.ts";
export * from "./ops/elementwise.ts";
export * from "./ops/reduce.ts";
export * from "./ops/movement.ts";
export * from "./ops/matmul.ts";
export { linear, type LinearActivation, type LinearOptions } from "./ops/linear.ts";
export { takeOver, recycle, ownsBuffer } from "./donation.ts";
export { valueAndGrad, valueAndGradAux, grad, vjp, backward, watch } from "./grad.ts";
export { gradcheck, type GradcheckOptions, type GradcheckResult } from "./gradcheck.ts";
export { treeMap, treeLeaves, type Tree } from "./tree.ts";
export * as random from "./random.ts";
