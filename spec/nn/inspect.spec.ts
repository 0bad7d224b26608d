import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/index.ts";
import { absQuantile, confidentMistakes, fractionNearZero, lowestRecall, meanAndStd, mostConfused, topIndices, unitNorms, unitWeights } from "../../src/nn/inspect.ts";
import { expectClose } from "./helpers.ts";

// Three classes; rows are the truth, columns the prediction.
const counts = [
  [50, 2, 7],
  [1, 40, 0],
  [9, 3, 30],
];

describe("mostConfused", () => {
  it("is the largest off-diagonal count: true 2 predicted as 0, 9 times", () => {
    expect(mostConfused(counts)).toEqual({ trueClass: 2, predicted: 0, count: 9 });
  });

  it("takes the first pair in row order on a tie, and gives a count of 0 when nothing is confused", () => {
    expect(mostConfused([[5, 3], [3, 5]])).toEqual({ trueClass: 0, predicted: 1, count: 3 });
    expect(mostConfused([[5, 0], [0, 5]])).toEqual({ trueClass: 0, predicted: 1, count: 0 });
  });

  it("refuses a matrix that is not square", () => {
    expect(() => mostConfused([[1, 2]])).toThrow(/expected a square, non-empty confusion matrix/);
  });
});

describe("lowestRecall", () => {
  it("is the class whose row has the smallest share on the diagonal: class 2, 30 of 42", () => {
    expect(lowestRecall(counts)).toEqual({ classIndex: 2, recall: 30 / 42, correct: 30, support: 42 });
  });
});

describe("fractionNearZero and meanAndStd", () => {
  it("count |v| < threshold, and give the population mean and standard deviation", () => {
    expect(fractionNearZero([0.001, -0.009, 0.01, -0.5], 0.01)).toBe(0.5);
    const { mean, std } = meanAndStd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(mean).toBe(5);
    expect(std).toBe(2);
  });
});

describe("unitWeights and unitNorms", () => {
  // A layer with 3 inputs and 2 units (y = x . W): unit j's weights are column j.
  const w = tensor([[1, 2], [3, -4], [0, 0.5]]);

  it("give each unit's incoming weights (a column of [inputs, units]) and their Euclidean norms", () => {
    expect(unitWeights(w).map((c) => Array.from(c))).toEqual([[1, 3, 0], [2, -4, 0.5]]);
    expectClose(unitNorms(w), [Math.sqrt(10), Math.sqrt(20.25)], 1e-15);
  });

  it("refuse a tensor that is not a matrix", () => {
    expect(() => unitNorms(tensor([1, 2]))).toThrow(/expected a weight matrix \[inputs, units\], got shape \[2\]/);
  });
});

describe("topIndices", () => {
  it("lists the indices of the k largest values, largest first, the lower index first on a tie", () => {
    expect(topIndices([0.5, 3, 1, 3, -2], 3)).toEqual([1, 3, 2]);
    expect(topIndices([1, 2], 5)).toEqual([1, 0]);
  });
});

describe("confidentMistakes", () => {
  it("lists the misclassified rows, surest wrong answer first", () => {
    const probabilities = tensor([
      [0.7, 0.2, 0.1], // label 0: right
      [0.6, 0.3, 0.1], // label 1: wrong (0, 0.6)
      [0.05, 0.05, 0.9], // label 0: wrong (2, 0.9)
      [0.2, 0.5, 0.3], // label 1: right
    ]);
    const mistakes = confidentMistakes(probabilities, [0, 1, 0, 1]);
    expect(mistakes.map(({ index, predicted }) => [index, predicted])).toEqual([[2, 2], [1, 0]]);
    expect(mistakes[0]!.confidence).toBeCloseTo(0.9, 6);
  });

  it("refuses a label count that does not match the rows", () => {
    expect(() => confidentMistakes(tensor([[1, 0]]), [0, 1])).toThrow(/2 labels for 1 rows/);
  });
});

describe("absQuantile", () => {
  it("is the smallest |v| with at least a fraction q of the values at or below it", () => {
    const values = Array.from({ length: 100 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1) / 100);
    expect(absQuantile(values, 0.99)).toBe(0.99);
    expect(absQuantile(values, 1)).toBe(1);
    expect(absQuantile(values, 0.5)).toBe(0.5);
    expect(absQuantile([], 0.5)).toBe(0);
    expect(() => absQuantile([1], 0)).toThrow(/quantile must be in \(0, 1\], got 0/);
  });
});

