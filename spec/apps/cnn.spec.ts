// End-to-end: a convolutional network through every app, as a user runs them: train.ts --model cnn
// on real MNIST examples, its model file read back from its layer list, predict.ts and visualize.ts
// on it, and a resumed run.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { argmax } from "../../src/autograd/index.ts";
import { allExamples, decodeSafetensors, encodeSafetensors, loadMnist } from "../../src/data/index.ts";
import { modelFromBytes, networkOf, NETWORK_FORMAT } from "../../src/data/model.ts";
import { runApp, type AppResult } from "./run-app.ts";

const dir = mkdtempSync(join(tmpdir(), "cnn-spec-"));
// Narrow convolutions keep the spec quick; the recipe's (16, 32) train the same way.
const quick = ["--model", "cnn", "--filters", "4,8", "--hidden", "32", "--limit", "1500", "--seed", "3"];

describe("train.ts --model cnn, on 1,500 real MNIST examples for 2 epochs", () => {
  let run: AppResult;
  const out = join(dir, "cnn.safetensors");
  beforeAll(() => {
    run = runApp("train.ts", [...quick, "--epochs", "2", "--out", out]);
  });

  it("trains through the compiled step and exits 0, printing the layers with their outputs and parameters", () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("a convolutional network, trained by reverse-mode autograd");
    expect(run.stdout).toMatch(/conv2d 4 5x5 relu\s+-> \[4, 24, 24\]\s+parameters\s+104/);
    expect(run.stdout).toMatch(/maxPool2d 2x2\s+-> \[8, 4, 4\]/);
    expect(run.stdout).toMatch(/dense 32 relu\s+-> \[32\]\s+parameters\s+4,128/);
    expect(run.stdout).toContain("trainable parameters: 5,370");
    expect(run.stdout).toContain("optimizer momentum, learning rate 0.05 (cosine), batch size 64, epochs 2, weight decay 0.0005");
  });

  it("learns: the second epoch's losses are lower, and the test accuracy is far above chance", () => {
    const epochs = run.stdout.split("\n").filter((l) => /^Epoch +\d/.test(l)).map((l) => l.trim().split(/\s+/).slice(2, 4).map(Number));
    expect(epochs).toHaveLength(2);
    expect(epochs[1]![0]).toBeLessThan(epochs[0]![0]!);
    const accuracy = Number(/Final test accuracy: (\d+\.\d+)%/.exec(run.stdout)![1]);
    expect(accuracy).toBeGreaterThan(50); // 2 short epochs of a narrow network: about 65%
  });

  it("saves a model file whose metadata holds its layer list, and which reloads to the printed test accuracy", () => {
    const bytes = readFileSync(out);
    const { metadata } = decodeSafetensors(bytes, "cnn");
    expect(metadata.format).toBe(NETWORK_FORMAT);
    expect(JSON.parse(metadata.layers!).map((l: { type: string }) => l.type)).toEqual(["reshape", "conv2d", "maxPool2d", "conv2d", "maxPool2d", "flatten", "dense", "dropout", "dense"]);
    expect(JSON.parse(metadata.inputShape!)).toEqual([784]);
    const { params, config } = modelFromBytes(bytes, "cnn.safetensors");
    expect(Object.keys(params).sort()).toEqual(["conv1", "conv2", "dense1", "dense2"]);
    expect(params.conv2!.weight.shape).toEqual([8, 4, 5, 5]);
    const test = allExamples(loadMnist().test);
    const predicted = argmax(networkOf(config).net.apply(params, test.x), -1).data;
    const correct = Array.from(predicted).reduce((n, p, i) => n + (p === test.labels.data[i] ? 1 : 0), 0);
    expect(run.stdout).toContain(`(${correct.toLocaleString("en-US")}/10,000 correct)`);
  });

  it("is refused, when its layer list is edited into one that cannot be built or does not fit its tensors, naming the layer", () => {
    const { tensors, metadata } = decodeSafetensors(readFileSync(out), "cnn");
    const edited = (layers: unknown) => encodeSafetensors(tensors, { ...metadata, layers: JSON.stringify(layers) });
    const layers = JSON.parse(metadata.layers!);
    expect(() => modelFromBytes(edited([...layers.slice(0, 1), { type: "conv3d", filters: 4 }, ...layers.slice(2)]), "x.safetensors"))
      .toThrow(/x\.safetensors: this model's layout cannot be built: metadata layers\[1\] is \{"type":"conv3d","filters":4\}: expected a layer description/);
    const wider = layers.map((l: { type: string; filters?: number }, i: number) => (i === 1 ? { ...l, filters: 6 } : l));
    expect(() => modelFromBytes(edited(wider), "x.safetensors")).toThrow(/x\.safetensors: its layer list says "conv1\.weight" is \[6, 1, 5, 5\], the file holds \[4, 1, 5, 5\]/);
    expect(() => modelFromBytes(encodeSafetensors(tensors, { ...metadata, format: "mnist-model/3" }), "x.safetensors")).toThrow(/expected "mnist-mlp\/1" \(an MLP\) or "mnist-model\/2"/);
  });

  it("is read by predict.ts, which says what the network makes of a picture", () => {
    const r = runApp("predict.ts", ["--model", out, "--image", "src/apps/docs/seven.png", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout).results[0];
    expect(result.probabilities).toHaveLength(10);
    expect(result.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it("is drawn by visualize.ts: the first layer's filters and one test digit's feature maps, layer by layer", () => {
    const pictures = join(dir, "pictures");
    const r = runApp("visualize.ts", ["--model", out, "--out", pictures, "--steps", "20"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("filters_layer1.png    the 4 first-layer filters as 5x5 tiles");
    expect(r.stdout).toContain("feature_maps.png");
    for (const file of ["filters_layer1.png", "feature_maps.png", "weight_histogram.png", "activation_max.png"]) {
      expect(readFileSync(join(pictures, file)).subarray(1, 4).toString()).toBe("PNG");
    }
    expect(existsSync(join(pictures, "weights_layer1.png"))).toBe(false);
  });
});

describe("train.ts --model cnn --resume", () => {
  it("continues from an epoch checkpoint and ends with exactly the weights of an uninterrupted run", () => {
    // The step schedule does not depend on the run's length (cosine spans it, so a 1-epoch run's rates differ).
    const args = [...quick, "--limit", "800", "--schedule", "step"];
    const [full, part] = [join(dir, "full.safetensors"), join(dir, "part.safetensors")];
    expect(runApp("train.ts", [...args, "--epochs", "2", "--out", full]).status).toBe(0);
    expect(runApp("train.ts", [...args, "--epochs", "1", "--out", part]).status).toBe(0);
    const resumed = runApp("train.ts", ["--resume", join(dir, "part.ckpt.safetensors"), "--epochs", "2"]);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toContain("Resuming from");
    expect(readFileSync(part).equals(readFileSync(full))).toBe(true);
  });
});

describe("train.ts --shift --rotate (data augmentation)", () => {
  it("trains on randomly moved and turned copies of the images, says so, and gives the same model for the same seed", () => {
    const args = [...quick, "--limit", "600", "--epochs", "1", "--shift", "2", "--rotate", "10"];
    const [a, b] = [join(dir, "augmented-a.safetensors"), join(dir, "augmented-b.safetensors")];
    const run = runApp("train.ts", [...args, "--out", a]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("augmentation: shifts up to 2 px, rotations up to 10 degrees");
    expect(readFileSync(join(dir, "augmented-a-report.html"), "utf8")).toContain("random shifts up to 2 px and rotations up to 10 degrees (seeded, training images only)");
    expect(runApp("train.ts", [...args, "--out", b]).status).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const plain = join(dir, "plain.safetensors");
    expect(runApp("train.ts", [...quick, "--limit", "600", "--epochs", "1", "--out", plain]).status).toBe(0);
    expect(readFileSync(a).equals(readFileSync(plain))).toBe(false);
  });
});

describe("train.ts refuses a CNN it cannot build, before any work, with exit code 2", () => {
  it.each([
    [["--filters", "8"], /--filters: 8 is not accepted with --model mlp \(an MLP has no convolutions\)/],
    [["--model", "cnn", "--activation", "tanh"], /--activation: tanh is not accepted with --model cnn \(its layers use relu\)/],
    [["--model", "cnn", "--filters", "8,8,8"], /--filters: 8,8,8 is not accepted for 28x28 images: each 5x5 convolution and 2x2 pooling shrinks them, and layers\[5\] \(conv2d\) does not fit the shape before it, \[8, 4, 4\]/],
    [["--model", "cnn", "--filters", ""], /--filters: a CNN needs at least one convolution/],
    [["--model", "rnn"], /--model: "rnn" is not accepted: expected one of mlp, cnn/],
    [["--shift", "9"], /--shift: "9" is not accepted/],
    [["--rotate", "-5"], /--rotate: "-5" is not accepted/],
  ])("%j", (args, message) => {
    const r = runApp("train.ts", [...args, "--epochs", "1", "--limit", "100", "--out", join(dir, "refused.safetensors")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(dir, "refused.safetensors"))).toBe(false);
  });

  it("lists --model and --filters under --help, with the CNN recipe's defaults beside the MLP's", () => {
    const r = runApp("train.ts", ["--help"]);
    expect(r.stdout).toMatch(/--model mlp\|cnn/);
    expect(r.stdout).toMatch(/--filters N,N,\.\.\..*\(with --model cnn: 16,32\)/);
    expect(r.stdout).toMatch(/--lr RATE.*\(with --model cnn: 0\.05\) \(default: 0\.1\)/);
  });
});

writeFileSync(join(dir, "README"), "scratch space of spec/apps/cnn.spec.ts\n");
