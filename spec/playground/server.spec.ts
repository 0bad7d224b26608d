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
