import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/index.ts";
import { accuracy, confusionMatrix, precisionRecall, predictions } from "../../src/nn/index.ts";
import { labels as labelsOf } from "../../src/testing/index.ts";

// Three classes, six examples: truth and predictions.
const truth = [0, 0, 1, 1, 2, 2];
const guess = [0, 1, 1, 1, 2, 0];

describe("accuracy", () => {
  it("is the fraction of predictions equal to the label: 4 of 6", () => {
    expect(accuracy(guess, truth)).toBeCloseTo(4 / 6, 15);
  });

  it("takes logits and predicts each row's arg-max", () => {
    const logits = tensor([[2, 1, 0], [0, 3, 1], [5, 5, 1]]); // arg-max 0, 1, and 0 (the first of a tie)
    expect(Array.from(predictions(logits))).toEqual([0, 1, 0]);
    expect(accuracy(logits, [0, 1, 1])).toBeCloseTo(2 / 3, 15);
    expect(accuracy(tensor([2, 1]), [2, 0])).toBe(0.5); // a rank-1 tensor holds predictions
  });

  it("refuses a count mismatch and tensors that are neither logits nor predictions", () => {
    expect(() => accuracy([0, 1], [0])).toThrow(/accuracy: 2 predictions for 1 labels/);
    expect(() => accuracy(tensor([[[1]]]), [0])).toThrow(/expected logits \[batch, classes\] or class indices \[batch\]/);
  });
});

describe("confusionMatrix", () => {
  it("counts truth by row and prediction by column", () => {
    expect(confusionMatrix(guess, truth, 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
  });

  it("sums to the number of examples, has row sums equal to each class's count, and a diagonal that gives the accuracy", () => {
    const cases = fc
      .tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 6 }))
      .chain(([n, c]) => fc.tuple(labelsOf(n, c), labelsOf(n, c), fc.constant(c)));
    fc.assert(
      fc.property(cases, ([predicted, actual, classes]) => {
        const m = confusionMatrix(predicted, actual, classes);
        expect(m.flat().reduce((s, x) => s + x, 0)).toBe(actual.length);
        m.forEach((row, c) => expect(row.reduce((s, x) => s + x, 0)).toBe(actual.filter((y) => y === c).length));
        expect(m.reduce((s, row, c) => s + row[c]!, 0) / actual.length).toBeCloseTo(accuracy(predicted, actual), 15);
      }),
    );
  });

  it("refuses labels or predictions outside the classes", () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/confusionMatrix \(predictions\): label 3 at position 1 is out of range/);
    expect(() => confusionMatrix([0, 1], [0, -1], 3)).toThrow(/confusionMatrix: label -1 at position 1 is out of range/);
    expect(() => confusionMatrix([0], [0], 0)).toThrow(/classes must be a positive integer/);
  });
});

describe("precisionRecall", () => {
  it("gives per class precision = correct / predicted (a column) and recall = correct / true (a row)", () => {
    const { precision, recall, support } = precisionRecall(confusionMatrix(guess, truth, 3));
    // columns sum to 2, 3, 1; rows to 2, 2, 2; the diagonal is 1, 2, 1
    expect(precision).toEqual([1 / 2, 2 / 3, 1]);
    expect(recall).toEqual([1 / 2, 1, 1 / 2]);
    expect(support).toEqual([2, 2, 2]);
  });

  it("reports 0, not 0/0, for a class that is never predicted or never present", () => {
    const { precision, recall } = precisionRecall(confusionMatrix([0, 0], [0, 1], 3));
    expect(precision).toEqual([0.5, 0, 0]);
    expect(recall).toEqual([1, 0, 0]);
  });
});
