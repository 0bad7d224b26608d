// An image in memory: row-major RGBA bytes, as PNG decoders give them and canvas ImageData holds
// them. What image-io.ts decodes and encodes and preprocess.ts reads. No node: imports, so the
// browser playground shares it.

/** Row-major RGBA pixels, 4 bytes per pixel, top-left first. */
export interface Image {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** A width x height image filled with one colour (RGB, or RGBA; alpha 255 by default). */
export const createImage = (width: number, height: number, background: readonly number[] = [255, 255, 255]): Image => {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`createImage: the size must be positive integers, got ${width}x${height}`);
  }
  const [r = 255, g = 255, b = 255, a = 255] = background;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) rgba.set([r, g, b, a], i);
  return { width, height, rgba };
};
