// End-to-end: predict.ts run as a user runs it, with a small model trained here and real MNIST test
// digits written out as pictures.

import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { beforeAll, describe, expect, it } from "vitest";
import { mul, random, scalar, tensor } from "../../src/autograd/index.ts";
import { asciiArt, createImage, loadMnist, modelFromBytes, modelToBytes, renderDigit, writePng, type MlpParams } from "../../src/data/index.ts";
import { mlp, softmax } from "../../src/nn/index.ts";
import { runApp } from "./run-app.ts";

const dir = mkdtempSync(join(tmpdir(), "predict-spec-"));
const model = join(dir, "small.safetensors");
const DIGITS = [0, 1, 2, 3, 4, 7, 11, 18]; // test-set indices
const png = (i: number) => join(dir, `test-${i}.png`);

interface JsonResult {
  file: string;
  doubts?: string[];
  prediction?: number;
  confidence?: number;
  probabilities?: number[];
  steps?: string[];
  error?: string;
}
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
const parse = (stdout: string): { model: string; results: JsonResult[] } => JSON.parse(stdout);

let pixels: (i: number) => Float32Array;
let direct: (i: number) => number[];

beforeAll(() => {
  const trained = runApp("train.ts", ["--limit", "6000", "--epochs", "2", "--out", model, "--quiet"]);
  expect(trained.status, trained.stderr).toBe(0);
  const test = loadMnist().test;
  pixels = (i) => Float32Array.from(test.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
  const { params, config } = modelFromBytes(readFileSync(model), "small");
  const net = mlp(config.architecture, { activation: config.activation });
  direct = (i) => Array.from(softmax(net.apply(params, tensor(pixels(i), [1, 784]))).data);
  // Each digit exactly as MNIST stores it: 28x28, white ink on black, grey level round(255 v).
  for (const i of DIGITS) writePng(png(i), renderDigit(pixels(i)));
});

describe("predict.ts on MNIST test digits written out as PNG", () => {
  it("gives the prediction, and nearly the probabilities, that the network gives for the array itself", () => {
    const r = runApp("predict.ts", ["--model", model, "--json", "--image", ...DIGITS.map(png)]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const { results } = parse(r.stdout);
    expect(results.map((x) => x.file)).toEqual(DIGITS.map(png));
    DIGITS.forEach((i, k) => {
      const expected = direct(i);
      const got = results[k]!;
      expect(got.prediction).toBe(expected.indexOf(Math.max(...expected)));
      expect(got.probabilities).toHaveLength(10);
      got.probabilities!.forEach((p, d) => expect(Math.abs(p - expected[d]!)).toBeLessThan(0.01));
      expect(got.confidence).toBe(got.probabilities![got.prediction!]);
      expect(got.steps![0]).toBe("decoded PNG 28x28");
    });
  });

  it("--show prints the 28x28 the network saw as 28 lines of text art: here the digit itself", () => {
    const r = runApp("predict.ts", ["--model", model, "--show", "--image", png(0)]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    const from = lines.indexOf("What the network saw (28x28):") + 1;
    expect(from).toBeGreaterThan(0);
    const art = lines.slice(from, from + 28);
    expect(art.every((l) => l.length === 56)).toBe(true);
    expect(lines[from + 28]).toMatch(/^Prediction: \d \(probability (\d+\.\d|>99\.9)%\)$/);
    expect(art.join("\n")).toBe(asciiArt(pixels(0))); // preprocessing gave back MNIST's own picture
  });

  it("prints one block per picture, files and folders alike, then a summary line per picture", () => {
    const folder = join(dir, "folder");
    mkdirSync(folder);
    for (const i of [2, 3]) copyFileSync(png(i), join(folder, `digit-${i}.png`));
    writeFileSync(join(folder, "README.txt"), "not a picture: left out of the folder's pictures");
    const r = runApp("predict.ts", ["--model", model, "--image", png(0), folder]);
    expect(r.status).toBe(0);
    const blocks = r.stdout.split("\n").filter((l) => l.startsWith("== "));
    expect(blocks).toEqual([`== ${png(0)}`, `== ${join(folder, "digit-2.png")}`, `== ${join(folder, "digit-3.png")}`]);
    expect(r.stdout.match(/^Prediction: \d \(probability (\d+\.\d|>99\.9)%\)$/gm)).toHaveLength(3);
    expect(r.stdout).toMatch(/^  7 +\d+\.\d% +#*\s*(<- prediction)?$/m); // the probability bars
    expect(r.stdout).toContain("Summary: 3 pictures, 3 predicted, 0 failed");
    const expected = [0, 2, 3].map((i) => direct(i)).map((p) => p.indexOf(Math.max(...p)));
    expect(r.stdout).toContain(`  ${join(folder, "digit-3.png")}: ${expected[2]} (`);
  });
});

describe("predict.ts with pictures it cannot read", () => {
  // One good digit among a missing file, a text file named .png, a blank picture and a large one.
  const bad = {
    missing: join(dir, "missing.png"),
    text: join(dir, "notes.png"),
    blank: join(dir, "blank.png"),
    large: join(dir, "large.png"),
  };
  beforeAll(() => {
    writeFileSync(bad.text, "these are my notes, not a picture\n");
    writePng(bad.blank, createImage(60, 40, [255, 255, 255]));
    writePng(bad.large, renderDigit(pixels(4), { scale: 4, invert: true })); // 112 x 112 = 12,544 pixels
  });
  const args = () => ["--model", model, "--max-pixels", "5000", "--image", bad.missing, bad.text, png(7), bad.blank, bad.large];

  it("--json: gives each its own clear error, still predicts the good one, and exits 1", () => {
    const r = runApp("predict.ts", [...args(), "--json"]);
    expect(r.status).toBe(1);
    const { results } = parse(r.stdout);
    expect(results.map((x) => x.file)).toEqual([bad.missing, bad.text, png(7), bad.blank, bad.large]);
    expect(results[0]!.error).toBe(`${bad.missing}: no such file; expected the path of a PNG or JPEG image`);
    expect(results[1]!.error).toMatch(/notes\.png: not a PNG or JPEG image \(starts with bytes 74 68 65 73/);
    expect(results[2]!.error).toBeUndefined();
    const expected = direct(7);
    expect(results[2]!.prediction).toBe(expected.indexOf(Math.max(...expected)));
    expect(results[3]!.error).toMatch(/blank\.png: no ink found/);
    expect(results[4]!.error).toMatch(/large\.png: image too large: 112x112 = 12,544 pixels, above the limit of 5,000 pixels \(maxPixels = 5000\)/);
    expect(r.stderr.trim().split("\n")).toHaveLength(4); // one "error:" line per failed picture
    expect(r.stderr).toMatch(/^error: .*missing\.png: no such file/m);
  });

  it("as text: each error on standard error, the predictions and a summary counting the failures on standard output", () => {
    const r = runApp("predict.ts", args());
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `error: ${bad.missing}: no such file; expected the path of a PNG or JPEG image`,
      expect.stringMatching(/^error: .*notes\.png: not a PNG or JPEG image/),
      expect.stringMatching(/^error: .*blank\.png: no ink found/),
      expect.stringMatching(/^error: .*large\.png: image too large: 112x112/),
    ]);
    expect(r.stdout).not.toMatch(/^error/m);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("== "))).toEqual([`== ${png(7)}`]);
    expect(r.stdout).toContain("Summary: 5 pictures, 1 predicted, 4 failed");
    expect(r.stdout).toContain(`  ${bad.large}: failed (the error is on standard error)`);
    expect(r.stdout.match(/^Prediction: /gm)).toHaveLength(1);
  });
});

describe("predict.ts with files that are not pictures, or pictures too large to decode", () => {
  it("refuses /dev/zero, a symlink to it and a FIFO at once, naming what each is (exit 1)", () => {
    const link = join(dir, "zero.png");
    symlinkSync("/dev/zero", link);
    const fifo = join(dir, "pipe.png");
    execFileSync("mkfifo", [fifo]);
    const r = runApp("predict.ts", ["--model", model, "--image", "/dev/zero", link, fifo]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error: /dev/zero: is a character device (such as /dev/zero), not a regular file; expected a PNG or JPEG image");
    expect(r.stderr).toContain(`error: ${link}: is a character device`);
    expect(r.stderr).toContain(`error: ${fifo}: is a FIFO (named pipe), not a regular file; expected a PNG or JPEG image`);
    expect(r.stdout).toContain("Summary: 3 pictures, 0 predicted, 3 failed");
    const asModel = runApp("predict.ts", ["--model", "/dev/zero", "--image", png(0)]);
    expect(asModel.status).toBe(1);
    expect(asModel.stderr).toBe("error: /dev/zero: is a character device (such as /dev/zero), not a regular file; expected a model file (.safetensors)\n");
  });

  it("refuses a 48 kB PNG of 1 x 25,000,000 pixels from its header, though it is within --max-pixels", () => {
    const strip = join(dir, "strip.png");
    const ihdr = Buffer.from(PNG.sync.write(new PNG({ width: 1, height: 1 })).subarray(0, 33)); // signature and IHDR, rewritten here
    ihdr.writeUInt32BE(1, 16);
    ihdr.writeUInt32BE(25_000_000, 20);
    ihdr[24] = 8; // bit depth
    ihdr[25] = 0; // grey
    ihdr.writeUInt32BE(crc32(ihdr.subarray(12, 29)), 29);
    const idat = deflateSync(Buffer.alloc(2 * 25_000_000)); // each row: filter byte 0, one black pixel
    const chunk = (type: string, data: Buffer) => Buffer.concat([u32(data.length), Buffer.from(type), data, u32(crc32(Buffer.concat([Buffer.from(type), data])))]);
    writeFileSync(strip, Buffer.concat([ihdr, chunk("IDAT", idat), chunk("IEND", Buffer.alloc(0))]));
    expect(readFileSync(strip).length).toBeLessThan(60_000);
    const r = runApp("predict.ts", ["--model", model, "--image", strip]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: ${strip}: image too large: 1x25000000 pixels, a side longer than the limit of 20,000 pixels; expected a smaller picture (scale it down first)\n`);
  });

  it("refuses a tiny JPEG that declares 65535 x 65535 even with --max-pixels raised to its limit, and a --max-pixels above that", () => {
    const big = join(dir, "huge.jpg");
    const jpg = Buffer.from(jpeg.encode({ width: 8, height: 8, data: new Uint8Array(256).fill(255) }, 90).data);
    const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
    jpg.writeUInt16BE(65535, sof + 5);
    jpg.writeUInt16BE(65535, sof + 7);
    writeFileSync(big, jpg);
    const r = runApp("predict.ts", ["--model", model, "--max-pixels", "100000000", "--image", big]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${big}: image too large: 65535x65535 = 4294.8 megapixels, above the limit of 100.0 megapixels`);
    const flag = runApp("predict.ts", ["--model", model, "--max-pixels", "5000000000", "--image", big]);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('--max-pixels: "5000000000" is not accepted: expected an integer from 1 to 100000000');
  });

  it("fails at once on a truncated PNG or JPEG, saying it is cut short", () => {
    const cutPng = join(dir, "cut.png");
    writeFileSync(cutPng, readFileSync(png(0)).subarray(0, 200));
    const photo = join(dir, "photo.jpg");
    const rgba = Uint8Array.from({ length: 400 * 300 * 4 }, (_, i) => (i * 7919) % 251);
    writeFileSync(photo, Buffer.from(jpeg.encode({ width: 400, height: 300, data: rgba }, 90).data).subarray(0, 20_000));
    const r = runApp("predict.ts", ["--model", model, "--image", cutPng, photo]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cut\.png: truncated PNG: the "IDAT" chunk at byte 33 needs \d+ bytes, the file ends after \d+/);
    expect(r.stderr).toContain(`${photo}: truncated JPEG: no end-of-image marker (FF D9) after the scan data`);
  });
});

describe("predict.ts with a model it cannot use", () => {
  it("a model whose weights overflow (a diverged run, weights near 1e17) is refused for each picture, never printed as NaN% (exit 1)", () => {
    const huge = join(dir, "diverged.safetensors");
    const { params, config } = modelFromBytes(readFileSync(model), "small");
    const scaled = Object.fromEntries(Object.entries(params).map(([k, l]) => [k, { weight: mul(l.weight, scalar(1e17)), bias: l.bias }]));
    writeFileSync(huge, modelToBytes(scaled as unknown as MlpParams, config));
    const r = runApp("predict.ts", ["--model", huge, "--image", png(0)]);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain("NaN");
    expect(r.stderr).toMatch(new RegExp(`^error: ${huge}: the model gives non-finite scores \\(logits such as (-?Infinity|NaN)\\) for the picture ${png(0)}: its weights are too large to use \\(training diverged\\); train it again with a lower --lr\n$`));
  });

  it("a model for other data ([100, 10]) is refused naming its architecture, and nothing is predicted (exit 1)", () => {
    const other = join(dir, "other.safetensors");
    const { params } = mlp([100, 10]).init(random.key(0), [100]);
    writeFileSync(other, modelToBytes(params as unknown as MlpParams, { architecture: [100, 10], activation: "relu", normalization: "x / 255" }));
    const r = runApp("predict.ts", ["--model", other, "--image", png(0)]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("the model's architecture [100, 10] takes 100 inputs; expected 784 (28x28 pixels)");
  });

  it("a truncated model file and a missing one are refused with what is wrong (exit 1)", () => {
    const cut = join(dir, "cut.safetensors");
    writeFileSync(cut, readFileSync(model).subarray(0, 2000));
    const truncated = runApp("predict.ts", ["--model", cut, "--image", png(0)]);
    expect(truncated.status).toBe(1);
    expect(truncated.stderr).toMatch(/^error: .*cut\.safetensors: .*(truncated|ends|bytes)/m);
    const missing = runApp("predict.ts", ["--model", join(dir, "nope.safetensors"), "--image", png(0)]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("nope.safetensors: no such model file");
  });
});

describe("predict.ts on a picture that is not a digit", () => {
  it("still answers with the probabilities, and says why the picture does not look like a digit", () => {
    const blob = join(dir, "blob.png");
    const img = createImage(100, 100, [255, 255, 255]);
    for (let y = 0; y < 100; y++) for (let x = 0; x < 100; x++) if ((x - 50) ** 2 + (y - 50) ** 2 < 35 ** 2) img.rgba.set([0, 0, 0], 4 * (y * 100 + x));
    writePng(blob, img);
    const json = parse(runApp("predict.ts", ["--model", model, "--json", "--image", blob, png(0)]).stdout);
    expect(json.results[0]!.doubts).toEqual([expect.stringMatching(/^more ink than a digit: \d+ \(MNIST digits have 28 to 228\)$/)]);
    expect(json.results[1]!.doubts).toEqual([]);
    const text = runApp("predict.ts", ["--model", model, "--image", blob]);
    expect(text.stdout).toMatch(/^Prediction: \d \(probability [\d.>]+%\)\n  Does not look like a digit: more ink than a digit/m);
  });
});

describe("predict.ts command-line mistakes (exit 2, with a pointer to --help)", () => {
  it("no picture, an empty folder, or a bad --max-pixels", () => {
    const none = runApp("predict.ts", ["--model", model]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("--image: no picture given");
    expect(none.stderr).toContain("Run `tsx src/apps/predict.ts --help` to see every flag.");
    const emptyFolder = join(dir, "empty");
    mkdirSync(emptyFolder);
    const empty = runApp("predict.ts", ["--model", model, "--image", emptyFolder]);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain(`the folder ${emptyFolder} holds no .png, .jpg or .jpeg files`);
    const max = runApp("predict.ts", ["--model", model, "--max-pixels", "0", "--image", png(0)]);
    expect(max.status).toBe(2);
    expect(max.stderr).toContain('--max-pixels: "0" is not accepted: expected an integer from 1 to 100000000');
  });
});
