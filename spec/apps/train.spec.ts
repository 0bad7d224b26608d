// End-to-end: train.ts run as a user runs it, on a few thousand real MNIST examples.

import { mkdtempSync, readFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { argmax } from "../../src/autograd/index.ts";
import { allExamples, loadMnist } from "../../src/data/index.ts";
import { checkpointFromBytes, modelFromBytes } from "../../src/data/model.ts";
import { mlp } from "../../src/nn/index.ts";
import { runApp, runAppWith, type AppResult } from "./run-app.ts";

const dir = mkdtempSync(join(tmpdir(), "train-spec-"));
const quick = ["--limit", "3000", "--epochs", "2", "--seed", "7"];

describe("train.ts, run on 3,000 real MNIST examples for 2 epochs", () => {
  let run: AppResult;
  const out = join(dir, "quick.safetensors");
  beforeAll(() => {
    run = runApp("train.ts", [...quick, "--out", out]);
  });

  it("exits with status 0", () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
  });

  it("prints the data summary, the architecture with 109,386 parameters (109,184 weights) and the hyperparameters", () => {
    expect(run.stdout).toContain("training 2,700 | validation 300");
    expect(run.stdout).toContain("test 10,000 | images 28x28");
    expect(run.stdout).toMatch(/dense1\s+784 -> 128\s+weights 100,352\s+biases\s+128/);
    expect(run.stdout).toContain("trainable parameters: 109,386 (weights only: 109,184; biases: 202)");
    expect(run.stdout).toContain("optimizer sgd, learning rate 0.1 (constant), batch size 64, epochs 2");
  });

  it("prints a table with one line per epoch (training and validation loss, training, validation and test accuracy, time), within 80 columns", () => {
    const lines = run.stdout.split("\n").filter((l) => l.startsWith("Epoch"));
    expect(lines[0]).toMatch(/^Epoch +train loss +val loss +train acc +val acc +test acc +time$/);
    expect(lines.slice(1)).toHaveLength(2);
    for (const line of lines) {
      expect(line.length).toBeLessThanOrEqual(80);
      expect(line.length).toBe(lines[0]!.length); // the columns line up under the header
    }
    for (const line of lines.slice(1)) expect(line).toMatch(/^Epoch +\d\/2 +\d\.\d{4} +\d\.\d{4} +\d+\.\d% +\d+\.\d% +\d+\.\d% +\d+\.\ds$/);
    const losses = lines.slice(1).map((l) => l.trim().split(/\s+/).slice(2, 4).map(Number));
    expect(losses[1]![0]).toBeLessThan(losses[0]![0]!); // it learns
    expect(losses[1]![1]).toBeLessThan(losses[0]![1]!); // and the validation loss falls too
  });

  it("reports the final test accuracy with its count and a 10x10 confusion matrix that sums to 10,000", () => {
    const m = /Final test accuracy: (\d+\.\d\d)% \(([\d,]+)\/10,000 correct\)/.exec(run.stdout);
    expect(m).not.toBeNull();
    const correct = Number(m![2]!.replace(/,/g, ""));
    expect(correct).toBeGreaterThan(7000); // 2 epochs on 2,700 examples reach about 78%
    const rows = run.stdout.split("\n").filter((l) => /^\s+\d\s+(\s+\d+){10}$/.test(l));
    expect(rows).toHaveLength(10);
    const cells = rows.map((r) => r.trim().split(/\s+/).slice(1).map(Number));
    expect(cells.flat().reduce((a, b) => a + b, 0)).toBe(10000);
    expect(cells.reduce((s, r, i) => s + r[i]!, 0)).toBe(correct); // the diagonal is the correct count
  });

  it("saves a model that reloads with the same architecture and gives the printed test accuracy", () => {
    const { params, config } = modelFromBytes(readFileSync(out), "quick.safetensors");
    expect(config.architecture).toEqual([784, 128, 64, 10]);
    expect(config.activation).toBe("relu");
    const test = allExamples(loadMnist().test);
    const predicted = argmax(mlp([784, 128, 64, 10]).apply(params, test.x), -1).data;
    const labels = test.labels.data;
    const correct = Array.from(predicted).reduce((n, p, i) => n + (p === labels[i] ? 1 : 0), 0);
    expect(run.stdout).toContain(`(${correct.toLocaleString("en-US")}/10,000 correct)`);
    expect(config.testAccuracy).toBeCloseTo(correct / 10000, 10);
  });

  it("writes a checkpoint beside the model and an HTML report with the curves and the confusion matrix", () => {
    const ckpt = checkpointFromBytes(readFileSync(join(dir, "quick.ckpt.safetensors")), "ckpt");
    expect((ckpt.info.position as { epoch: number }).epoch).toBe(2);
    const html = readFileSync(join(dir, "quick-report.html"), "utf8");
    expect(html.match(/<svg/g)).toHaveLength(3); // loss, accuracy, confusion matrix
    expect(html).toContain("Confusion matrix");
    expect(html.match(/<polyline/g)).toHaveLength(5); // training and validation loss; training, validation and test accuracy
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]); // nothing half-written left behind
  });

  it("the report reads on a phone, lists every hyperparameter with the seed, and the validation loss it printed", () => {
    const html = readFileSync(join(dir, "quick-report.html"), "utf8");
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    const settings = Object.fromEntries([...html.matchAll(/<tr><th scope="row">([^<]+)<\/th><td>([^<]*)<\/td><\/tr>/g)].map((m) => [m[1], m[2]]));
    expect(settings).toMatchObject({
      architecture: "[784, 128, 64, 10]", activation: "relu", optimizer: "sgd", "learning rate": "0.1", schedule: "constant",
      "batch size": "64", epochs: "2", dropout: "0", seed: "7", "training examples": "the first 3,000",
    });
    expect(settings["validation split"]).toBe("0.1 (300 held out, 2,700 trained on)");
    const printed = run.stdout.split("\n").filter((l) => /^Epoch +\d/.test(l)).map((l) => l.trim().split(/\s+/)[3]);
    for (const loss of printed) expect(html).toContain(`<td>${loss}</td>`);
  });

  it("gives the same per-epoch losses, bit for bit, for the same seed and flags", () => {
    const again = runApp("train.ts", [...quick, "--out", join(dir, "again.safetensors")]);
    const losses = (r: AppResult) => r.stdout.split("\n").filter((l) => /^Epoch +\d/.test(l)).map((l) => l.trim().split(/\s+/).slice(2, 4).join(" "));
    expect(losses(again)).toEqual(losses(run));
    expect(readFileSync(join(dir, "again.safetensors")).equals(readFileSync(out))).toBe(true);
  });

  it("trains exactly the same weights with --eager (each op run as it comes) as through the compiled step", () => {
    const eager = runApp("train.ts", [...quick, "--eager", "--out", join(dir, "eager.safetensors")]);
    expect(eager.status, eager.stderr).toBe(0);
    expect(readFileSync(join(dir, "eager.safetensors")).equals(readFileSync(out))).toBe(true);
  });
});

describe("train.ts --json", () => {
  it("prints one JSON object per epoch and a final one on stdout, and nothing else", () => {
    const r = runApp("train.ts", ["--limit", "1000", "--epochs", "2", "--json", "--out", join(dir, "json.safetensors")]);
    expect(r.status).toBe(0);
    const objects = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(objects.map((o) => o.type)).toEqual(["epoch", "epoch", "final"]);
    expect(objects[0].epoch).toBe(1);
    expect(objects[0].trainLoss).toBeGreaterThan(0);
    // The validation set's mean cross-entropy after each epoch, beside the training loss.
    for (const epoch of objects.slice(0, 2)) {
      expect(epoch.validationLoss).toBeGreaterThan(0);
      expect(epoch.validationLoss).toBeLessThan(Math.log(10) * 2); // a trained network is no worse than twice chance
    }
    expect(objects[2].total).toBe(10000);
    expect(objects[2].confusionMatrix).toHaveLength(10);
  });

  // getrusage's maxRSS would count the parent's memory copied at the fork (the kernel keeps the
  // high-water mark across exec); the benchmark spawns train.ts from a process holding MNIST.
  // (Linux, where the project runs: train.ts reads VmHWM from /proc/self/status.)
  it("reports its own peak resident memory, not that of the larger process that started it", () => {
    const ballast = Buffer.alloc(400 * 2 ** 20, 1); // touched, so resident in this (parent) process
    const parentMB = process.memoryUsage().rss / 2 ** 20;
    const r = runApp("train.ts", ["--limit", "1000", "--epochs", "1", "--json", "--out", join(dir, "rss.safetensors")]);
    expect(ballast[ballast.length - 1]).toBe(1);
    const final = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((o) => o.type === "final");
    expect(final.peakRssMB).toBeGreaterThan(0);
    expect(final.peakRssMB).toBeLessThan(parentMB - 100);
  });
});

describe("train.ts --resume", () => {
  it("continues from an epoch checkpoint and ends with exactly the weights of an uninterrupted run", () => {
    const args = ["--limit", "1500", "--seed", "3", "--optimizer", "adam", "--lr", "0.001", "--dropout", "0.2"];
    const full = join(dir, "full.safetensors");
    const part = join(dir, "part.safetensors");
    expect(runApp("train.ts", [...args, "--epochs", "3", "--out", full]).status).toBe(0);
    expect(runApp("train.ts", [...args, "--epochs", "1", "--out", part]).status).toBe(0);
    const resumed = runApp("train.ts", ["--resume", join(dir, "part.ckpt.safetensors"), "--epochs", "3", "--out", part]);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toContain("Resuming from");
    const a = modelFromBytes(readFileSync(full), "full").params;
    const b = modelFromBytes(readFileSync(part), "part").params;
    for (const layer of Object.keys(a)) {
      expect(Array.from(b[layer]!.weight.data)).toEqual(Array.from(a[layer]!.weight.data));
      expect(Array.from(b[layer]!.bias.data)).toEqual(Array.from(a[layer]!.bias.data));
    }
  });

  it("stops at the end of a batch on Ctrl-C (SIGINT), exits 130, says how to resume, and the resumed run matches an uninterrupted one", async () => {
    const args = ["--limit", "12000", "--epochs", "1", "--batch-size", "16", "--seed", "5"];
    const full = join(dir, "sigint-full.safetensors");
    const cut = join(dir, "sigint.safetensors");
    expect(runApp("train.ts", [...args, "--out", full]).status).toBe(0);
    let sent = false;
    const stopped = await runAppWith("train.ts", [...args, "--out", cut], (text, kill) => {
      if (!sent && text.includes("Epoch 1/1:")) {
        sent = true;
        kill("SIGINT");
      }
    });
    expect(stopped.status).toBe(130);
    expect(stopped.stderr).toMatch(/Stopped at epoch 1, batch \d+\/675/);
    expect(stopped.stderr).toContain(`--resume ${join(dir, "sigint.ckpt.safetensors")}`);
    expect(existsSync(cut)).toBe(false); // no model yet: only the checkpoint
    const resumed = runApp("train.ts", ["--resume", join(dir, "sigint.ckpt.safetensors"), "--out", cut]);
    expect(resumed.status).toBe(0);
    const a = modelFromBytes(readFileSync(full), "full").params;
    const b = modelFromBytes(readFileSync(cut), "cut").params;
    expect(Array.from(b.dense1!.weight.data)).toEqual(Array.from(a.dense1!.weight.data));
    expect(Array.from(b.dense3!.bias.data)).toEqual(Array.from(a.dense3!.bias.data));
  });
});

describe("train.ts refuses bad flags before doing any work, with exit code 2", () => {
  const cases: [string[], RegExp][] = [
    [["--epochs", "-1"], /--epochs: "-1" is not accepted: expected an integer from 1/],
    [["--lr", "0"], /--lr: "0" is not accepted: expected a number > 0/],
    [["--optimizer", "rmsprop"], /--optimizer: "rmsprop" is not accepted: expected one of sgd, momentum, adam/],
    [["--hidden", "12x"], /--hidden: "12x" is not accepted: expected comma-separated positive layer sizes/],
    [["--dropout", "1"], /--dropout: "1" is not accepted/],
    [["--batch-size", "2.5"], /--batch-size: "2.5" is not accepted/],
    [["--schedule", "linear"], /--schedule: "linear" is not accepted: expected one of constant, step, exp, cosine/],
    [["--bogus"], /unknown flag --bogus\n/],
    [["--ephocs", "3"], /^error: unknown flag --ephocs \(did you mean --epochs\?\)\n/],
    [["--batchsize=32"], /unknown flag --batchsize \(did you mean --batch-size\?\)/],
    [["--epochs"], /--epochs/],
  ];
  for (const [args, message] of cases) {
    it(`refuses ${args.join(" ")}`, () => {
      const r = runApp("train.ts", args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      // The message and one line pointing to --help, not the whole usage.
      expect(r.stderr.trim().split("\n")).toHaveLength(2);
      expect(r.stderr).toContain("Run `tsx src/apps/train.ts --help` to see every flag.");
      expect(r.stdout).toBe("");
    });
  }

  it("lists every flag with its default under --help", () => {
    const r = runApp("train.ts", ["--help"]);
    expect(r.status).toBe(0);
    for (const flag of ["--epochs N", "--batch-size N", "--lr RATE", "--optimizer", "--schedule", "--hidden", "--activation", "--dropout", "--weight-decay", "--seed", "--val-split", "--data DIR", "--out FILE", "--limit N", "--resume FILE", "--json", "--quiet"]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain("(default: 10)");
    expect(r.stdout).toContain("--version");
  });

  it("prints its version with --version and exits 0", () => {
    const r = runApp("train.ts", ["--version"]);
    expect(r.status).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(r.stdout).toBe(`train.ts (${pkg.name} ${pkg.version}), Node ${process.version}\n`);
  });

  it("names the directory and what to do when --data holds no MNIST files", () => {
    const r = runApp("train.ts", ["--data", join(dir, "nowhere")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(join(dir, "nowhere"));
  });
});

describe("train.ts when training diverges", () => {
  it("stops with a message naming the epoch and batch, the last finite loss and a lower --lr, and a non-zero exit", () => {
    const r = runApp("train.ts", ["--limit", "2000", "--epochs", "2", "--lr", "100000", "--out", join(dir, "nan.safetensors")]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/the loss became (NaN|Infinity) at epoch 1, batch \d+\/29/);
    expect(r.stderr).toMatch(/the last finite loss was (\d+\.\d{4}|none)/);
    expect(r.stderr).toContain("try a lower --lr");
    expect(existsSync(join(dir, "nan.safetensors"))).toBe(false);
  });
});
