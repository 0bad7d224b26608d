// End-to-end: visualize.ts run as a user runs it, on a small model trained here ([784, 32, 10]),
// so the first-layer grid is 8 x 4 rather than the default model's 16 x 8.

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mul, scalar } from "../../src/autograd/index.ts";
import { allExamples, decodeImage, loadMnist, modelFromBytes, modelToBytes, type Image, type MlpParams } from "../../src/data/index.ts";
import { svgToPng } from "../../src/viz/render.ts";
import { mlp } from "../../src/nn/index.ts";
import { runApp, type AppResult } from "./run-app.ts";

const dir = mkdtempSync(join(tmpdir(), "visualize-spec-"));
const model = join(dir, "small.safetensors");
const out = join(dir, "pictures");
const FILES = ["weights_layer1.png", "weight_histogram.png", "confusion_matrix.png", "misclassified.png", "activation_max.png"];

const picture = (name: string): Image => decodeImage(readFileSync(join(out, name)), name);
/** Distinct colours in an image: a blank picture has one, anti-aliased text and curves hundreds. */
const countColors = (img: Image): number => {
  const seen = new Set<number>();
  const view = new DataView(img.rgba.buffer, img.rgba.byteOffset, img.rgba.byteLength);
  for (let i = 0; i < img.rgba.length; i += 4) seen.add(view.getUint32(i));
  return seen.size;
};
/** The share of pixels that are not white: ink, tiles, bars. */
const inked = (img: Image): number => {
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) if (img.rgba[i]! < 250 || img.rgba[i + 1]! < 250 || img.rgba[i + 2]! < 250) n++;
  return n / (img.width * img.height);
};
/** Pixels clearly red (positive weights) and clearly blue (negative weights). */
const redsAndBlues = (img: Image): { red: number; blue: number } => {
  let red = 0, blue = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (img.rgba[i]! - img.rgba[i + 2]! > 60) red++;
    if (img.rgba[i + 2]! - img.rgba[i]! > 60) blue++;
  }
  return { red, blue };
};
const line = (stdout: string, start: string): string => stdout.split("\n").map((l) => l.trim()).find((l) => l.startsWith(start)) ?? `(no line starting "${start}")`;

describe("visualize.ts, run on a small model ([784, 32, 10], 2 epochs on 6,000 examples)", () => {
  let run: AppResult;
  beforeAll(() => {
    const trained = runApp("train.ts", ["--limit", "6000", "--epochs", "2", "--hidden", "32", "--out", model, "--quiet"]);
    expect(trained.status, trained.stderr).toBe(0);
    run = runApp("visualize.ts", ["--model", model, "--out", out, "--steps", "50"]);
  });

  it("exits with status 0 and lists the five pictures it saved", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Saved to ${out}/:`);
    for (const name of FILES) expect(run.stdout).toMatch(new RegExp(`^  ${name.replace(".", "\\.")}  `, "m"));
    expect(readdirSync(out).sort()).toEqual([...FILES].sort()); // and nothing half-written beside them
  });

  it("draws the 32 first-layer units as an 8 x 4 grid of numbered 28x28 tiles at 3x, in blue and red, with a colour bar", () => {
    const img = picture("weights_layer1.png");
    expect(img.width).toBeGreaterThan(8 * 84 + 7 * 6 + 40); // eight 84-pixel tiles, gaps, the colour bar
    expect(img.width).toBeLessThan(8 * 84 + 7 * 6 + 160);
    expect(img.height).toBeGreaterThan(4 * 84);
    expect(img.height).toBeLessThan(4 * (84 + 24) + 80);
    expect(countColors(img)).toBeGreaterThan(200);
    const { red, blue } = redsAndBlues(img);
    expect(red).toBeGreaterThan(4000);
    expect(blue).toBeGreaterThan(4000);
    expect(run.stdout).toMatch(/the 32 first-layer units' weights as 28x28 tiles, 8 x 4 \(blue negative, red positive; the colour bar ends at the 99th percentile of \|w\|, 0\.\d{3}\)/);
  });

  it("stacks one histogram per layer under a title", () => {
    const img = picture("weight_histogram.png");
    expect(img.width).toBeGreaterThanOrEqual(720);
    expect(img.height).toBeGreaterThan(2 * 240);
    expect(img.height).toBeLessThan(2 * 240 + 120);
    expect(inked(img)).toBeGreaterThan(0.05);
    expect(run.stdout).toContain("the distribution of the weights of each of the 2 layers");
  });

  it("draws the confusion matrix as a 10 x 10 heat map with counts and a colour bar", () => {
    const img = picture("confusion_matrix.png");
    expect(img.width).toBeGreaterThan(10 * 44 + 60);
    expect(img.height).toBeGreaterThan(10 * 44);
    expect(countColors(img)).toBeGreaterThan(50);
    expect(inked(img)).toBeGreaterThan(0.2);
  });

  it("shows the 60 most confident mistakes, 10 a row at 3x, and activation maximization as 5 x 2 tiles at 4x", () => {
    const mistakes = picture("misclassified.png");
    expect(mistakes.width).toBeGreaterThan(10 * 84);
    expect(mistakes.height).toBeGreaterThan(6 * 84);
    expect(countColors(mistakes)).toBeGreaterThan(50);
    const best = picture("activation_max.png");
    expect(best.width).toBeGreaterThan(5 * 112);
    expect(best.height).toBeGreaterThan(2 * 112);
    expect(countColors(best)).toBeGreaterThan(20);
    expect(inked(best)).toBeGreaterThan(0.3); // dark tiles, not a blank page
  });

  describe("prints observations equal to values computed here from the model file and the test set", () => {
    let truth: { accuracyLine: string; counts: number[][]; correct: number; weights: Float32Array; norms: number[] };
    beforeAll(() => {
      const { params, config } = modelFromBytes(readFileSync(model), "small");
      const test = allExamples(loadMnist().test);
      const logits = mlp(config.architecture).apply(params, test.x);
      const counts = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
      for (let i = 0; i < test.size; i++) {
        const row = Array.from(logits.data.subarray(i * 10, (i + 1) * 10));
        counts[test.labels.data[i]!]![row.indexOf(Math.max(...row))]!++;
      }
      const correct = counts.reduce((s, r, c) => s + r[c]!, 0);
      const weights = params.dense1!.weight.data as Float32Array;
      const norms = Array.from({ length: 32 }, (_, j) => Math.hypot(...Array.from({ length: 784 }, (_, i) => weights[i * 32 + j]!)));
      truth = { accuracyLine: `test accuracy: ${((100 * correct) / 10000).toFixed(2)}% (${correct.toLocaleString("en-US")}/10,000 correct)`, counts, correct, weights, norms };
    });

    it("the test accuracy, and the number of mistakes the misclassified picture is drawn from", () => {
      expect(line(run.stdout, "test accuracy")).toBe(truth.accuracyLine);
      expect(run.stdout).toContain(`the 60 most confident of the ${(10000 - truth.correct).toLocaleString("en-US")} misclassified test images`);
    });

    it("the most confused pair: the largest count off the diagonal", () => {
      let best = { t: 0, p: 0, n: -1 };
      truth.counts.forEach((row, t) => row.forEach((n, p) => (t !== p && n > best.n ? (best = { t, p, n }) : null)));
      expect(line(run.stdout, "most confused pair")).toBe(`most confused pair: ${best.t} -> ${best.p}: ${best.n} times (true ${best.t} predicted as ${best.p})`);
    });

    it("the digit with the lowest recall", () => {
      const recalls = truth.counts.map((row, c) => row[c]! / row.reduce((a, b) => a + b, 0));
      const c = recalls.indexOf(Math.min(...recalls));
      const support = truth.counts[c]!.reduce((a, b) => a + b, 0);
      expect(line(run.stdout, "lowest recall")).toBe(`lowest recall: digit ${c}, ${(100 * recalls[c]!).toFixed(1)}% (${truth.counts[c]![c]}/${support} recognised)`);
    });

    it("the share of first-layer weights near zero, and the neurons with the largest weight norms", () => {
      const near = truth.weights.filter((w) => Math.abs(w) < 0.01).length / truth.weights.length;
      expect(line(run.stdout, "first-layer weights near zero")).toBe(`first-layer weights near zero (|w| < 0.01): ${(100 * near).toFixed(1)}% of 25,088`);
      const order = truth.norms.map((n, j) => [n, j] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
      expect(line(run.stdout, "first-layer neurons with the largest")).toBe(
        `first-layer neurons with the largest weight norm: ${order.map(([n, j]) => `#${j} (${n.toFixed(2)})`).join(", ")}`,
      );
    });

    it("what activation maximization reached: every class made more likely than chance", () => {
      const m = /target-class softmax probability (\d\.\d{3}) to (\d\.\d{3}), logits (-?[\d.]+) to (-?[\d.]+)/.exec(run.stdout);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0.5);
      expect(Number(m![2])).toBeLessThanOrEqual(1);
      expect(Number(m![3])).toBeLessThanOrEqual(Number(m![4]));
    });
  });
});

describe("visualize.ts --format svg", () => {
  it("writes the five pictures as SVG documents that parse and render", async () => {
    const svgOut = join(dir, "svg");
    const r = runApp("visualize.ts", ["--model", model, "--out", svgOut, "--steps", "5", "--format", "svg"]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(svgOut).sort()).toEqual(FILES.map((f) => f.replace(".png", ".svg")).sort());
    for (const name of readdirSync(svgOut)) {
      const svg = readFileSync(join(svgOut, name), "utf8");
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="[\d.]+" height="[\d.]+"/);
      const png = decodeImage(await svgToPng(svg), name);
      expect(png.width).toBeGreaterThan(300);
    }
  });
});

describe("visualize.ts refusing what it cannot use", () => {
  it("a missing model: says so and how to make one, exits 1, and writes nothing", () => {
    const empty = join(dir, "none");
    const r = runApp("visualize.ts", ["--model", join(dir, "missing.safetensors"), "--out", empty]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing\.safetensors: no such model file\. Train one first/);
    expect(existsSync(empty)).toBe(false);
  });

  it("a model whose weights overflow (a diverged run, weights near 1e25): exits 1 saying so, and draws nothing", () => {
    const huge = join(dir, "diverged.safetensors");
    const { params, config } = modelFromBytes(readFileSync(model), "small");
    const scaled = Object.fromEntries(Object.entries(params).map(([k, l]) => [k, { weight: mul(l.weight, scalar(1e25)), bias: l.bias }]));
    writeFileSync(huge, modelToBytes(scaled as unknown as MlpParams, config));
    const pictures = join(dir, "diverged-pictures");
    const r = runApp("visualize.ts", ["--model", huge, "--out", pictures, "--steps", "5"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/diverged\.safetensors: the model gives non-finite scores \(logits such as (-?Infinity|NaN)\) for [\d,]+ of the 10,000 test images: its weights are too large to use/);
    expect(r.stdout).toBe("");
    expect(readdirSync(pictures)).toEqual([]);
  });

  it("an --out that is a file, or inside one: exits 1 naming --out and the path before any work", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "keep me");
    const r = runApp("visualize.ts", ["--model", model, "--out", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: --out: ${file}: cannot create the directory: ${file} is a file, not a directory\n`);
    const inside = runApp("visualize.ts", ["--model", model, "--out", join(file, "pictures")]);
    expect(inside.stderr).toBe(`error: --out: ${join(file, "pictures")}: cannot create the directory: ${file} is a file, not a directory\n`);
    expect(readFileSync(file, "utf8")).toBe("keep me");
  });

  it("a file that is not a model: exits 1 naming the file", () => {
    const bad = join(dir, "not-a-model.safetensors");
    writeFileSync(bad, "hello, I am text");
    const r = runApp("visualize.ts", ["--model", bad, "--out", join(dir, "none")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("not-a-model.safetensors");
  });

  it("bad flags: exits 2 with the message and the usage", () => {
    const r = runApp("visualize.ts", ["--steps", "-5"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--steps: "-5" is not accepted: expected an integer from 0 to 100000');
    expect(r.stderr).toContain("Run `tsx src/apps/visualize.ts --help` to see every flag.");
    const l2 = runApp("visualize.ts", ["--l2", "lots"]);
    expect(l2.status).toBe(2);
    expect(l2.stderr).toContain('--l2: "lots" is not accepted');
    expect(runApp("visualize.ts", ["--colour"]).status).toBe(2);
    const format = runApp("visualize.ts", ["--format", "jpg"]);
    expect(format.status).toBe(2);
    expect(format.stderr).toContain('--format: "jpg" is not accepted: expected one of png, svg');
  });

  it("--help: prints the flags and exits 0", () => {
    const r = runApp("visualize.ts", ["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--out DIR .*\(default: models\/visualize\)/);
  });
});
