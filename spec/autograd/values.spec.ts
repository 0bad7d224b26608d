// Small worked examples a reader can check by hand; the arithmetic is in the comments.

import { describe, expect, it } from "vitest";
import {
  abs, add, arange, argmax, cast, concat, div, exp, eye, full, gather, grad, log, logSumExp, matmul, max, maximum,
  mean, min, mul, ones, pow, relu, reshape, scalar, sigmoid, slice, sqrt, square, stopGradient, sub, sum, takeAlongAxis,
  tanh, tensor, transpose, valueAndGrad, where, zeros, type Tensor,
} from "../../src/autograd/index.ts";

const f64 = (values: Parameters<typeof tensor>[0], shape?: readonly number[]): Tensor => tensor(values, shape, "float64");
const values = (t: Tensor) => t.toArray();

describe("constructors", () => {
  it("tensor infers the shape of nested arrays and toArray gives them back", () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.rank).toBe(2);
    expect(t.size).toBe(6);
    expect(t.dtype).toBe("float32");
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it("tensor copies its source: changing the source later cannot reach the tensor", () => {
    const source = new Float64Array([1, 2, 3]);
    const t = tensor(source, [3], "float64");
    source[0] = 100;
    expect(values(t)).toEqual([1, 2, 3]);
  });

  it("tensor fills a given shape from flat values, and a number makes a scalar", () => {
    expect(values(tensor([1, 2, 3, 4, 5, 6], [3, 2]))).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(values(tensor([[1, 2], [3, 4]], [4]))).toEqual([1, 2, 3, 4]);
    expect(tensor(7).shape).toEqual([]);
    expect(tensor(7).item()).toBe(7);
    expect(tensor(new Float32Array([1, 2])).shape).toEqual([2]);
  });

  it("zeros, ones, full and scalar fill every entry with one value", () => {
    expect(values(zeros([2, 2]))).toEqual([[0, 0], [0, 0]]);
    expect(values(ones([3], "float64"))).toEqual([1, 1, 1]);
    expect(values(full([2], 2.5))).toEqual([2.5, 2.5]);
    expect(scalar(4, "float64").item()).toBe(4);
  });

  it("arange counts from start up to but excluding stop, like numpy", () => {
    expect(values(arange(4))).toEqual([0, 1, 2, 3]);
    expect(values(arange(1, 2, 0.25))).toEqual([1, 1.25, 1.5, 1.75]);
    expect(values(arange(3, 0, -1))).toEqual([3, 2, 1]);
  });

  it("eye is the identity: ones on the diagonal", () => {
    expect(values(eye(3))).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  });

  it("cast changes the dtype and keeps the values (float32 rounds 0.1)", () => {
    const t = cast(tensor([0.1, 2], [2], "float64"), "float32");
    expect(t.dtype).toBe("float32");
    expect(t.data[0]).toBe(Math.fround(0.1));
    expect(t.data[1]).toBe(2);
  });

  it("prints its shape and dtype, and the op that made it when tracked", () => {
    expect(String(tensor([[1, 2]]))).toBe("Tensor([1, 2], float32)");
    const g = grad((x: Tensor) => {
      expect(String(mul(x, 2))).toBe("Tensor([2], float64, op=mul)");
      return sum(x);
    });
    g(f64([1, 2]));
  });
});

describe("elementwise ops by hand", () => {
  it("adding a row to a matrix adds it to every row: [[1,2],[3,4]] + [10,20] = [[11,22],[13,24]]", () => {
    expect(values(add(tensor([[1, 2], [3, 4]]), tensor([10, 20])))).toEqual([[11, 22], [13, 24]]);
  });

  it("a column broadcasts across columns: [[1],[2]] * [3,4] = [[3,4],[6,8]]", () => {
    expect(values(mul(tensor([[1], [2]]), tensor([3, 4])))).toEqual([[3, 4], [6, 8]]);
  });

  it("numbers act as scalars: 10 - [1,2] = [9,8] and [1,2] / 4 = [0.25,0.5]", () => {
    expect(values(sub(10, tensor([1, 2])))).toEqual([9, 8]);
    expect(values(div(tensor([1, 2]), 4))).toEqual([0.25, 0.5]);
  });

  it("maximum, relu and abs: max(-1,2)=2, relu([-1,0,3])=[0,0,3], |-2|=2", () => {
    expect(values(maximum(tensor([-1, 5]), tensor([2, 3])))).toEqual([2, 5]);
    expect(values(relu(tensor([-1, 0, 3])))).toEqual([0, 0, 3]);
    expect(values(abs(tensor([-2, 0, 2])))).toEqual([2, 0, 2]);
  });

  it("where picks a where the condition is non-zero: where([1,0,1], [1,2,3], [7,8,9]) = [1,8,3]", () => {
    expect(values(where(tensor([1, 0, 1]), tensor([1, 2, 3]), tensor([7, 8, 9])))).toEqual([1, 8, 3]);
    expect(values(where(tensor([0, 1]), 5, 6))).toEqual([6, 5]);
    expect(values(where(tensor([0, 1]), 5, tensor([7, 8])))).toEqual([7, 5]);
  });

  it("exp, log, sqrt, pow and square: e^0 = 1, log e = 1, sqrt 9 = 3, 2^3 = 8, 4^0.5 = 2, 3^2 = 9", () => {
    expect(values(exp(f64([0])))).toEqual([1]);
    expect(values(log(f64([Math.E])))).toEqual([1]);
    expect(values(sqrt(f64([9])))).toEqual([3]);
    expect(values(pow(f64([2, 4]), 3))).toEqual([8, 64]);
    expect(values(pow(f64([4]), 0.5))).toEqual([2]);
    expect(values(square(f64([3, -3])))).toEqual([9, 9]);
  });

  it("sigmoid(0) = 1/2 and tanh(0) = 0; sigmoid stays finite and exact at +-1000", () => {
    expect(values(sigmoid(f64([0, 1000, -1000])))).toEqual([0.5, 1, 0]);
    expect(values(tanh(f64([0])))).toEqual([0]);
    expect(sigmoid(f64([Math.log(3)])).item()).toBeCloseTo(0.75, 15); // 1 / (1 + 1/3)
  });
});

describe("reductions by hand", () => {
  const m = f64([[1, 2, 3], [4, 5, 6]]);

  it("sum over axis 0 adds the rows: [1+4, 2+5, 3+6] = [5, 7, 9]", () => {
    expect(values(sum(m, 0))).toEqual([5, 7, 9]);
  });

  it("sum over axis 1 adds along each row: [1+2+3, 4+5+6] = [6, 15], or [[6], [15]] with keepDims", () => {
    expect(values(sum(m, 1))).toEqual([6, 15]);
    expect(values(sum(m, -1, true))).toEqual([[6], [15]]);
  });

  it("sum over all axes is 21, and mean is 21 / 6 = 3.5", () => {
    expect(sum(m).item()).toBe(21);
    expect(mean(m).item()).toBe(3.5);
    expect(values(mean(m, 0))).toEqual([2.5, 3.5, 4.5]);
  });

  it("max and min pick the extremes: max over rows [3, 6], min over columns [1, 2, 3]", () => {
    expect(values(max(m, 1))).toEqual([3, 6]);
    expect(values(min(m, 0))).toEqual([1, 2, 3]);
    expect(max(m, [0, 1]).item()).toBe(6);
  });

  it("logSumExp([0, log 3]) = log(1 + 3) = log 4", () => {
    expect(logSumExp(f64([0, Math.log(3)])).item()).toBeCloseTo(Math.log(4), 15);
  });

  it("logSumExp of [1000, 1000] is 1000 + log 2, with no overflow", () => {
    expect(logSumExp(f64([1000, 1000])).item()).toBeCloseTo(1000 + Math.LN2, 10);
  });

  it("logSumExp of a row of -Infinity is -Infinity, not NaN, and other rows are unaffected", () => {
    expect(logSumExp(f64([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(values(logSumExp(f64([[-Infinity, -Infinity], [0, 0]]), 1))).toEqual([-Infinity, Math.LN2]);
  });

  it("argmax gives the index of the largest entry, the first among ties, as int32", () => {
    expect(argmax(f64([[1, 9, 3], [7, 7, 0]])).dtype).toBe("int32");
    expect(Array.from(argmax(f64([[1, 9, 3], [7, 7, 0]])).data)).toEqual([1, 0]);
    expect(Array.from(argmax(f64([[1, 9, 3], [7, 7, 0]]), 0).data)).toEqual([1, 0, 0]);
  });
});

describe("movement ops by hand", () => {
  const m = f64([[1, 2, 3], [4, 5, 6]]);

  it("reshape keeps the row-major order: [[1,2,3],[4,5,6]] -> [[1,2],[3,4],[5,6]]; -1 is inferred", () => {
    expect(values(reshape(m, [3, 2]))).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(reshape(m, [-1]).shape).toEqual([6]);
  });

  it("transpose swaps rows and columns: [[1,4],[2,5],[3,6]]", () => {
    expect(values(transpose(m))).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(transpose(f64([[[1, 2]]]), [2, 0, 1]).shape).toEqual([2, 1, 1]);
  });

  it("slice takes [start, end) per axis, negative bounds counting from the end", () => {
    expect(values(slice(m, [0, 1], [2, 3]))).toEqual([[2, 3], [5, 6]]);
    expect(values(slice(m, [-1]))).toEqual([[4, 5, 6]]);
    expect(values(slice(m, [0, -2], [1, -1]))).toEqual([[2]]);
  });

  it("concat joins along an axis: rows for axis 0, columns for axis 1", () => {
    expect(values(concat([m, f64([[7, 8, 9]])], 0))).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expect(values(concat([m, f64([[0], [0]])], -1))).toEqual([[1, 2, 3, 0], [4, 5, 6, 0]]);
    expect(concat([m])).toBe(m);
  });

  it("gather picks whole rows, repeats allowed: rows [1, 0, 1]", () => {
    expect(values(gather(m, [1, 0, 1]))).toEqual([[4, 5, 6], [1, 2, 3], [4, 5, 6]]);
    expect(values(gather(m, [2], 1))).toEqual([[3], [6]]);
  });

  it("takeAlongAxis picks each row's labelled entry: logits [[1,2,3],[4,5,6]], labels [2, 0] -> [3, 4]", () => {
    expect(values(takeAlongAxis(m, [2, 0]))).toEqual([3, 4]);
    expect(values(takeAlongAxis(m, [1, 0, 1], 0))).toEqual([4, 2, 6]);
  });
});

describe("matmul by hand", () => {
  it("[[1,2],[3,4]] . [[5,6],[7,8]] = [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]] = [[19,22],[43,50]]", () => {
    expect(values(matmul(f64([[1, 2], [3, 4]]), f64([[5, 6], [7, 8]])))).toEqual([[19, 22], [43, 50]]);
  });

  it("multiplying by the identity changes nothing", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(values(matmul(a, eye(3)))).toEqual(values(a));
  });

  it("a batch of two products: [[[1,2]],[[3,4]]] . [[[1],[1]],[[2],[0]]] = [[[3]],[[6]]]", () => {
    expect(values(matmul(f64([[[1, 2]], [[3, 4]]]), f64([[[1], [1]], [[2], [0]]])))).toEqual([[[3]], [[6]]]);
  });
});

describe("gradients by hand", () => {
  it("d/dx sum(x^2) = 2x: at [1, 2, 3] it is [2, 4, 6]", () => {
    expect(values(grad((x: Tensor) => sum(square(x)))(f64([1, 2, 3])))).toEqual([2, 4, 6]);
  });

  it("d/dx x^3 at 2 is 3 * 2^2 = 12, and d/dx sqrt(x) at 4 is 1 / (2 * 2) = 0.25", () => {
    expect(grad((x: Tensor) => sum(pow(x, 3)))(f64([2])).item()).toBe(12);
    expect(grad((x: Tensor) => sum(sqrt(x)))(f64([4])).item()).toBe(0.25);
  });

  it("sigmoid'(0) = s(1 - s) = 1/2 * 1/2 = 1/4, tanh'(0) = 1 - 0^2 = 1", () => {
    expect(grad((x: Tensor) => sum(sigmoid(x)))(f64([0])).item()).toBe(0.25);
    expect(grad((x: Tensor) => sum(tanh(x)))(f64([0])).item()).toBe(1);
  });

  it("d/dx log x = 1/x: at [1, 2, 4] it is [1, 0.5, 0.25]; d/dx e^x at 0 is 1", () => {
    expect(values(grad((x: Tensor) => sum(log(x)))(f64([1, 2, 4])))).toEqual([1, 0.5, 0.25]);
    expect(grad((x: Tensor) => sum(exp(x)))(f64([0])).item()).toBe(1);
  });

  it("d(a/b) = (1/b, -a/b^2): at a = 3, b = 2 it is (0.5, -0.75)", () => {
    const g = grad(({ a, b }: { a: Tensor; b: Tensor }) => sum(div(a, b)))({ a: f64([3]), b: f64([2]) });
    expect([g.a.item(), g.b.item()]).toEqual([0.5, -0.75]);
  });

  it("relu and abs pass the gradient by sign, and 0 at exactly 0: relu' [-1,0,2] = [0,0,1], abs' = [-1,0,1]", () => {
    expect(values(grad((x: Tensor) => sum(relu(x)))(f64([-1, 0, 2])))).toEqual([0, 0, 1]);
    expect(values(grad((x: Tensor) => sum(abs(x)))(f64([-1, 0, 2])))).toEqual([-1, 0, 1]);
  });

  it("max sends the whole gradient to the largest entry: max([1, 5, 3]) has gradient [0, 1, 0]", () => {
    expect(values(grad((x: Tensor) => max(x))(f64([1, 5, 3])))).toEqual([0, 1, 0]);
  });

  it("max among ties sends the gradient to the first: max([2, 7, 7]) has gradient [0, 1, 0]", () => {
    expect(values(grad((x: Tensor) => max(x))(f64([2, 7, 7])))).toEqual([0, 1, 0]);
  });

  it("maximum splits the gradient evenly at a tie: maximum(2, 2) gives 1/2 to each side", () => {
    const g = grad(({ a, b }: { a: Tensor; b: Tensor }) => sum(maximum(a, b)))({ a: f64([2, 3]), b: f64([2, 1]) });
    expect(values(g.a)).toEqual([0.5, 1]);
    expect(values(g.b)).toEqual([0.5, 0]);
  });

  it("where routes the gradient to the branch it picked and none to the condition", () => {
    const g = grad(({ a, b }: { a: Tensor; b: Tensor }) => sum(where(f64([1, 0]), a, b)))({ a: f64([5, 5]), b: f64([6, 6]) });
    expect(values(g.a)).toEqual([1, 0]);
    expect(values(g.b)).toEqual([0, 1]);
  });

  it("mean over n entries gives each a gradient of 1/n: [0.25, 0.25, 0.25, 0.25]", () => {
    expect(values(grad((x: Tensor) => mean(x))(f64([1, 2, 3, 4])))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it("a broadcast bias collects one gradient per row it was added to: 3 rows give [3, 3]", () => {
    const g = grad((b: Tensor) => sum(add(zeros([3, 2], "float64"), b)))(f64([0, 0]));
    expect(values(g)).toEqual([3, 3]);
  });

  it("gather's gradient counts how often each row was picked: rows [2, 0, 2] give [1, 0, 2]", () => {
    const g = grad((x: Tensor) => sum(gather(x, [2, 0, 2])))(f64([10, 20, 30]));
    expect(values(g)).toEqual([1, 0, 2]);
  });

  it("logSumExp's gradient is softmax: at [0, log 3] it is [1/4, 3/4]", () => {
    const g = grad((x: Tensor) => logSumExp(x))(f64([0, Math.log(3)]));
    expect(g.data[0]).toBeCloseTo(0.25, 15);
    expect(g.data[1]).toBeCloseTo(0.75, 15);
  });

  it("matmul's gradient: d sum(A B) / dA = 1 B^T, so each row of A gets the row sums of B", () => {
    const b = f64([[1, 2], [3, 4]]);
    const g = grad((a: Tensor) => sum(matmul(a, b)))(f64([[0, 0]]));
    expect(values(g)).toEqual([[3, 7]]); // [1+2, 3+4]
  });

  it("concat hands each input its own slice of the gradient, and none to a constant", () => {
    const g = grad((x: Tensor) => sum(mul(concat([x, f64([5])]), f64([1, 2, 3]))))(f64([0, 0]));
    expect(values(g)).toEqual([1, 2]);
  });

  it("stopGradient blocks the gradient: d/dx (stopGradient(x) * x) = x, not 2x", () => {
    const { value, grads } = valueAndGrad((x: Tensor) => sum(mul(stopGradient(x), x)))(f64([3]));
    expect(value.item()).toBe(9);
    expect(grads.item()).toBe(3);
  });
});
