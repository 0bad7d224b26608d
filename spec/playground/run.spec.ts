// The playground's training run, in Node (the worker only schedules it): settings it cannot use are
// refused in words, and a run stops with a message when its loss is not finite, updating nothing.

import { describe, expect, it } from "vitest";
import { add, full, random, tensor } from "../../src/autograd/index.ts";
import { trainConfigProblem, type TrainConfig } from "../../src/apps/playground/protocol.ts";
import { finiteParams, newRun, trainStep } from "../../src/apps/playground/run.ts";

const config: TrainConfig = { dataset: "mnist", classes: 10, hidden: 16, init: "small", optimizer: "sgd", learningRate: 0.1, batchSize: 32, seed: 42 };
const batch = {
  pixels: tensor(Array.from(random.uniform(random.key(1), [32, 784], { high: 256 }).data, Math.floor), [32, 784], "uint8"),
  labels: tensor(Array.from({ length: 32 }, (_, i) => i % 10), [32], "uint8"),
};

describe("the playground's run settings", () => {
  it("refuse a learning rate it cannot use (not a number, 0 or less, above 10) instead of replacing it", () => {
    for (const learningRate of [NaN, 0, -1, 100, Infinity]) {
      const problem = trainConfigProblem({ ...config, learningRate });
      expect(problem).toMatch(/^Learning rate .* is not accepted: expected a number above 0 and at most 10 \(about 0\.1 for SGD, 0\.002 for Adam\)\. Training was not started\.$/);
      expect(() => newRun({ ...config, learningRate })).toThrow(problem!);
    }
    expect(trainConfigProblem({ ...config, learningRate: NaN })).toContain("Learning rate (not a number)");
    expect(trainConfigProblem({ ...config, seed: -1 })).toContain("Seed -1 is not accepted");
    expect(trainConfigProblem({ ...config, learningRate: 10 })).toBeNull();
    expect(trainConfigProblem(config)).toBeNull();
  });

  it("refuse a dataset the server does not serve, or a class count outside 2 to 256", () => {
    expect(trainConfigProblem({ ...config, dataset: "cifar" as never })).toBe("Dataset cifar is not accepted: expected one of mnist, fashion.");
    expect(trainConfigProblem({ ...config, classes: 1 })).toBe("1 classes is not accepted: expected 2 to 256.");
    expect(trainConfigProblem({ ...config, dataset: "fashion", classes: 3 })).toBeNull();
  });
});

describe("a playground run", () => {
  it("takes a step: the loss before the update, then new parameters", () => {
    const run = newRun(config);
    const before = run.params;
    const record = trainStep(run, batch)!;
    expect(record.step).toBe(1);
    expect(record.loss).toBeGreaterThan(2); // about ln 10 for an untrained network
    expect(run.params).not.toBe(before);
    expect(run.diverged).toBeNull();
    expect(finiteParams(run)).toBe(true);
  });

  it("builds as many outputs as its dataset has classes", () => {
    const run = newRun({ ...config, classes: 3 });
    expect(run.sizes).toEqual([784, 16, 3]);
    const three = { ...batch, labels: tensor(Array.from({ length: 32 }, (_, i) => i % 3), [32], "uint8") };
    expect(trainStep(run, three)!.loss).toBeCloseTo(Math.log(3), 1); // an untrained network: about ln 3
  });

  it("stops with a message when the loss is not finite, as train.ts does, and updates nothing", () => {
    const run = newRun(config);
    // Parameters that overflowed (what a far too large step leaves behind).
    const layers = run.params as Record<string, { weight: ReturnType<typeof full>; bias: ReturnType<typeof full> }>;
    run.params = { ...layers, dense1: { ...layers.dense1!, bias: add(layers.dense1!.bias, full([16], Infinity)) } };
    const before = { params: run.params, state: run.state };
    expect(trainStep(run, batch)).toBeNull();
    expect(run.diverged).toMatch(/^The loss became (NaN|Infinity) at step 1: training diverged and stopped\. Try a lower learning rate \(now 0\.1\) and press Reset\.$/);
    expect(run.step).toBe(0);
    expect(run.params).toBe(before.params);
    expect(run.state).toBe(before.state);
    expect(finiteParams(run)).toBe(false); // so the worker does not send them to the page
  });
});
