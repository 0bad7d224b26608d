// What a dataset is besides its pixels: its name and the names of its classes, read from a small
// metadata file beside the IDX files (dataset.json), and the number of classes, which without one
// comes from the labels (the largest label + 1, as Keras's users count them).
//
//   { "name": "Fashion-MNIST", "classes": ["T-shirt/top", "Trouser", ...], "source": "...", "split": "..." }
//
// No Node imports here: the playground checks a model's class names with the same rules.

import { DataError } from "./idx-parse.ts";

/** The name of the metadata file beside a dataset's IDX files. */
export const DATASET_FILE = "dataset.json";

export interface DatasetInfo {
  /** What the dataset is called in outputs and model files: "MNIST", "Fashion-MNIST". */
  readonly name: string;
  /** One name per class, in label order: classNames[y] names label y. */
  readonly classNames: readonly string[];
  /** Where the files came from and how they were split, when the metadata says. */
  readonly source?: string;
  readonly split?: string;
}

export const MAX_CLASSES = 256; // labels are bytes
const MAX_NAME = 60;

/** MNIST's, for the installed files (which come without a metadata file). */
export const MNIST_INFO: DatasetInfo = Object.freeze({ name: "MNIST", classNames: Object.freeze(Array.from({ length: 10 }, (_, i) => String(i))) });

/** Classes named by their labels: "0", "1", ... (a dataset without metadata). */
export const numberedClasses = (count: number): string[] => Array.from({ length: count }, (_, i) => String(i));

/**
 * What is wrong with a list of class names, or null: 2 to 256 distinct names, each a non-empty
 * string of at most 60 characters with no control characters.
 */
export const classNamesProblem = (names: unknown): string | null => {
  if (!Array.isArray(names)) return `is ${JSON.stringify(names) ?? "missing"}: expected a list of class names`;
  if (names.length < 2 || names.length > MAX_CLASSES) return `holds ${names.length} names: expected 2 to ${MAX_CLASSES}, one per class`;
  for (let i = 0; i < names.length; i++) {
    const n: unknown = names[i];
    // eslint-disable-next-line no-control-regex
    if (typeof n !== "string" || n.trim() === "" || n.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(n)) {
      return `entry ${i} is ${JSON.stringify(n)}: expected a name of 1 to ${MAX_NAME} characters without control characters`;
    }
    const first = names.indexOf(n);
    if (first !== i) return `names ${JSON.stringify(n)} twice (entries ${first} and ${i}): expected one name per class`;
  }
  return null;
};

const KEYS = ["name", "classes", "source", "split"] as const;

/** A dataset.json's text, checked: a name, the class names, and optionally its source and split (strings). */
export const parseDatasetInfo = (text: string, file: string): DatasetInfo => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, `not valid JSON (${(e as Error).message}); expected {"name": ..., "classes": [...]}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new DataError(file, `expected a JSON object {"name": ..., "classes": [...]}, found ${Array.isArray(json) ? "a list" : JSON.stringify(json)}`);
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(KEYS as readonly string[]).includes(k)) throw new DataError(file, `"${k}" is not a field of ${DATASET_FILE} (expected ${KEYS.join(", ")})`);
  if (typeof o.name !== "string" || o.name.trim() === "" || o.name.length > MAX_NAME) throw new DataError(file, `"name" is ${JSON.stringify(o.name) ?? "missing"}: expected the dataset's name, 1 to ${MAX_NAME} characters`);
  const problem = classNamesProblem(o.classes);
  if (problem !== null) throw new DataError(file, `"classes" ${problem}`);
  for (const k of ["source", "split"] as const) if (o[k] !== undefined && typeof o[k] !== "string") throw new DataError(file, `"${k}" is ${JSON.stringify(o[k])}: expected a string`);
  return {
    name: o.name,
    classNames: o.classes as string[],
    ...(typeof o.source === "string" && { source: o.source }),
    ...(typeof o.split === "string" && { split: o.split }),
  };
};

/** The text of a dataset.json. */
export const datasetInfoJson = (info: DatasetInfo): string =>
  `${JSON.stringify({ name: info.name, classes: info.classNames, ...(info.source !== undefined && { source: info.source }), ...(info.split !== undefined && { split: info.split }) }, null, 2)}\n`;

/** The largest label + 1 over the label sets: how many classes the labels use. */
export const classCountOf = (...labelSets: readonly Uint8Array[]): number => {
  let max = -1;
  for (const labels of labelSets) for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  return max + 1;
};

/** "T-shirt/top" for label 0 of Fashion-MNIST; "7" for a numbered class. */
export const className = (names: readonly string[], label: number): string => names[label] ?? String(label);

/** Whether the classes have names of their own (not just their labels "0", "1", ...). */
export const hasNames = (names: readonly string[]): boolean => names.some((n, i) => n !== String(i));

/** A class as rows of a table show it: "0 T-shirt/top", or "7" when the classes are numbered. */
export const classLabel = (names: readonly string[], label: number): string => (hasNames(names) ? `${label} ${className(names, label)}` : String(label));

/** The classes in a line, in label order: "10: T-shirt/top, Trouser, ...", shortened past `width` characters. */
export const classList = (names: readonly string[], width = 100): string => {
  const all = names.join(", ");
  return all.length <= width ? `${names.length}: ${all}` : `${names.length}: ${all.slice(0, width - 3).replace(/, [^,]*$/, "")}, ..., ${names[names.length - 1]}`;
};
