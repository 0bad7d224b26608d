// Data augmentation: each training image moved by a small random shift and rotation, as a pure,
// seeded batch transform (the same key gives the same images), on the pixels' bytes before they are
// scaled. A digit moved two pixels or turned ten degrees is still that digit; a network trained on
// such copies learns to ignore where and how straight the digit sits.

import { random, type Tensor, tensor } from "../autograd/index.ts";

export interface Augmentation {
  /** The largest shift, in pixels, along each axis (a real number: the image is resampled). */
  readonly shift: number;
  /** The largest rotation, in degrees, either way. */
  readonly rotate: number;
}

/**
 * The batch [n, rows * cols] of bytes with image i turned by angle_i about its centre and moved by
 * (dx_i, dy_i): output pixel p takes the input at R^-1 (p - centre - d) + centre, read by bilinear
 * interpolation (zero outside the image) and rounded to a byte. angle_i, dx_i and dy_i are uniform in
 * [-rotate, rotate] degrees and [-shift, shift] pixels, drawn from `key`.
 */
export const augmentPixels = (pixels: Uint8Array, n: number, rows: number, cols: number, key: random.Key, { shift, rotate }: Augmentation): Uint8Array => {
  const draws = random.uniform(key, [n, 3], { low: -1, high: 1, dtype: "float64" }).data;
  const out = new Uint8Array(n * rows * cols);
  const cy = (rows - 1) / 2;
  const cx = (cols - 1) / 2;
  const at = (base: number, y: number, x: number): number => (y >= 0 && y < rows && x >= 0 && x < cols ? pixels[base + y * cols + x]! : 0);
  for (let i = 0; i < n; i++) {
    const angle = (draws[3 * i]! * rotate * Math.PI) / 180;
    const dy = draws[3 * i + 1]! * shift;
    const dx = draws[3 * i + 2]! * shift;
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const base = i * rows * cols;
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        // The inverse map: undo the shift, then the rotation. (Plain numbers: this runs for every
        // pixel of every training image, so nothing here allocates.)
        const u = y - cy - dy;
        const v = x - cx - dx;
        const sy = c * u + s * v + cy;
        const sx = -s * u + c * v + cx;
        const y0 = Math.floor(sy);
        const x0 = Math.floor(sx);
        const fy = sy - y0;
        const fx = sx - x0;
        const value =
          (1 - fy) * ((1 - fx) * at(base, y0, x0) + fx * at(base, y0, x0 + 1)) +
          fy * ((1 - fx) * at(base, y0 + 1, x0) + fx * at(base, y0 + 1, x0 + 1));
        out[base + y * cols + x] = Math.min(255, Math.max(0, Math.round(value)));
      }
    }
  }
  return out;
};

/** augmentPixels on a batch's pixel tensor (uint8 [n, rows * cols]): a new tensor. */
export const augmentBatch = (pixels: Tensor, rows: number, cols: number, key: random.Key, augmentation: Augmentation): Tensor =>
  tensor(augmentPixels(pixels.data as Uint8Array, pixels.shape[0]!, rows, cols, key, augmentation), pixels.shape, "uint8");
