// The playground in a real browser: Debian's Chromium driven by playwright-core, against the page
// served by its own Vite dev server. A model is trained first with train.ts (a few seconds), loaded
// through the page's file input, shown a stroke shaped like a 1, and then the page trains its own.
//
//   npm run test:browser                                        (needs /usr/bin/chromium, or CHROMIUM_PATH)
//   PLAYGROUND_SCREENSHOT=/tmp/playground.png npm run test:browser   also saves a screenshot at the end

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { random } from "../../src/autograd/index.ts";
import { FASHION_CLASSES } from "../../src/data/fashion-mnist.ts";
import { encodeIdx } from "../../src/data/idx.ts";
import { ModelFileError, modelFromBytes, modelToBytes, type MlpParams } from "../../src/data/model.ts";
import { mlp } from "../../src/nn/index.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** `promise`, or a rejection naming `what` after `ms`: nothing in this file may wait forever. */
const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/** Tries to close something within a time limit; a failure to close is reported, not thrown over the test's result. */
const closeQuietly = async (what: string, close: () => Promise<unknown>): Promise<void> => {
  try {
    await within(10_000, what, close());
  } catch (e) {
    console.warn(`closing ${what}: ${(e as Error).message}`);
  }
};

let dir = "";
let modelPath = "";
let server: ViteDevServer | null = null;
let browser: Browser | null = null;
let page: Page;
const pageErrors: string[] = [];
/** Requests the page made that failed or were answered with an error status (a 404 shows in the console). */
const badResponses: string[] = [];

/** The current value of a data attribute. */
const data = async (selector: string, name: string): Promise<string> => (await page.locator(selector).getAttribute(`data-${name}`, { timeout: 5_000 })) ?? "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
  dir = await mkdtemp(join(tmpdir(), "playground-e2e-"));
  modelPath = join(dir, "m.safetensors");
  // The three slow starts overlap: training a small model, the dev server, the browser.
  const train = promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "src/apps/train.ts", "--limit", "6000", "--epochs", "2", "--quiet", "--out", modelPath],
    { cwd: root, timeout: 50_000, env: { ...process.env, FORCE_COLOR: "0" } },
  );
  const serve = (async () => {
    server = await createServer({
      configFile: join(root, "src/apps/playground/vite.config.ts"),
      server: { port: 0, strictPort: false, hmr: false, watch: null },
      logLevel: "warn",
    });
    await server.listen();
    return server.resolvedUrls?.local[0] ?? `http://localhost:${server.config.server.port}/`;
  })();
  const launch = chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 }).then((b) => (browser = b));
  const [url] = await within(55_000, "training a model, starting Vite and Chromium", Promise.all([serve, launch, train]));
  page = await browser!.newPage({ viewport: { width: 1320, height: 1000 }, deviceScaleFactor: process.env.PLAYGROUND_SCREENSHOT ? 2 : 1 });
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("response", (r) => {
    if (r.status() >= 400) badResponses.push(`${r.status()} ${r.url()}`);
  });
  page.on("requestfailed", (r) => badResponses.push(`failed ${r.url()}`));
  await page.goto(url, { waitUntil: "load", timeout: 20_000 });
  await page.locator("#bars li").first().waitFor({ state: "attached" });
}, 60_000);

afterAll(async () => {
  if (browser) await closeQuietly("Chromium", () => browser!.close());
  if (server) await closeQuietly("the Vite server", () => server!.close());
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe("the playground, in Chromium", () => {
  it("runs its matrix products on the WebAssembly SIMD kernels on the page too", async () => {
    await expect.poll(() => page.locator("#kernels").textContent()).toBe("Matrix products: WebAssembly SIMD kernels.");
  });

  it("loads the model train.ts wrote through the file input, with the same loader as predict.ts", async () => {
    await page.setInputFiles("#model-file", modelPath);
    await expect.poll(() => page.locator("#model-status").textContent()).toContain("Loaded m.safetensors: [784, 128, 64, 10] ReLU");
    expect(await page.locator("#model-error").isHidden()).toBe(true);
    expect(await data("#prediction", "model")).toBe("m.safetensors");
  });

  it("shows the loader's own error for a file that is not a model, and keeps the model it had", async () => {
    const bytes = Buffer.from("this is not a safetensors file");
    let expected = "";
    try {
      modelFromBytes(new Uint8Array(bytes), "not-a-model.safetensors");
    } catch (e) {
      expect(e).toBeInstanceOf(ModelFileError);
      expected = (e as Error).message;
    }
    expect(expected).toMatch(/^not-a-model\.safetensors: /);
    await page.setInputFiles("#model-file", { name: "not-a-model.safetensors", mimeType: "application/octet-stream", buffer: bytes });
    await expect.poll(() => page.locator("#model-error").textContent()).toBe(expected);
    expect(await page.locator("#model-error").isVisible()).toBe(true);
    expect(await data("#prediction", "model")).toBe("m.safetensors");
    // A good file again clears the message.
    await page.setInputFiles("#model-file", modelPath);
    await expect.poll(() => page.locator("#model-error").isHidden()).toBe(true);
  });

  it("predicts a 1, with the highest probability, for a stroke shaped like a 1 drawn with the mouse", async () => {
    const box = (await page.locator("#pad").boundingBox())!;
    const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
    await page.mouse.move(...at(0.47, 0.15));
    await page.mouse.down();
    await page.mouse.move(...at(0.52, 0.5), { steps: 12 });
    await page.mouse.move(...at(0.55, 0.86), { steps: 12 });
    await page.mouse.up();
    await expect.poll(() => data("#prediction", "probabilities")).not.toBe("");
    const probabilities = JSON.parse(await data("#prediction", "probabilities")) as number[];
    expect(probabilities).toHaveLength(10);
    expect(probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
    const best = probabilities.indexOf(Math.max(...probabilities));
    expect(best).toBe(1);
    expect(await data("#prediction", "digit")).toBe("1");
    expect(await page.locator("#verdict-digit").textContent()).toBe("1");
    // The probability, said as one: no "sure".
    expect(await page.locator("#verdict-text").textContent()).toMatch(/^probability (\d+\.\d|>99\.9)% · m\.safetensors/);
    // The 28x28 the network saw came from preprocess(), which says what each step did.
    const steps = await page.locator("#steps li").allTextContents();
    expect(steps[0]).toMatch(/^grey levels: 280x280 RGBA/);
    expect(steps.some((s) => s.startsWith("centred by mass"))).toBe(true);
    expect(await page.locator("#weights-caption").textContent()).toMatch(/This drawing lights up \d+ of them/);
  });

  it("says when a drawing does not look like a digit (a dot, blown up to a blob), and not for the 1", async () => {
    expect(await page.locator("#doubts").isHidden()).toBe(true);
    await page.click("#clear");
    const box = (await page.locator("#pad").boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.locator("#doubts").textContent()).toMatch(/^This does not look much like a digit: more ink than a digit: \d+ \(MNIST digits have 28 to 228\)/);
    expect(await page.locator("#doubts").isVisible()).toBe(true);
    // Draw the 1 again for the tests that follow.
    await page.click("#clear");
    await page.mouse.move(box.x + 0.47 * box.width, box.y + 0.15 * box.height);
    await page.mouse.down();
    await page.mouse.move(box.x + 0.52 * box.width, box.y + 0.5 * box.height, { steps: 12 });
    await page.mouse.move(box.x + 0.55 * box.width, box.y + 0.86 * box.height, { steps: 12 });
    await page.mouse.up();
    await expect.poll(() => data("#prediction", "digit")).toBe("1");
    expect(await page.locator("#doubts").isHidden()).toBe(true);
  });

  it("names the first-layer unit under the pointer", async () => {
    const box = (await page.locator("#weights").boundingBox())!;
    await page.mouse.move(box.x + 5, box.y + 5); // the first tile
    await expect.poll(() => page.locator("#weights-caption").textContent()).toMatch(/Unit #0: activation \d+\.\d\d\.$/);
    await page.mouse.move(box.x - 20, box.y - 20);
    await expect.poll(() => page.locator("#weights-caption").textContent()).not.toContain("Unit #");
  });

  it("keeps the other cards their size when the preprocessing steps open", async () => {
    const heights = async () => Promise.all([".draw", ".predict", ".model"].map(async (c) => (await page.locator(c).boundingBox())!.height));
    const before = await heights();
    await page.click("#steps-box summary");
    expect(await page.locator("#steps-box").getAttribute("open")).not.toBeNull();
    expect(await heights()).toEqual(before);
    await page.click("#steps-box summary");
  });

  it("trains in a Web Worker: the loss goes down and the page stays responsive", async () => {
    // No limit and no early stop (which a fast machine reaches in these seconds): this test pauses by hand.
    await page.selectOption("#budget", "");
    await page.setChecked("#early", false);
    await page.click("#start");
    await expect.poll(() => data("#train-status", "running")).toBe("true");
    const started = Date.now();
    // A few seconds of training, and at least 60 steps (the machine may be busy).
    await expect.poll(async () => Number(await data("#loss-chart", "steps")) >= 60 && Date.now() - started >= 4_000, { timeout: 30_000, interval: 250 }).toBe(true);
    // While the worker trains, the page still answers within a frame or two.
    const frame = await page.evaluate(() => new Promise<number>((resolve) => {
      const t0 = performance.now();
      requestAnimationFrame(() => resolve(performance.now() - t0));
    }));
    expect(frame).toBeLessThan(500);
    await page.click("#start"); // pause
    await expect.poll(() => data("#train-status", "running")).toBe("false");
    const first = Number(await data("#loss-chart", "first-loss"));
    const recent = Number(await data("#loss-chart", "recent-loss"));
    expect(first).toBeGreaterThan(1.5); // about ln 10 = 2.3 for an untrained network
    expect(recent).toBeLessThan(0.6 * first);
    // Paused means paused: no more steps arrive.
    const step = await data("#train-status", "step");
    await page.waitForTimeout(600);
    expect(await data("#train-status", "step")).toBe(step);
    // Starting switched the page to the model it is training.
    expect(await data("#prediction", "model")).toBe("the model trained in this page");
  });

  it("starts over at step 0 on a reset while training: nothing the old run had sent arrives after it", async () => {
    await page.click("#start");
    await expect.poll(async () => Number(await data("#loss-chart", "steps")) >= 30, { timeout: 30_000, interval: 100 }).toBe(true);
    await page.click("#reset");
    await expect.poll(() => data("#train-status", "running")).toBe("false");
    await page.waitForTimeout(600);
    expect(await data("#train-status", "step")).toBe("0");
    expect(await data("#loss-chart", "steps")).toBe("0");
  });

  it("stops by itself after the epochs set, says so, and continues for as many more", async () => {
    await page.selectOption("#budget", "1");
    await page.click("#reset");
    await expect.poll(() => data("#train-status", "step")).toBe("0");
    await page.click("#start");
    // 9,000 training images in batches of 64: 141 steps an epoch.
    await expect.poll(() => data("#train-status", "stopped"), { timeout: 60_000, interval: 250 }).toMatch(/^stopped after 1 epoch \(141 steps\), as set$/);
    expect(await data("#train-status", "running")).toBe("false");
    expect(await data("#train-status", "step")).toBe("141");
    expect(await page.locator("#start").textContent()).toBe("Continue");
    expect(await page.locator("#train-status").textContent()).toContain("stopped after 1 epoch");
    await page.click("#start");
    await expect.poll(() => data("#train-status", "step"), { timeout: 60_000, interval: 250 }).toBe("282");
    await expect.poll(() => data("#train-status", "stopped")).toMatch(/^stopped after 1 epoch/);
    expect(await data("#train-status", "running")).toBe("false");
    if (process.env.PLAYGROUND_SCREENSHOT) await page.screenshot({ path: process.env.PLAYGROUND_SCREENSHOT, fullPage: true });
  });

  it("refuses a learning rate it cannot use, saying so, and keeps the run it has", async () => {
    const step = await data("#train-status", "step");
    for (const bad of ["0", "-1", "100", ""]) {
      await page.fill("#lr", bad);
      await page.dispatchEvent("#lr", "change");
      await expect.poll(() => page.locator("#train-error").textContent()).toMatch(/^Learning rate .* is not accepted: expected a number above 0 and at most 10/);
      expect(await data("#train-status", "step")).toBe(step); // not reset
      await page.click("#start");
      await page.waitForTimeout(300);
      expect(await data("#train-status", "running")).toBe("false");
      expect(await page.locator("#train-error").isVisible()).toBe(true);
    }
    // A rate it can use clears the message and starts a new run.
    await page.fill("#lr", "0.002");
    await page.dispatchEvent("#lr", "change");
    await expect.poll(() => page.locator("#train-error").isHidden()).toBe(true);
    await expect.poll(() => data("#train-status", "step")).toBe("0");
  });

  it("loads a CNN train.ts wrote, predicts the 1 with it, and shows what each convolution and pooling makes of the drawing", async () => {
    const cnnPath = join(dir, "cnn.safetensors");
    await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "src/apps/train.ts", "--model", "cnn", "--filters", "8,16", "--hidden", "64", "--limit", "6000", "--epochs", "2", "--quiet", "--out", cnnPath],
      { cwd: root, timeout: 80_000, env: { ...process.env, FORCE_COLOR: "0" } },
    );
    await page.setInputFiles("#model-file", cnnPath);
    await expect.poll(() => page.locator("#model-status").textContent()).toContain("Loaded cnn.safetensors: CNN: conv2d 8 5x5 relu, maxPool2d 2x2, conv2d 16 5x5 relu, maxPool2d 2x2, dense 64 relu, dense 10");
    await page.locator('input[name="use"][value="loaded"]').check();
    await expect.poll(() => data("#prediction", "model")).toBe("cnn.safetensors");
    await expect.poll(() => data("#prediction", "digit")).toBe("1");
    expect(await page.locator("#weights-title").textContent()).toBe("Inside: what each layer makes of the drawing");
    expect(await page.locator("#weights-caption").textContent()).toMatch(/the drawing's feature maps, layer 2, conv2d 8 5x5 relu \(8 of 24 × 24\); layer 3, maxPool2d 2x2 \(8 of 12 × 12\); layer 4, conv2d 16 5x5 relu \(16 of 8 × 8\); layer 5, maxPool2d 2x2 \(16 of 4 × 4\)/);
    if (process.env.PLAYGROUND_SCREENSHOT) {
      await page.locator(".weights").screenshot({ path: process.env.PLAYGROUND_SCREENSHOT.replace(/\.png$/, "-cnn.png") });
      await page.screenshot({ path: process.env.PLAYGROUND_SCREENSHOT.replace(/\.png$/, "-cnn-page.png"), fullPage: true });
    }
  }, 120_000);

  it("fits the CNN's feature maps to a phone's width, every tile inside the card", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await expect.poll(() => page.locator("#weights").evaluate((c) => c.getBoundingClientRect().width)).toBeLessThan(390);
      const fit = await page.evaluate(() => {
        const canvas = document.getElementById("weights")!.getBoundingClientRect();
        const card = document.querySelector(".weights")!.getBoundingClientRect();
        return { pageWidth: document.documentElement.scrollWidth, canvasRight: canvas.right, cardRight: card.right };
      });
      expect(fit.pageWidth).toBeLessThanOrEqual(390);
      expect(fit.canvasRight).toBeLessThanOrEqual(fit.cardRight);
      expect(await page.locator("#weights-caption").textContent()).toContain("layer 5, maxPool2d 2x2 (16 of 4 × 4)");
      if (process.env.PLAYGROUND_SCREENSHOT) await page.screenshot({ path: process.env.PLAYGROUND_SCREENSHOT.replace(/\.png$/, "-cnn-phone.png"), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1320, height: 1000 });
    }
  });

  it("shows a Fashion-MNIST model's class names, and frames the drawing as Fashion-MNIST framed its products", async () => {
    // A model file as train.ts --dataset fashion writes it (untrained weights: the names, not the answers, are tested).
    const net = mlp([784, 16, 10], { activation: "relu" });
    const fashion = join(dir, "fashion.safetensors");
    await writeFile(fashion, modelToBytes(net.init(random.key(3)).params as unknown as MlpParams, {
      architecture: [784, 16, 10], activation: "relu", normalization: "x / 255", dataset: "Fashion-MNIST", classNames: FASHION_CLASSES,
    }));
    await page.click("input[name=use][value=loaded]");
    await page.setInputFiles("#model-file", fashion);
    await expect.poll(() => page.locator("#model-status").textContent()).toContain("Loaded fashion.safetensors: [784, 16, 10] ReLU · Fashion-MNIST");
    expect(await page.locator("#bars .label").allTextContents()).toEqual(FASHION_CLASSES.map((n, i) => `${i} ${n}`));
    expect(await page.locator("#draw-title").textContent()).toBe("Draw a piece of clothing");
    expect(await page.locator("#sees-hint").textContent()).toMatch(/the longer side scaled to 28 and centred, as Fashion-MNIST's products were\.$/);
    expect(FASHION_CLASSES).toContain(await page.locator("#verdict-digit").textContent());
    const steps = await page.locator("#steps li").allTextContents();
    expect(steps.at(-1)).toMatch(/^centred: the \d+x28 box placed in the middle of 28x28$/); // the 1's longer side scaled to 28
    // The digit model again: digits, framed as MNIST's.
    await page.setInputFiles("#model-file", modelPath);
    await expect.poll(() => page.locator("#draw-title").textContent()).toBe("Draw a digit");
    expect(await page.locator("#sees-hint").textContent()).toMatch(/as MNIST was made\.$/);
    expect(await page.locator("#bars .label").allTextContents()).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect((await page.locator("#steps li").allTextContents()).at(-1)).toMatch(/^centred by mass/);
  });

  it("trains on Fashion-MNIST when the server lists it: its name in the run, one output and one bar per class, named", async () => {
    // The server lists Fashion-MNIST once `npm run data:fashion` has made it (server.spec.ts); this page is
    // answered by the test instead: 10 classes whose images are a bright band, 2 rows high, at row 4 + 2k.
    const image = (label: number): number[] => Array.from({ length: 784 }, (_, i) => (Math.floor(i / 28) - 4 - 2 * label) >>> 1 === 0 ? 255 : 0);
    const set = (count: number) => {
      const labels = Array.from({ length: count }, (_, i) => (i * 7) % 10);
      return {
        images: encodeIdx({ dims: [count, 28, 28], data: Uint8Array.from(labels.flatMap(image)) }),
        labels: encodeIdx({ dims: [count], data: Uint8Array.from(labels) }),
      };
    };
    const [train, test] = [set(2000), set(500)];
    const files: Record<string, Uint8Array> = {
      "train-images-idx3-ubyte": train.images, "train-labels-idx1-ubyte": train.labels, "t10k-images-idx3-ubyte": test.images, "t10k-labels-idx1-ubyte": test.labels,
    };
    const other = await browser!.newPage({ viewport: { width: 1320, height: 1000 } });
    const errors: string[] = [];
    other.on("pageerror", (e) => errors.push(e.message));
    try {
      await other.route("**/datasets.json", (route) => route.fulfill({
        json: { datasets: [{ id: "mnist", name: "MNIST", classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] }, { id: "fashion", name: "Fashion-MNIST", classNames: FASHION_CLASSES }] },
      }));
      await other.route("**/fashion/*", (route) => {
        const body = files[new URL(route.request().url()).pathname.split("/").at(-1)!];
        return body === undefined ? route.fulfill({ status: 404 }) : route.fulfill({ body: Buffer.from(body), contentType: "application/octet-stream" });
      });
      await other.goto(page.url(), { waitUntil: "load" });
      await expect.poll(() => other.locator("#dataset option").allTextContents()).toEqual(["MNIST", "Fashion-MNIST"]);
      await other.selectOption("#dataset", "fashion");
      await other.selectOption("#budget", "");
      await other.click("#start");
      await expect.poll(() => other.locator("#train-status").getAttribute("data-step").then(Number), { timeout: 30_000, interval: 250 }).toBeGreaterThanOrEqual(60);
      await other.click("#start"); // pause
      await expect.poll(() => other.locator("#train-status").getAttribute("data-running")).toBe("false");
      expect(await other.locator("#train-status").textContent()).toMatch(/^Fashion-MNIST: 784 → 64 → 10, ReLU/);
      expect(await other.locator("#data-note").textContent()).toMatch(/^Data: the first 2,000 Fashion-MNIST training images, of which the last 400 are held out/);
      expect(await other.locator("#bars .label").allTextContents()).toEqual(FASHION_CLASSES.map((n, i) => `${i} ${n}`));
      expect(await other.locator("#prediction").getAttribute("data-model")).toBe("the model trained in this page");
      const recent = Number(await other.locator("#loss-chart").getAttribute("data-recent-loss"));
      expect(recent).toBeLessThan(0.5); // from about ln 10 = 2.3: the bands are learned
      expect(errors).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it("asked the server for nothing it did not have (no 404 in the console)", () => {
    expect(badResponses).toEqual([]);
  });

  it("raised no errors in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
