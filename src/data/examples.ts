// A set of examples (images with their labels) and the checks that make an images/labels pair one.
// No Node imports: the playground's worker builds its training set with the same checks.

import { DataError, type IdxArray } from "./idx-parse.ts";

/** A set of images with their labels. Pixels stay bytes (0..255), row-major, one image after another. */
export interface Examples {
  /** count * rows * cols bytes: image i is images.subarray(i * rows * cols, (i + 1) * rows * cols). */
  readonly images: Uint8Array;
  /** count class indices (bytes; loadMnist checks them against the dataset's classes). */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
}

/**
 * What makes an images/labels pair a valid set of examples, checked on already-parsed IDX arrays;
 * with `classes`, every label must be below it.
 */
export const toExamples = (images: IdxArray, labels: IdxArray, names: { images: string; labels: string }, classes?: number): Examples => {
  if (images.type !== "ubyte" || images.dims.length !== 3) {
    throw new DataError(names.images, `expected ubyte images of 3 dimensions (count x rows x cols, magic 0x00000803), found ${images.type} of ${images.dims.length}`);
  }
  if (labels.type !== "ubyte" || labels.dims.length !== 1) {
    throw new DataError(names.labels, `expected ubyte labels of 1 dimension (magic 0x00000801), found ${labels.type} of ${labels.dims.length}`);
  }
  const [count, rows, cols] = images.dims as [number, number, number];
  if (count === 0) throw new DataError(names.images, `holds no images (its dimensions are 0 x ${rows} x ${cols}); expected at least one`);
  if (rows === 0 || cols === 0) throw new DataError(names.images, `its images are ${rows} x ${cols} pixels; expected at least 1 x 1`);
  if (labels.dims[0] !== count) {
    throw new DataError(names.labels, `holds ${labels.dims[0]} labels but ${names.images} holds ${count} images; they must agree (are the files from the same dataset?)`);
  }
  const y = labels.data as Uint8Array;
  if (classes !== undefined) checkLabels(y, classes, names.labels);
  return { images: images.data as Uint8Array, labels: y, count, rows, cols };
};

/** Refuses a label that is not a class in [0, classes), naming the labels file (and where the classes come from). */
export const checkLabels = (labels: Uint8Array, classes: number, file: string, why = ""): void => {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= classes) throw new DataError(file, `label ${labels[i]} at index ${i} is not a class in [0, ${classes - 1}]${why}`);
  }
};
