// The public face of the engine: tensors, ops, differentiation, jit, gradcheck, randomness.

export { Tensor, tensor, detach } from "./tensor.ts";
export type { DType, TypedArray, NestedArray, GraphNode, Cotangents } from "./tensor.ts";
export { full, zeros, ones, scalar, zerosLike, onesLike, arange, eye } from "./ops/creation.ts";
export { ShapeError, broadcastShapes, sizeOf, shapeStr, type Shape } from "./shape.ts";
export { defineOp, run, run1, type OpDefinition, type VjpContext, type Op } from "./define-op.ts";
export * from "./ops/elementwise.ts";
export * from "./ops/reduce.ts";
export { reshape, transpose, broadcastTo, sumToShape, slice, pad, concat, gather, takeAlongAxis, stopGradient } from "./ops/movement.ts";
export { conv2d, conv2dTranspose, maxPool2d, avgPool2d, conv2dShape, pool2dShape, type Pair, type Conv2dOptions, type Conv2dTransposeOptions, type Pool2dOptions } from "./ops/conv.ts";
export { matmul, type MatmulOptions } from "./ops/matmul.ts";
export { linear, type LinearActivation, type LinearOptions } from "./ops/linear.ts";
export { sgdUpdate, momentumUpdate, adamUpdate } from "./ops/update.ts";
export { valueAndGrad, valueAndGradAux, grad, vjp, backward, backwardOrder, watch } from "./grad.ts";
export { jit, printProgram, printCompiledProgram, TraceError, type Jitted, type JitOptions } from "./jit.ts";
export { gradcheck, type GradcheckOptions, type GradcheckResult } from "./gradcheck.ts";
export { treeMap, treeLeaves, type Tree } from "./tree.ts";
export { HandleError } from "./backend.ts";
export { DeletedError, KernelError, defineKernel, useBackend, currentBackend, type Kernel } from "../backend/index.ts";
export * as random from "./random.ts";
export * as kernels from "../backend/kernels.ts";
