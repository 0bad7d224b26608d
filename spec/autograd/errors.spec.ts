// Every shape error and invalid argument throws at once, with a message that names the op and says
// what was wrong, instead of producing garbage further on.

import { describe, expect, it } from "vitest";
import {
  add, arange, backward, broadcastTo, concat, div, full, gather, gradcheck, logSumExp, matmul, max, maximum, mean, min, mul,
  ones, pow, reshape, ShapeError, slice, sum, sumToShape, takeAlongAxis, tensor, transpose, valueAndGrad, vjp, where,
  zeros, argmax, type Tensor, random, defineOp, cast, grad, exp,
} from "../../src/autograd/index.ts";

const f64 = (values: Parameters<typeof tensor>[0], shape?: readonly number[]): Tensor => tensor(values, shape, "float64");
const m23 = zeros([2, 3]);

describe("matmul errors", () => {
  it("an inner-dimension mismatch names both shapes and both sizes", () => {
    expect(() => matmul(zeros([64, 784]), zeros([128, 784]))).toThrow(
      new ShapeError("matmul: cannot multiply [64, 784] by [128, 784]: inner dimensions 784 and 128 differ"),
    );
  });

  it("more than one batch axis is refused", () => {
    expect(() => matmul(zeros([2, 2, 3]), zeros([2, 2, 3, 2]))).toThrow(
      "matmul: cannot multiply [2, 2, 3] by [2, 2, 3, 2]: expected matrices, or stacks of matrices with the same batch size (or a stack and one matrix, or a stack of one)",
    );
  });

  it("stacks with different batch sizes are refused", () => {
    expect(() => matmul(zeros([2, 1, 3]), zeros([3, 3, 1]))).toThrow("matmul: cannot multiply [2, 1, 3] by [3, 3, 1]");
  });

  it("vectors are refused: matmul wants rank 2 or 3", () => {
    expect(() => matmul(zeros([3]), zeros([3]))).toThrow("matmul: cannot multiply [3] by [3]");
  });
});

describe("broadcasting errors", () => {
  it("elementwise ops name the two shapes and the axis that cannot broadcast", () => {
    expect(() => add(zeros([2, 3]), zeros([4, 3]))).toThrow(
      "add: cannot broadcast [2, 3] with [4, 3]: axis 0 has sizes 2 and 4 (each pair must be equal or one of them 1)",
    );
    expect(() => mul(zeros([3]), zeros([2]))).toThrow("mul: cannot broadcast [3] with [2]");
    expect(() => maximum(zeros([3]), zeros([2]))).toThrow("maximum: cannot broadcast [3] with [2]");
    expect(() => where(zeros([3]), zeros([2]), 0)).toThrow("where: cannot broadcast [3] with [2]");
  });

  it("broadcastTo refuses a target the shape does not broadcast to", () => {
    expect(() => broadcastTo(zeros([2, 3]), [3])).toThrow("broadcastTo: cannot broadcast [2, 3] to [3]");
    expect(() => broadcastTo(zeros([2]), [3])).toThrow("broadcastTo: cannot broadcast [2] with [3]");
  });

  it("sumToShape refuses a shape that the tensor is not a broadcast of", () => {
    expect(() => sumToShape(zeros([2, 3]), [2])).toThrow("sumToShape: cannot broadcast [2] with [2, 3]");
    expect(() => sumToShape(zeros([3]), [2, 3])).toThrow("sumToShape: [3] is not a broadcast of [2, 3]");
  });

  it("two plain numbers are refused: an elementwise op needs a tensor to take its dtype from", () => {
    expect(() => add(1, 2)).toThrow("elementwise op: at least one operand must be a Tensor");
  });
});

describe("axis errors", () => {
  it("an axis out of range names the op, the axis and the valid range", () => {
    expect(() => sum(m23, 2)).toThrow("sum: axis 2 is out of range for a tensor of rank 2 (expected an integer in [-2, 1])");
    expect(() => sum(m23, -3)).toThrow("sum: axis -3 is out of range");
    expect(() => mean(m23, [0, 5])).toThrow("mean: axis 5 is out of range");
    expect(() => max(m23, 2)).toThrow("max: axis 2 is out of range");
    expect(() => min(m23, -3)).toThrow("min: axis -3 is out of range");
    expect(() => logSumExp(m23, 3)).toThrow("logSumExp: axis 3 is out of range");
    expect(() => argmax(m23, 2)).toThrow("argmax: axis 2 is out of range");
    expect(() => concat([m23, m23], 2)).toThrow("concat: axis 2 is out of range");
    expect(() => gather(m23, [0], 2)).toThrow("gather: axis 2 is out of range");
    expect(() => takeAlongAxis(m23, [0, 0], 2)).toThrow("takeAlongAxis: axis 2 is out of range");
  });

  it("a non-integer axis is refused", () => {
    expect(() => sum(m23, 0.5)).toThrow("sum: axis 0.5 is out of range");
  });

  it("a repeated axis is refused", () => {
    expect(() => sum(m23, [1, -1])).toThrow("sum: repeated axis in [1,-1]");
  });

  it("the maximum of an empty tensor is refused", () => {
    expect(() => max(zeros([0]))).toThrow("max: cannot take the maximum of an empty tensor");
  });
});

describe("index errors", () => {
  it("takeAlongAxis refuses a non-integer index", () => {
    expect(() => takeAlongAxis(m23, [0, 1.5])).toThrow("takeAlongAxis: index 1.5 at position 1 is not an integer");
  });

  it("takeAlongAxis refuses an index out of range, and says the axis size", () => {
    expect(() => takeAlongAxis(m23, [0, 3])).toThrow("takeAlongAxis: index 3 at position 1 is out of range for axis 1 of size 3");
    expect(() => takeAlongAxis(m23, [-1, 0])).toThrow("takeAlongAxis: index -1 at position 0 is out of range");
  });

  it("takeAlongAxis needs one index per position of the other axes", () => {
    expect(() => takeAlongAxis(m23, [0, 1, 2])).toThrow(
      "takeAlongAxis: 3 indices for a tensor of shape [2, 3]: expected one per position of the other axes (2)",
    );
  });

  it("gather refuses a non-integer index", () => {
    expect(() => gather(m23, [NaN])).toThrow("gather: index NaN at position 0 is not an integer");
  });

  it("gather refuses an index out of range", () => {
    expect(() => gather(m23, [0, 2])).toThrow("gather: index 2 at position 1 is out of range for axis 0 of size 2");
  });
});

describe("dtype errors", () => {
  it("mixing float32 and float64 is refused, naming the op and both dtypes", () => {
    expect(() => add(zeros([2]), zeros([2], "float64"))).toThrow("add: mismatched dtypes float32 and float64 (cast one input first)");
    expect(() => matmul(zeros([2, 2], "float64"), zeros([2, 2]))).toThrow("matmul: mismatched dtypes float64 and float32");
    expect(() => concat([zeros([1]), zeros([1], "float64")])).toThrow("concat: mismatched dtypes float32 and float64");
    expect(() => div(zeros([2, 1]), zeros([3], "float64"))).toThrow("div: mismatched dtypes");
  });

  it("an op whose forward returns another dtype than its inputs is refused where it is defined, naming it", () => {
    const widen = defineOp({ name: "widen", forward: ([x]) => cast(x!, "float64"), vjp: (g) => [g] });
    expect(() => widen([zeros([2])], undefined)).toThrow("widen: the forward returned a float64 result for float32 inputs");
  });

  it("a vjp returning a cotangent of another dtype or shape than its input is refused, naming the op", () => {
    const wrongDtype = defineOp({ name: "wrongDtype", forward: ([x]) => exp(x!), vjp: (g) => [cast(g, "float32")] });
    const wrongShape = defineOp({ name: "wrongShape", forward: ([x]) => exp(x!), vjp: () => [zeros([3], "float64")] });
    expect(() => grad((x: Tensor) => sum(wrongDtype([x], undefined)))(f64([1, 2]))).toThrow("wrongDtype: vjp returned a float32 cotangent for input 0, which is float64");
    expect(() => grad((x: Tensor) => sum(wrongShape([x], undefined)))(f64([1, 2]))).toThrow("wrongShape: vjp returned a cotangent of shape [3] for input 0 of shape [2]");
  });

  it("math on integers is refused: only float tensors are differentiated and transcendental", () => {
    expect(() => exp(tensor([1, 2], [2], "int32"))).toThrow("exp: expected a float32 or float64 tensor, got int32 (cast it first)");
    expect(() => grad((x: Tensor) => sum(x))(tensor([1], [1], "int32"))).toThrow("watch: only float tensors can be differentiated, got int32");
  });
});

describe("shape errors in movement ops", () => {
  it("reshape refuses a shape with a different number of elements", () => {
    expect(() => reshape(m23, [4, 2])).toThrow("reshape: cannot reshape [2, 3] (6 values) to [4, 2]");
  });

  it("reshape allows at most one -1, and only when it can be inferred", () => {
    expect(() => reshape(m23, [-1, -1])).toThrow("reshape: at most one -1 is allowed, got [-1, -1]");
    expect(() => reshape(m23, [-1, 4])).toThrow("reshape: cannot infer -1 in [-1, 4] for 6 values of shape [2, 3]");
  });

  it("reshape refuses negative and fractional dimensions", () => {
    expect(() => reshape(zeros([4]), [-2, -2])).toThrow("reshape: cannot reshape [4] (4 values) to [-2, -2]");
    expect(() => reshape(zeros([3]), [1.5, 2])).toThrow("reshape: cannot reshape [3] (3 values) to [1.5, 2]");
  });

  it("slice refuses bounds out of range, reversed, or fractional, naming the axis", () => {
    expect(() => slice(m23, [0, 0], [2, 4])).toThrow("slice: bounds [0, 4) are out of range for axis 1 of size 3 in [2, 3]");
    expect(() => slice(m23, [2, 0], [1, 3])).toThrow("slice: bounds [2, 1) are out of range for axis 0 of size 2");
    expect(() => slice(m23, [0.5])).toThrow("slice: bounds [0.5, 2) are out of range for axis 0");
    expect(() => slice(m23, [-3])).toThrow("slice: bounds [-3, 2) are out of range for axis 0");
  });

  it("slice refuses more bounds than axes", () => {
    expect(() => slice(m23, [0, 0, 0])).toThrow("slice: got 3 bounds for a tensor of rank 2 (shape [2, 3])");
  });

  it("transpose refuses a list that is not a permutation of the axes", () => {
    expect(() => transpose(m23, [0, 0])).toThrow("transpose: [0,0] is not a permutation of the 2 axes");
    expect(() => transpose(m23, [0])).toThrow("transpose: [0] is not a permutation of the 2 axes");
    expect(() => transpose(m23, [0, 2])).toThrow("transpose: [0,2] is not a permutation of the 2 axes");
  });

  it("concat refuses tensors whose other dimensions differ, and an empty list", () => {
    expect(() => concat([m23, zeros([2, 4])], 0)).toThrow("concat: cannot join [2, 3] and [2, 4] along axis 0: the other dimensions must match");
    expect(() => concat([m23, zeros([3])], 0)).toThrow("concat: cannot join [2, 3] and [3] along axis 0");
    expect(() => concat([])).toThrow("concat: needs at least one tensor");
  });
});

describe("differentiation errors", () => {
  it("valueAndGrad of a function that returns a non-scalar is refused, naming the shape", () => {
    expect(() => valueAndGrad((x: Tensor) => mul(x, 2))(f64([1, 2]))).toThrow(
      "valueAndGrad: the function must return a scalar (one-element) tensor to differentiate, got shape [2]",
    );
  });

  it("backward refuses a seed cotangent shaped unlike the output", () => {
    const { backward: back } = vjp((x) => mul(x!, 2), f64([1, 2]));
    expect(() => back(f64([1, 2, 3]))).toThrow("backward: the seed cotangent has shape [3] but the output has [2]");
    expect(() => backward(f64([1]), [], f64([1, 2]))).toThrow("backward: the seed cotangent has shape [2] but the output has [1]");
  });

  it("gradcheck refuses float32 inputs: it checks in float64", () => {
    expect(() => gradcheck((x) => mul(x!, 2), [zeros([2])])).toThrow("gradcheck: input 0 is float32; gradients are checked in float64 (cast it first)");
  });

  it("gradcheck refuses a function that computes in float32", () => {
    expect(() => gradcheck(() => ones([1]), [zeros([1], "float64")])).toThrow("gradcheck: f returned float32; it must compute in float64");
  });
});

describe("constructor and argument errors", () => {
  it("tensor refuses values that cannot fill the shape", () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow("tensor: 3 values cannot fill shape [2, 2] (needs 4)");
    expect(() => tensor([[1, 2], [3, 4]], [3])).toThrow("tensor: 4 values cannot fill shape [3]");
  });

  it("tensor refuses ragged nested arrays, naming the bad row", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow("tensor: ragged nested array at values[1]: expected 2 entries like the first row");
    expect(() => tensor([[1, 2], [3, [4]]] as never)).toThrow("tensor: expected a number at values[1][1], got object");
  });

  it("shapes must be non-negative integers", () => {
    expect(() => zeros([2, -1])).toThrow("full: invalid shape [2, -1]: every dimension must be a non-negative integer");
    expect(() => full([1.5], 0)).toThrow("full: invalid shape [1.5]");
    expect(() => random.uniform(random.key(0), [-1])).toThrow("uniform: invalid shape [-1]");
  });

  it("item refuses a tensor with more than one value", () => {
    expect(() => m23.item()).toThrow("item: tensor of shape [2, 3] has 6 values, not 1");
  });

  it("arange refuses a zero or non-finite step", () => {
    expect(() => arange(0, 5, 0)).toThrow("arange: step must be a finite non-zero number, got 0");
    expect(() => arange(0, 5, Infinity)).toThrow("arange: step must be a finite non-zero number, got Infinity");
  });

  it("pow refuses a non-finite exponent", () => {
    expect(() => pow(zeros([1]), NaN)).toThrow(new RangeError("pow: the exponent must be a finite number, got NaN"));
  });

  it("random refuses seeds that are not safe integers, n outside [1, 2^32], and p outside [0, 1]", () => {
    expect(() => random.key(1.5)).toThrow("key: the seed must be a safe integer, got 1.5");
    expect(() => new random.Rng(random.key(0)).nextInt(0)).toThrow("nextInt: n must be an integer in [1, 2^32], got 0");
    expect(() => random.bernoulli(random.key(0), 1.5, [2])).toThrow("bernoulli: p must be in [0, 1], got 1.5");
    expect(() => random.bernoulli(random.key(0), NaN, [2])).toThrow("bernoulli: p must be in [0, 1], got NaN");
  });

  it("shape errors are ShapeErrors, so callers can tell them from other failures", () => {
    expect(() => matmul(zeros([1, 2]), zeros([3, 1]))).toThrow(ShapeError);
    expect(() => add(zeros([2]), zeros([3]))).toThrow(ShapeError);
  });
});
