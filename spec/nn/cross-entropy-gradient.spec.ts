// The gradient of cross-entropy with respect to the logits, (softmax(z) - oneHot(y)) / B, derived in
// steps, each checked against the engine on random logits:
//
//   CE(z, y) = (1/B) sum_b -log softmax(z_b)[y_b] = (1/B) sum_b (logSumExp(z_b) - z_b[y_b])     (1)
//   d logSumExp(z) / dz_j = e^z_j / sum_k e^z_k = softmax(z)_j                                  (2)
//   d z[y] / dz_j = [j = y], which is oneHot(y)_j: takeAlongAxis routes the gradient to the label (3)
//   d (1/B) sum_b f_b / d f_b = 1/B                                                              (4)
//   so dCE/dz_b = (softmax(z_b) - oneHot(y_b)) / B                                               (2)-(3), times (4)

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad, log, logSumExp, mean, sum, takeAlongAxis, valueAndGrad, type Tensor } from "../../src/autograd/index.ts";
import { crossEntropy, oneHot, softmax, softmaxCrossEntropy } from "../../src/nn/index.ts";
import { logitsAndLabels } from "../../src/testing/index.ts";
import { expectClose, rows } from "./helpers.ts";

// Logits up to +-30: every probability stays above e^-60, so log softmax is accurate too.
const cases = logitsAndLabels({ scale: 30, maxBatch: 6, maxClasses: 8 });
const gradient = (f: (z: Tensor) => Tensor, z: Tensor): Float64Array => grad(f)(z).data as Float64Array;

describe("the gradient of cross-entropy with respect to the logits, derived in four steps", () => {
  it("step 1: cross-entropy is the batch mean of logSumExp(z) - z[y], because -log softmax(z)[y] = -(z[y] - logSumExp(z))", () => {
    fc.assert(
      fc.property(cases, ({ logits, labels }) => {
        const perExample = Array.from(logSumExp(logits, -1).data, (l, b) => l - takeAlongAxis(logits, labels, -1).data[b]!);
        const negLogP = Array.from(takeAlongAxis(log(softmax(logits)), labels, -1).data, (v) => -v);
        expectClose(perExample, negLogP, 1e-12);
        expect(crossEntropy(logits, labels).item()).toBeCloseTo(perExample.reduce((s, v) => s + v, 0) / labels.length, 12);
      }),
    );
  });

  it("step 2: the gradient of logSumExp(z) is softmax(z): d/dz_j log sum_k e^z_k = e^z_j / sum_k e^z_k", () => {
    fc.assert(
      fc.property(cases, ({ logits }) => {
        expectClose(gradient((z) => sum(logSumExp(z, -1)), logits), softmax(logits).data, 1e-12);
      }),
    );
  });

  it("step 3: picking z[y] with takeAlongAxis routes the gradient to the label and nowhere else: d z[y] / dz = oneHot(y)", () => {
    fc.assert(
      fc.property(cases, ({ logits, labels, classes }) => {
        expect(Array.from(gradient((z) => sum(takeAlongAxis(z, labels, -1)), logits))).toEqual(Array.from(oneHot(labels, classes, "float64").data));
      }),
    );
  });

  it("step 4: the mean over a batch of B gives every example's term the weight 1/B", () => {
    fc.assert(
      fc.property(cases, ({ logits, batch }) => {
        expect(Array.from(gradient((z) => mean(logSumExp(z, -1)), logits))).toEqual(
          Array.from(gradient((z) => sum(logSumExp(z, -1)), logits), (g) => expect.closeTo(g / batch, 14)),
        );
      }),
    );
  });

  it("so dCE/dz = (softmax(z) - oneHot(y)) / B, steps 2 and 3 subtracted and scaled by step 4: what the engine derives from the composition", () => {
    fc.assert(
      fc.property(cases, ({ logits, labels, batch }) => {
        const step2 = gradient((z) => sum(logSumExp(z, -1)), logits);
        const step3 = gradient((z) => sum(takeAlongAxis(z, labels, -1)), logits);
        const derived = Array.from(step2, (s, i) => (s - step3[i]!) / batch);
        expectClose(gradient((z) => crossEntropy(z, labels), logits), derived, 1e-12);
      }),
    );
  });

  it("the other route gives the same: dCE/dp_y = -1/p_y, times the softmax Jacobian diag(p) - p p^T, is p - oneHot(y)", () => {
    fc.assert(
      fc.property(cases, ({ logits, labels }) => {
        for (const [b, p] of rows(softmax(logits)).entries()) {
          const y = labels[b]!;
          // row y of the Jacobian: d p_y / dz_j = p_y ([j = y] - p_j)
          const chained = p.map((pj, j) => (-1 / p[y]!) * p[y]! * ((j === y ? 1 : 0) - pj));
          expectClose(chained, p.map((pj, j) => pj - (j === y ? 1 : 0)), 1e-12);
        }
      }),
    );
  });

  it("and it is what the fused softmaxCrossEntropy computes directly, for logits up to +-1e4", () => {
    fc.assert(
      fc.property(logitsAndLabels({ scale: 1e4, maxBatch: 6, maxClasses: 8 }), ({ logits, labels, batch, classes }) => {
        const p = softmax(logits).data;
        const y = oneHot(labels, classes, "float64").data;
        expectClose(gradient((z) => softmaxCrossEntropy(z, labels), logits), Array.from(p, (pi, i) => (pi - y[i]!) / batch), 1e-12);
      }),
    );
  });

  it("its every row sums to 0 and lies in [-1/B, 1/B]: probability is moved from the wrong classes to the right one, never created", () => {
    fc.assert(
      fc.property(cases, ({ logits, labels, batch }) => {
        const { grads } = valueAndGrad((z: Tensor) => crossEntropy(z, labels))(logits);
        for (const row of rows(grads)) {
          expect(Math.abs(row.reduce((s, g) => s + g, 0))).toBeLessThanOrEqual(1e-12);
          for (const g of row) expect(Math.abs(g)).toBeLessThanOrEqual(1 / batch + 1e-15);
        }
      }),
    );
  });
});
