// Datasets of other class counts and with class names, end to end: train.ts builds as many outputs
// as the labels need, and the names go through its output, the report and the model file, then
// predict.ts and visualize.ts.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createImage, decodeSafetensors, loadMnist, MNIST_FILES, modelFromBytes, writeIdx, writePng } from "../../src/data/index.ts";
import { runApp, type AppResult } from "./run-app.ts";

const root = mkdtempSync(join(tmpdir(), "classes-spec-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A dataset of the MNIST images `pick` keeps, relabelled by `label`, with a dataset.json when names are given. */
const makeDataset = (dir: string, pick: (digit: number, i: number) => boolean, label: (digit: number, i: number) => number, counts: [number, number], info?: object): void => {
  const mnist = loadMnist({ dataset: "mnist" });
  mkdirSync(dir, { recursive: true });
  for (const [set, count, images, labels] of [["train", counts[0], MNIST_FILES.trainImages, MNIST_FILES.trainLabels], ["test", counts[1], MNIST_FILES.testImages, MNIST_FILES.testLabels]] as const) {
    const from = set === "train" ? mnist.train : mnist.test;
    const kept: number[] = [];
    for (let i = 0; i < from.count && kept.length < count; i++) if (pick(from.labels[i]!, i)) kept.push(i);
    writeIdx(join(dir, images), { dims: [kept.length, 28, 28], data: Uint8Array.from(kept.flatMap((i) => Array.from(from.images.subarray(i * 784, (i + 1) * 784)))) });
    writeIdx(join(dir, labels), { dims: [kept.length], data: Uint8Array.from(kept.map((i) => label(from.labels[i]!, i))) });
  }
  if (info) writeFileSync(join(dir, "dataset.json"), JSON.stringify(info));
};

describe("a 3-class dataset whose dataset.json names its classes (MNIST's 0, 1 and 2 as zero, one, two)", () => {
  const data = join(root, "three");
  const model = join(root, "three", "..", "three.safetensors");
  let trained: AppResult;
  beforeAll(() => {
    makeDataset(data, (d) => d <= 2, (d) => d, [3000, 600], { name: "Three digits", classes: ["zero", "one", "two"] });
    trained = runApp("train.ts", ["--data", data, "--epochs", "2", "--hidden", "16", "--out", model]);
  });

  it("trains a network of 3 outputs and names the classes in the training output and the confusion matrix", () => {
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toContain(`Data: Three digits, --data ${data}`);
    expect(trained.stdout).toContain("  classes 3: zero, one, two");
    expect(trained.stdout).toMatch(/dense2 +16 -> 3 +weights +48 +biases +3 +then softmax/);
    const matrix = trained.stdout.slice(trained.stdout.indexOf("Confusion matrix"));
    expect(matrix).toMatch(/^Confusion matrix \(rows: true class, columns: predicted class, numbered as the rows\)\n +0 +1 +2\n  0 zero +\d+ +\d+ +\d+\n  1 one +\d+ +\d+ +\d+\n  2 two +\d+ +\d+ +\d+\n/);
    expect(Number(/Final test accuracy: ([\d.]+)%/.exec(trained.stdout)![1])).toBeGreaterThan(90);
  });

  it("records the dataset and the class names in the model file, and shows them in the report", () => {
    const { metadata } = decodeSafetensors(readFileSync(model), model);
    expect([metadata.dataset, metadata.classes, metadata.architecture]).toEqual(["Three digits", '["zero","one","two"]', "[784,16,3]"]);
    expect(modelFromBytes(readFileSync(model), model).config.classNames).toEqual(["zero", "one", "two"]);
    const report = readFileSync(join(root, "three-report.html"), "utf8");
    expect(report).toContain("<title>Three digits MLP [784, 16, 3]");
    expect(report).toContain('<th scope="row">classes</th><td>3: zero, one, two</td>');
    expect(report).toContain("2 two</text>"); // the confusion matrix's row label
  });

  it("lets predict.ts answer with the class names", () => {
    const digit = loadMnist({ dataDir: data }).test;
    const i = digit.labels.indexOf(1);
    const picture = createImage(28, 28, [0, 0, 0]);
    for (let k = 0; k < 784; k++) picture.rgba.fill(digit.images[i * 784 + k]!, 4 * k, 4 * k + 3);
    writePng(join(root, "one.png"), picture);
    const r = runApp("predict.ts", ["--model", model, join(root, "one.png")]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Prediction: 1 one \(probability/);
    expect(r.stdout).toMatch(/^  0 zero +[\d.>]+%/m);
    expect(r.stdout).toMatch(/^  2 two +[\d.>]+%/m);
    expect(r.stdout).not.toMatch(/^  3 /m);
    const json = JSON.parse(runApp("predict.ts", ["--model", model, "--json", join(root, "one.png")]).stdout);
    expect([json.dataset, json.classNames, json.results[0].prediction, json.results[0].className, json.results[0].probabilities.length]).toEqual(["Three digits", ["zero", "one", "two"], 1, "one", 3]);
  });

  it("lets visualize.ts find the model's data, name the classes in its observations, and refuse other data", () => {
    const out = join(root, "pictures");
    const r = runApp("visualize.ts", ["--model", model, "--data", data, "--out", out, "--steps", "20"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("trained on Three digits");
    expect(r.stdout).toMatch(/most confused pair: (zero|one|two) -> (zero|one|two): \d+ times/);
    expect(r.stdout).toMatch(/lowest recall: (zero|one|two), /);
    const other = runApp("visualize.ts", ["--model", model, "--dataset", "mnist", "--out", out]);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain(`error: --model ${model}: the model was trained on Three digits (classes 3: zero, one, two), this data is MNIST (classes 10: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9); pass the model's data with --dataset NAME or --data DIR`);
  });
});

describe("a 27-class dataset counted from its labels (1 to 26, as EMNIST letters; label 0 unused)", () => {
  it("trains 27 outputs with classes numbered 0 to 26, and a 27 x 27 confusion matrix", () => {
    const data = join(root, "letters");
    makeDataset(data, () => true, (_, i) => 1 + (i % 26), [1300, 260]);
    const model = join(root, "letters.safetensors");
    const r = runApp("train.ts", ["--data", data, "--epochs", "1", "--hidden", "8", "--out", model, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const final = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    expect(final.classNames).toEqual(Array.from({ length: 27 }, (_, i) => String(i)));
    expect(final.dataset).toBe("letters");
    expect(final.confusionMatrix).toHaveLength(27);
    expect(final.confusionMatrix[0]).toEqual(new Array(27).fill(0)); // no example of class 0
    expect(final.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(260);
    expect(modelFromBytes(readFileSync(model), model).config.architecture).toEqual([784, 8, 27]);
  });
});
