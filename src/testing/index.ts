// Testing your own ops and models: checkOp (the checks every op of the engine passes) and the
// fast-check arbitraries that draw shapes, broadcastable pairs, tensors, logits and labels.

export * from "./arbitraries.ts";
export { checkOp, opCase, opChecks, defaultRuns, OpCheckError, type OpCase, type OpUnderTest, type OpCheck, type CheckOpOptions, type CheckOpReport } from "./check-op.ts";
