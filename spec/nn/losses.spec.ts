import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { argmax, gradcheck, mul, sigmoid, tensor, valueAndGrad, type Tensor } from "../../src/autograd/index.ts";
import { crossEntropy, logSoftmax, oneHot, softmax, softmaxCrossEntropy } from "../../src/nn/index.ts";
import { labels as labelsOf, logitsAndLabels, tensorOfShape } from "../../src/testing/index.ts";
import { expectClose, rows } from "./helpers.ts";

// Logits anywhere in [-1e4, 1e4]: far beyond where a naive e^z overflows (z > 709).
const wide = logitsAndLabels({ scale: 1e4, maxBatch: 6, maxClasses: 8 });
// Logits whose probabilities never underflow, for identities that take log(softmax).
const moderate = logitsAndLabels({ scale: 30, maxBatch: 6, maxClasses: 8 });
const small = logitsAndLabels({ scale: 10, maxBatch: 4, maxClasses: 5 });

/** logSumExp of a row, worked out in plain double arithmetic: m + log sum e^(z - m). */
const lse = (row: readonly number[]): number => {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0));
};

describe("softmax", () => {
  it("gives entries in [0, 1] whose largest is at least 1/classes (never 0), for any finite logits up to ±1e4", () => {
    fc.assert(
      fc.property(wide, ({ logits, classes }) => {
        for (const row of rows(softmax(logits))) {
          for (const p of row) expect(p >= 0 && p <= 1).toBe(true);
          // NOTE: a smaller entry may underflow to exactly 0 when its logit is ~745 below the max.
          expect(Math.max(...row)).toBeGreaterThanOrEqual(1 / classes - 1e-15);
        }
      }),
    );
  });

  it("gives rows that sum to one within 1e-6", () => {
    fc.assert(
      fc.property(wide, ({ logits }) => {
        for (const row of rows(softmax(logits))) expect(Math.abs(row.reduce((s, p) => s + p, 0) - 1)).toBeLessThanOrEqual(1e-6);
      }),
    );
    fc.assert(
      fc.property(logitsAndLabels({ scale: 1e4, maxBatch: 6, maxClasses: 8, dtype: "float32" }), ({ logits }) => {
        for (const row of rows(softmax(logits))) expect(Math.abs(row.reduce((s, p) => s + p, 0) - 1)).toBeLessThanOrEqual(1e-6);
      }),
    );
  });

  it("is unchanged by adding a constant to a row: softmax(z + c) = softmax(z)", () => {
    fc.assert(
      fc.property(wide, fc.double({ min: -1e4, max: 1e4, noNaN: true }), ({ logits }, c) => {
        const shifted = tensor(Array.from(logits.data, (z) => z + c), logits.shape, "float64");
        expectClose(softmax(shifted).data, softmax(logits).data, 1e-9);
      }),
    );
  });

  it("keeps the order of the logits (z_i <= z_j gives p_i <= p_j), so the arg-max logit has the largest probability", () => {
    fc.assert(
      fc.property(wide, ({ logits }) => {
        const zs = rows(logits);
        const ps = rows(softmax(logits));
        const best = argmax(logits).data;
        zs.forEach((z, b) => {
          const p = ps[b]!;
          for (let i = 0; i < z.length; i++) for (let j = 0; j < z.length; j++) if (z[i]! <= z[j]!) expect(p[i]!).toBeLessThanOrEqual(p[j]!);
          expect(p[best[b]!]).toBe(Math.max(...p));
        });
      }),
    );
  });

  it("approaches one-hot on the arg-max as the logits are scaled up", () => {
    fc.assert(
      fc.property(wide, ({ logits, classes }) => {
        // Give each row a unique maximum, at least 1 above the rest.
        const best = argmax(logits).data;
        const z = Float64Array.from(logits.data);
        best.forEach((j, b) => (z[b * classes + j] = z[b * classes + j]! + 1));
        const scaled = (t: number) => softmax(tensor(z.map((v) => v * t), logits.shape, "float64"));
        const peak = (p: Tensor) => rows(p).map((row, b) => row[best[b]!]!);
        let previous = peak(scaled(1));
        for (const t of [2, 10, 100]) {
          const next = peak(scaled(t));
          next.forEach((p, b) => expect(p).toBeGreaterThanOrEqual(previous[b]! - 1e-12)); // the peak only grows
          previous = next;
        }
        // With gap * t = 1000, every other e^(z - m) underflows: the rows are exactly one-hot.
        expect(Array.from(scaled(1000).data)).toEqual(Array.from(oneHot(best, classes, "float64").data));
      }),
    );
  });

  it("of [1000, 1001, 1002] is finite and equals softmax of [0, 1, 2] = [0.0900, 0.2447, 0.6652]", () => {
    const big = softmax(tensor([[1000, 1001, 1002]]));
    const small = softmax(tensor([[0, 1, 2]]));
    expect(Array.from(big.data).every(Number.isFinite)).toBe(true);
    expect(Array.from(big.data)).toEqual(Array.from(small.data));
    expectClose(big.data, [0.09003057, 0.24472847, 0.66524096], 1e-6);
  });

  it("with two classes equals the sigmoid of the logit difference: softmax([a, b])_1 = sigmoid(b - a)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }).chain((n) => tensorOfShape([n, 2], { min: -1e4, max: 1e4 })), (logits) => {
        const diff = tensor(rows(logits).map(([a, b]) => b! - a!), undefined, "float64");
        expectClose(rows(softmax(logits)).map((r) => r[1]!), sigmoid(diff).data, 1e-12);
      }),
    );
  });
});

describe("logSoftmax", () => {
  it("exponentiates to softmax: exp(logSoftmax(z)) = softmax(z)", () => {
    fc.assert(
      fc.property(wide, ({ logits }) => {
        expectClose(Array.from(logSoftmax(logits).data, Math.exp), softmax(logits).data, 1e-10);
      }),
    );
  });

  it("is never positive: log of a probability", () => {
    fc.assert(
      fc.property(wide, ({ logits }) => {
        for (const v of logSoftmax(logits).data) expect(v).toBeLessThanOrEqual(0);
      }),
    );
  });

  it("stays finite where softmax underflows to 0: logSoftmax([0, 1e4]) = [-1e4, 0]", () => {
    const z = tensor([[0, 1e4]], undefined, "float64");
    expect(softmax(z).data[0]).toBe(0);
    expect(Array.from(logSoftmax(z).data)).toEqual([-1e4, 0]);
  });
});

describe("crossEntropy", () => {
  it("is never negative, and finite for logits up to ±1e4", () => {
    fc.assert(
      fc.property(wide, ({ logits, labels }) => {
        const loss = crossEntropy(logits, labels).item();
        expect(Number.isFinite(loss)).toBe(true);
        expect(loss).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("equals the batch mean of logSumExp(z) - z[y]", () => {
    fc.assert(
      fc.property(wide, ({ logits, labels, batch }) => {
        const expected = rows(logits).reduce((s, row, b) => s + lse(row) - row[labels[b]!]!, 0) / batch;
        expectClose([crossEntropy(logits, labels).item()], [expected], 1e-12);
      }),
    );
  });

  it("equals the batch mean of -log softmax(z)[y] (wherever that probability does not underflow)", () => {
    fc.assert(
      fc.property(moderate, ({ logits, labels, batch }) => {
        const expected = rows(softmax(logits)).reduce((s, p, b) => s - Math.log(p[labels[b]!]!), 0) / batch;
        expectClose([crossEntropy(logits, labels).item()], [expected], 1e-10);
      }),
    );
  });

  it("is -log(0.9) = 0.105 when the true class has probability 0.9", () => {
    const logits = tensor([[Math.log(0.9), Math.log(0.1)]], undefined, "float64");
    expect(crossEntropy(logits, [0]).item()).toBeCloseTo(0.10536, 5);
    expect(crossEntropy(logits, [0]).item()).toBeCloseTo(0.105, 3);
  });

  it("is 0 only in the limit of a confident correct answer: log(1 + e^-t) for logits [0, t] and label 1", () => {
    let previous = Infinity;
    for (const t of [0, 1, 5, 10, 20]) {
      const loss = crossEntropy(tensor([[0, t]], undefined, "float64"), [1]).item();
      expect(loss).toBeGreaterThan(0);
      expect(loss).toBeLessThan(previous);
      expectClose([loss], [Math.log1p(Math.exp(-t))], 1e-6);
      previous = loss;
    }
    // NOTE: in float64, 1 + e^-40 rounds to 1, so the computed loss reaches 0 at about t = 37.
    expect(crossEntropy(tensor([[0, 40]], undefined, "float64"), [1]).item()).toBe(0);
    // A confident wrong answer costs about t.
    expect(crossEntropy(tensor([[0, 40]], undefined, "float64"), [0]).item()).toBeCloseTo(40, 10);
  });

  // Its gradient, (softmax(z) - oneHot(y)) / batch, is derived step by step in cross-entropy-gradient.spec.ts.

  it("passes gradcheck in float64", () => {
    fc.assert(
      fc.property(small, ({ logits, labels }) => {
        const result = gradcheck((z) => crossEntropy(z, labels), [logits]);
        expect(result.ok, result.message).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("throws clearly on a label out of range, a non-integer label, or a label count that does not match the batch", () => {
    const z = tensor([[1, 2, 3]]);
    expect(() => crossEntropy(z, [3])).toThrow(/label 3 at position 0 is out of range for 3 classes/);
    expect(() => crossEntropy(z, [0.5])).toThrow(/label 0.5 at position 0 is not an integer/);
    expect(() => crossEntropy(z, [0, 1])).toThrow(/2 labels for a batch of 1/);
    expect(() => crossEntropy(tensor([1, 2, 3]), [0])).toThrow(/expected logits of shape \[batch, classes\]/);
  });
});

describe("softmaxCrossEntropy (the fused op)", () => {
  it("has the same value as the composition crossEntropy for any finite logits", () => {
    fc.assert(
      fc.property(wide, ({ logits, labels }) => {
        expectClose([softmaxCrossEntropy(logits, labels).item()], [crossEntropy(logits, labels).item()], 1e-12);
      }),
    );
  });

  it("has the same value in float32, to float32 precision", () => {
    fc.assert(
      fc.property(logitsAndLabels({ scale: 10, maxBatch: 6, maxClasses: 8, dtype: "float32" }), ({ logits, labels }) => {
        const fused = softmaxCrossEntropy(logits, labels);
        expect(fused.dtype).toBe("float32");
        expectClose([fused.item()], [crossEntropy(logits, labels).item()], 1e-5);
      }),
    );
  });

  it("has the same gradient as the composition: (softmax(z) - oneHot(y)) / batch", () => {
    fc.assert(
      fc.property(wide, ({ logits, labels }) => {
        const fused = valueAndGrad((z: Tensor) => softmaxCrossEntropy(z, labels))(logits).grads;
        const composed = valueAndGrad((z: Tensor) => crossEntropy(z, labels))(logits).grads;
        expectClose(fused.data, composed.data, 1e-12);
      }),
    );
  });

  it("passes gradcheck in float64, also scaled inside a larger expression", () => {
    fc.assert(
      fc.property(small, ({ logits, labels }) => {
        const result = gradcheck((z) => mul(softmaxCrossEntropy(z, labels), 2.5), [logits]);
        expect(result.ok, result.message).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("throws the same clear errors on bad labels", () => {
    expect(() => softmaxCrossEntropy(tensor([[1, 2]]), [2])).toThrow(/label 2 at position 0 is out of range for 2 classes/);
    expect(() => softmaxCrossEntropy(tensor([[1, 2]]), [Number.NaN])).toThrow(/not an integer/);
    expect(() => softmaxCrossEntropy(tensor([[1, 2]]), [])).toThrow(/0 labels for a batch of 1/);
  });
});

describe("oneHot", () => {
  const batchAndClasses = fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 12 }));

  it("has rows that sum to one, with the 1 at the label: argmax(oneHot(y)) = y", () => {
    fc.assert(
      fc.property(batchAndClasses.chain(([n, c]) => fc.tuple(labelsOf(n, c), fc.constant(c))), ([ys, classes]) => {
        const t = oneHot(ys, classes);
        expect(t.shape).toEqual([ys.length, classes]);
        for (const row of rows(t)) expect(row.reduce((s, v) => s + v, 0)).toBe(1);
        expect(Array.from(argmax(t).data)).toEqual(ys);
      }),
    );
  });

  it("throws clearly on a label outside [0, classes)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1000 }), fc.boolean(), (classes, k, below) => {
        const bad = below ? -1 - k : classes + k;
        expect(() => oneHot([0, bad], classes)).toThrow(new RegExp(`label ${bad} at position 1 is out of range for ${classes} classes`));
      }),
    );
  });

  it("throws clearly on a label that is not an integer", () => {
    fc.assert(
      fc.property(fc.integer({ min: -20, max: 19 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (k, fraction) => {
        const bad = k + fraction; // strictly between two integers
        expect(() => oneHot([bad], 20)).toThrow(/is not an integer class index/);
      }),
    );
    expect(() => oneHot([Number.POSITIVE_INFINITY], 3)).toThrow(/not an integer/);
    expect(() => oneHot([0], 0)).toThrow(/classes must be a positive integer/);
  });

  it("is float32 by default and float64 on request", () => {
    expect(oneHot([1], 2).dtype).toBe("float32");
    expect(oneHot([1], 2, "float64").toArray()).toEqual([[0, 1]]);
  });
});
