// The playground's dev server, as a phone on the network reaches it (people start it with --host):
// a malformed URL is a 400 without a stack trace, nothing outside the page and the engine's source is
// served through Vite's /@fs/, and models/ serves only the regular files really inside it.

import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, type InlineConfig, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { playgroundFiles } from "../../src/apps/playground/files-plugin.ts";
import { datasetInfoJson } from "../../src/data/dataset.ts";
import { FASHION_CLASSES } from "../../src/data/fashion-mnist.ts";
import { writeIdx } from "../../src/data/idx.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const playground = join(root, "src/apps/playground");

/** A raw GET (no URL normalization on the way): status and body. */
const get = (server: ViteDevServer, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const { port } = server.httpServer!.address() as { port: number };
    request({ host: "localhost", port, path }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    }).on("error", reject).end();
  });

const start = async (options: InlineConfig): Promise<ViteDevServer> => {
  const server = await createServer({ ...options, server: { port: 0, strictPort: false, hmr: false, watch: null }, logLevel: "silent" });
  await server.listen();
  return server;
};

describe("the playground's dev server, with its own configuration", () => {
  let server: ViteDevServer;
  beforeAll(async () => {
    server = await start({ configFile: join(playground, "vite.config.ts") });
  });
  afterAll(() => server.close());

  it("answers a malformed URL with 400 and a plain sentence, not a 500 with a stack trace", async () => {
    for (const path of ["/%ZZ", "/models/%ZZ.safetensors", "/mnist/%E0%A4%A"]) {
      const r = await get(server, path);
      expect(r.status).toBe(400);
      expect(r.body).toBe("bad request: the URL's percent-escapes are malformed");
    }
  });

  it("serves the page and the engine's source, and nothing else of the repository through /@fs/ (no path in the answer)", async () => {
    expect((await get(server, "/")).status).toBe(200);
    expect((await get(server, `/@fs${root}src/nn/index.ts`)).status).toBe(200);
    for (const path of ["package.json", "README.md", ".git/config", "src/apps/train.ts", "src/nn/../../package.json", "node_modules/immer/package.json"]) {
      const r = await get(server, `/@fs${root}${path}`);
      expect(r.status, path).toBe(403);
      expect(r.body).toBe("not served: the playground serves only its page and the engine's source");
    }
    expect((await get(server, "/@fs/etc/passwd")).status).toBe(403);
  });
});

describe("the playground's models/ route", () => {
  const dir = mkdtempSync(join(tmpdir(), "playground-models-"));
  const models = join(dir, "models");
  let server: ViteDevServer;
  beforeAll(async () => {
    mkdirSync(models);
    writeFileSync(join(models, "mine.safetensors"), "model bytes");
    copyFileSync(join(models, "mine.safetensors"), join(dir, "outside.safetensors"));
    symlinkSync("/etc/passwd", join(models, "evil.safetensors"));
    symlinkSync(join(dir, "outside.safetensors"), join(models, "out.safetensors"));
    symlinkSync("mine.safetensors", join(models, "alias.safetensors"));
    execFileSync("mkfifo", [join(models, "fifo.safetensors")]);
    mkdirSync(join(models, "folder.safetensors"));
    server = await start({ configFile: false, root: playground, appType: "mpa", plugins: [playgroundFiles({ repoRoot: dir, modelsDir: models })] });
  });
  afterAll(() => server.close());

  it("serves a model file, also through a symlink that stays inside models/", async () => {
    expect(await get(server, "/models/mine.safetensors")).toEqual({ status: 200, body: "model bytes" });
    expect(await get(server, "/models/alias.safetensors")).toEqual({ status: 200, body: "model bytes" });
  });

  it("does not serve a symlink out of models/ (to /etc/passwd, or beside it), a FIFO or a folder", async () => {
    for (const name of ["evil", "out", "fifo", "folder", "missing"]) {
      expect(await get(server, `/models/${name}.safetensors`)).toEqual({ status: 404, body: `no model at models/${name}.safetensors` });
    }
  });
});

describe("the playground's datasets", () => {
  const dir = mkdtempSync(join(tmpdir(), "playground-data-"));
  const fashion = join(dir, "data", "fashion-mnist");
  let bare: ViteDevServer;
  let both: ViteDevServer;
  beforeAll(async () => {
    // A tiny Fashion-MNIST as npm run data:fashion writes it: gzip IDX files and a dataset.json.
    mkdirSync(fashion, { recursive: true });
    writeIdx(join(fashion, "train-images-idx3-ubyte.gz"), { dims: [3, 28, 28], data: new Uint8Array(3 * 784).fill(7) });
    writeIdx(join(fashion, "train-labels-idx1-ubyte.gz"), { dims: [3], data: Uint8Array.of(0, 9, 4) });
    writeIdx(join(fashion, "t10k-images-idx3-ubyte.gz"), { dims: [2, 28, 28], data: new Uint8Array(2 * 784) });
    writeIdx(join(fashion, "t10k-labels-idx1-ubyte.gz"), { dims: [2], data: Uint8Array.of(1, 2) });
    writeFileSync(join(fashion, "dataset.json"), datasetInfoJson({ name: "Fashion-MNIST", classNames: FASHION_CLASSES }));
    bare = await start({ configFile: false, root: playground, appType: "mpa", plugins: [playgroundFiles({ repoRoot: dir, dataRoot: join(dir, "nothing") })] });
    both = await start({ configFile: false, root: playground, appType: "mpa", plugins: [playgroundFiles({ repoRoot: dir, dataRoot: join(dir, "data") })] });
  });
  afterAll(async () => {
    await bare.close();
    await both.close();
  });

  it("lists MNIST, and Fashion-MNIST with its class names once npm run data:fashion has made it", async () => {
    const digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    expect(JSON.parse((await get(bare, "/datasets.json")).body)).toEqual({ datasets: [{ id: "mnist", name: "MNIST", classNames: digits }] });
    expect(JSON.parse((await get(both, "/datasets.json")).body)).toEqual({
      datasets: [{ id: "mnist", name: "MNIST", classNames: digits }, { id: "fashion", name: "Fashion-MNIST", classNames: [...FASHION_CLASSES] }],
    });
  });

  it("serves each dataset's files uncompressed, and a plain 500 for one that is not there", async () => {
    const labels = await new Promise<Buffer>((resolve, reject) => {
      const { port } = both.httpServer!.address() as { port: number };
      request({ host: "localhost", port, path: "/fashion/train-labels-idx1-ubyte" }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve(Buffer.concat(chunks)));
      }).on("error", reject).end();
    });
    expect(Array.from(labels)).toEqual([0, 0, 8, 1, 0, 0, 0, 3, 0, 9, 4]); // magic 0x0801, count 3, the labels
    expect((await get(both, "/fashion/t10k-images-idx3-ubyte")).status).toBe(200);
    expect(await get(bare, "/fashion/t10k-images-idx3-ubyte")).toEqual({ status: 500, body: "Fashion-MNIST has not been made: run `npm run data:fashion`" });
    expect(await get(both, "/fashion/other-file")).toEqual({ status: 404, body: "no such Fashion-MNIST file: other-file" });
  });
});
