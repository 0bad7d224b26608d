// Image files in and out: PNG and JPEG decoded to RGBA (pngjs and jpeg-js do the decoding), PNG
// written atomically. The format is recognised by its magic bytes, never by the file name, and an
// image's size is read from its header and checked BEFORE any pixel is decoded: its pixel count, its
// sides and its aspect ratio are bounded, and the file must be complete (a PNG's chunks end with IEND,
// a JPEG's scan with its end-of-image marker) and hold enough compressed data for the size it claims,
// so a small file that claims 100000 x 100000 pixels, or a truncated one, is refused at once.

import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { FileError, readRegularFile, writeFileAtomic } from "./files.ts";
import type { Image } from "./image.ts";

/** The one error image input and output throws: the message names the file, what is wrong and what was expected. */
export class ImageError extends Error {
  override name = "ImageError";
  /** The file the error is about. */
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.file = file;
  }
}

export type ImageFormat = "png" | "jpeg";

/** A decoded image: RGBA, 8 bits per channel, whatever the file's colour type and bit depth. */
export interface DecodedImage extends Image {
  readonly format: ImageFormat;
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (checked from the header, before decoding). Default 25e6. */
  readonly maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 25e6;
/** The most `maxPixels` may be raised to: decoding takes about 8 bytes a pixel, 800 MB at this limit. */
export const MAX_PIXELS_LIMIT = 100e6;
/** The longest side accepted, in pixels (a 48 kB PNG can declare 1 x 25,000,000). */
export const MAX_SIDE = 20_000;
/** The most elongated picture accepted (long side : short side); a digit is roughly square. */
export const MAX_ASPECT = 50;
/** Bytes an image file may hold for `maxPixels` pixels: 8 a pixel (16-bit RGBA), plus 16 MiB for metadata. */
export const imageByteLimit = (maxPixels: number): number => Math.ceil(8 * maxPixels) + 16 * 2 ** 20;

const ACCEPTED = "a PNG or JPEG image";
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0): boolean =>
  bytes.length >= at + prefix.length && prefix.every((b, i) => bytes[at + i] === b);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const hexBytes = (bytes: Uint8Array, n: number): string =>
  [...bytes.subarray(0, n)].map((b) => b.toString(16).padStart(2, "0")).join(" ");

/** Names formats people are likely to hand us by mistake, so the error can say what the file is. */
const recogniseOther = (bytes: Uint8Array): string | null => {
  if (startsWith(bytes, ascii("GIF8"))) return "GIF";
  if (startsWith(bytes, ascii("BM"))) return "BMP";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "WebP";
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return "TIFF";
  if (startsWith(bytes, ascii("ftyp"), 4)) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    return brand.startsWith("avi") ? "AVIF" : brand.startsWith("he") || brand.startsWith("mif") ? "HEIC" : "an ISO media file (HEIC/AVIF/MP4)";
  }
  if (startsWith(bytes, ascii("%PDF"))) return "PDF";
  if (startsWith(bytes, ascii("<svg")) || startsWith(bytes, ascii("<?xml"))) return "SVG/XML text";
  if (startsWith(bytes, [0x1f, 0x8b])) return "gzip-compressed data";
  if (startsWith(bytes, [0x00, 0x00, 0x08, 0x03])) return "an MNIST IDX image file";
  return null;
};

/** PNG or JPEG by magic bytes; anything else is refused with what it looks like and what is accepted. */
export const detectFormat = (bytes: Uint8Array, name: string): ImageFormat => {
  if (bytes.length === 0) throw new ImageError(name, `empty file (0 bytes); expected ${ACCEPTED}`);
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  // A PNG cut short inside its 8-byte signature is truncated, not "some other format".
  if (bytes.length < PNG_SIGNATURE.length && startsWith(bytes, PNG_SIGNATURE.slice(0, bytes.length))) {
    throw new ImageError(name, `truncated PNG: only ${bytes.length} of the 8 signature bytes are present`);
  }
  const other = recogniseOther(bytes);
  const seen = `starts with bytes ${hexBytes(bytes, 8)}`;
  throw new ImageError(
    name,
    `not a PNG or JPEG image (${other === null ? seen : `looks like ${other}; ${seen}`}); accepted formats are PNG and JPEG (.png, .jpg, .jpeg)`,
  );
};

export interface ImageHeader {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

const readU32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const readU16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** PNG: the signature, then the IHDR chunk (length 13, "IHDR", width, height, ...) must come first. */
const pngHeader = (bytes: Uint8Array, name: string): ImageHeader & { readonly bitDepth: number; readonly colorType: number } => {
  if (bytes.length < 8 + 8 + 13) {
    throw new ImageError(name, `truncated PNG: ${bytes.length} bytes, too short to hold the IHDR header (needs at least 29)`);
  }
  if (!startsWith(bytes, ascii("IHDR"), 12) || readU32(bytes, 8) !== 13) {
    throw new ImageError(name, `corrupt PNG: the first chunk is not a 13-byte IHDR header (found "${String.fromCharCode(...bytes.subarray(12, 16))}")`);
  }
  return { format: "png", width: readU32(bytes, 16), height: readU32(bytes, 20), bitDepth: bytes[24]!, colorType: bytes[25]! };
};

/** Samples a pixel holds, by PNG colour type: grey, RGB, palette index, grey + alpha, RGBA. */
const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Deflate's best ratio: a 258-byte match coded in 2 bits. No stream inflates to more than this per byte. */
const DEFLATE_MAX_RATIO = 1032;

/**
 * The chunks of a PNG, walked before decoding: each must lie inside the file and IEND must come, so a
 * truncated file fails at once; and the compressed image data (IDAT) must be large enough to inflate
 * to the rows the header declares, so a small file cannot claim a huge image.
 */
const checkPngChunks = (bytes: Uint8Array, name: string, header: ReturnType<typeof pngHeader>): void => {
  let at = 8;
  let idat = 0;
  for (;;) {
    if (at + 12 > bytes.length) {
      throw new ImageError(name, `truncated PNG: the file ends at byte ${bytes.length} before its end chunk (IEND); expected a complete PNG file`);
    }
    const length = readU32(bytes, at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) {
      throw new ImageError(name, `truncated PNG: the ${JSON.stringify(type)} chunk at byte ${at} needs ${length + 12} bytes, the file ends after ${bytes.length - at}; expected a complete PNG file`);
    }
    if (type === "IDAT") idat += length;
    if (type === "IEND") break;
    at += 12 + length;
  }
  const channels = PNG_CHANNELS[header.colorType];
  if (channels === undefined) return; // pngjs names the bad colour type
  // Each row: a filter byte, then width * channels * bitDepth bits.
  const raw = header.height * (1 + Math.ceil((header.width * channels * header.bitDepth) / 8));
  if (raw > DEFLATE_MAX_RATIO * idat + 65536) {
    throw new ImageError(
      name,
      `corrupt PNG: its compressed image data (${idat.toLocaleString("en-US")} bytes) cannot hold a ${header.width}x${header.height} image ` +
        `(${raw.toLocaleString("en-US")} bytes, at most ${DEFLATE_MAX_RATIO}:1 compressed); the file is truncated or its header is wrong`,
    );
  }
};

// Start-of-frame markers carry the size: C0-C3, C5-C7, C9-CB, CD-CF (C4 is DHT, C8 reserved, CC is DAC).
const isStartOfFrame = (marker: number): boolean =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

interface JpegLayout extends ImageHeader {
  readonly frameMarker: number;
  /** Where the segment after the frame header starts. */
  readonly afterFrame: number;
  /** EXIF orientation 1..8 (1 = as stored) from an APP1 Exif segment before the frame. */
  readonly orientation: number;
}

/**
 * JPEG: walk the marker segments from SOI (each FF xx followed by a 2-byte big-endian length that
 * counts itself) until the start-of-frame segment: precision (1 byte), height (2), width (2).
 */
const jpegLayout = (bytes: Uint8Array, name: string): JpegLayout => {
  let at = 2;
  let orientation = 1;
  for (;;) {
    while (at < bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++; // fill bytes
    if (at + 4 > bytes.length) {
      throw new ImageError(name, `truncated JPEG: the file ends (at byte ${bytes.length}) before the frame header that gives the image size`);
    }
    if (bytes[at] !== 0xff) {
      throw new ImageError(name, `corrupt JPEG: expected a marker (0xFF) at byte ${at}, found 0x${bytes[at]!.toString(16).padStart(2, "0")}`);
    }
    const marker = bytes[at + 1]!;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // standalone markers carry no length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) {
      throw new ImageError(name, `corrupt JPEG: no frame header (SOF) before the ${marker === 0xda ? "scan data" : "end of image"}`);
    }
    const length = readU16(bytes, at + 2);
    if (length < 2) throw new ImageError(name, `corrupt JPEG: segment 0xFF${marker.toString(16).toUpperCase()} at byte ${at} has length ${length} (at least 2)`);
    const body = at + 4;
    if (at + 2 + length > bytes.length) {
      throw new ImageError(name, `truncated JPEG: the segment at byte ${at} needs ${length} bytes, the file ends after ${bytes.length - at - 2}`);
    }
    if (isStartOfFrame(marker)) {
      if (length < 8) throw new ImageError(name, `corrupt JPEG: the frame header is ${length} bytes long (at least 8)`);
      return { format: "jpeg", height: readU16(bytes, body + 1), width: readU16(bytes, body + 3), frameMarker: marker, afterFrame: at + 2 + length, orientation };
    }
    if (marker === 0xe1) orientation = exifOrientation(bytes.subarray(body, at + 2 + length)) ?? orientation;
    at += 2 + length;
  }
};

/**
 * The rest of a JPEG, checked before decoding: the segments after the frame header lead to a scan (SOS),
 * and the end-of-image marker (FF D9) comes after it, so a truncated file fails at once. The
 * Huffman-coded scans (baseline, extended, progressive) spend at least one bit on every 8x8 block of
 * the image, so a file whose scan data is smaller than pixels / 512 bytes cannot be the image its
 * header declares (checked at pixels / 1024, with room to spare).
 */
const checkJpegComplete = (bytes: Uint8Array, name: string, layout: JpegLayout): void => {
  let at = layout.afterFrame;
  for (;;) {
    while (at < bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++;
    if (at + 4 > bytes.length) throw new ImageError(name, `truncated JPEG: the file ends (at byte ${bytes.length}) before the scan data; expected a complete JPEG file`);
    if (bytes[at] !== 0xff) throw new ImageError(name, `corrupt JPEG: expected a marker (0xFF) at byte ${at}, found 0x${bytes[at]!.toString(16).padStart(2, "0")}`);
    const marker = bytes[at + 1]!;
    if (marker === 0xda) break;
    if (marker === 0xd9) throw new ImageError(name, "corrupt JPEG: the image ends (marker FF D9) before any scan data");
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    at += 2 + readU16(bytes, at + 2);
  }
  const scanStart = at;
  let end = bytes.length - 2;
  while (end > scanStart && !(bytes[end] === 0xff && bytes[end + 1] === 0xd9)) end--;
  if (end <= scanStart) {
    throw new ImageError(name, `truncated JPEG: no end-of-image marker (FF D9) after the scan data that starts at byte ${scanStart}; the file is cut short (${bytes.length.toLocaleString("en-US")} bytes)`);
  }
  const huffman = layout.frameMarker === 0xc0 || layout.frameMarker === 0xc1 || layout.frameMarker === 0xc2;
  const need = Math.floor((layout.width * layout.height) / 1024);
  if (huffman && end - scanStart < need) {
    throw new ImageError(
      name,
      `corrupt JPEG: its scan data (${(end - scanStart).toLocaleString("en-US")} bytes) is too small for a ${layout.width}x${layout.height} image ` +
        `(at least ${need.toLocaleString("en-US")} bytes); the file is truncated or its header is wrong`,
    );
  }
};

/**
 * The Orientation tag (0x0112) of an APP1 "Exif\0\0" segment, or null. The payload is a TIFF file:
 * byte order "II"/"MM", 42, the offset of IFD0, then 12-byte entries (tag, type, count, value).
 * Phone cameras store pictures sideways and set this tag instead of rotating the pixels.
 */
export const exifOrientation = (app1: Uint8Array): number | null => {
  if (!startsWith(app1, [...ascii("Exif"), 0, 0])) return null;
  const tiff = app1.subarray(6);
  if (tiff.length < 8) return null;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return null;
  const u16 = (at: number): number => (little ? tiff[at]! | (tiff[at + 1]! << 8) : readU16(tiff, at));
  const u32 = (at: number): number =>
    little ? (tiff[at]! | (tiff[at + 1]! << 8) | (tiff[at + 2]! << 16) | (tiff[at + 3]! << 24)) >>> 0 : readU32(tiff, at);
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return null;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + 12 * k;
    if (entry + 12 > tiff.length) return null;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8); // a SHORT value sits in the first 2 bytes of the value field
      return value >= 1 && value <= 8 ? value : null;
    }
  }
  return null;
};

/** The format and size an image file declares, read from its header without decoding any pixel. */
export const readImageHeader = (bytes: Uint8Array, name: string): ImageHeader => {
  const format = detectFormat(bytes, name);
  const { width, height } = format === "png" ? pngHeader(bytes, name) : jpegLayout(bytes, name);
  return { format, width, height };
};

const megapixels = (n: number): string => (n >= 1e5 ? `${(n / 1e6).toFixed(1)} megapixels` : `${n.toLocaleString("en-US")} pixels`);

const checkSize = (header: ImageHeader, name: string, maxPixels: number): void => {
  const { width, height, format } = header;
  if (width === 0 || height === 0) {
    throw new ImageError(name, `the ${format.toUpperCase()} header says the image is ${width}x${height} pixels; expected a width and height of at least 1`);
  }
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new ImageError(
      name,
      `image too large: ${width}x${height} = ${megapixels(pixels)}, above the limit of ${megapixels(maxPixels)} (maxPixels = ${maxPixels}); expected a smaller picture (scale it down first)`,
    );
  }
  if (Math.max(width, height) > MAX_SIDE) {
    throw new ImageError(name, `image too large: ${width}x${height} pixels, a side longer than the limit of ${MAX_SIDE.toLocaleString("en-US")} pixels; expected a smaller picture (scale it down first)`);
  }
  const aspect = Math.max(width, height) / Math.min(width, height);
  if (aspect > MAX_ASPECT) {
    throw new ImageError(name, `image too elongated: ${width}x${height} pixels, its long side ${Math.round(aspect).toLocaleString("en-US")} times its short side, above the limit of ${MAX_ASPECT}; expected a picture of one digit (crop it first)`);
  }
};

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const decodePng = (bytes: Uint8Array, name: string): Image => {
  try {
    // pngjs expands every colour type and bit depth (1/2/4/8/16-bit grey, grey+alpha, RGB, RGBA,
    // palette with tRNS, interlaced) to 8-bit RGBA; 16-bit samples are rounded to 8 bits.
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  } catch (e) {
    throw new ImageError(name, `truncated or corrupt PNG (${reason(e)}); expected a complete PNG file`);
  }
};

/** What kind of JPEG a start-of-frame marker announces (jpeg-js decodes baseline, extended and progressive). */
export const jpegKind = (frameMarker: number): string =>
  frameMarker === 0xc0
    ? "baseline"
    : frameMarker === 0xc1
      ? "extended sequential"
      : frameMarker === 0xc2
        ? "progressive"
        : frameMarker === 0xc3
          ? "lossless"
          : frameMarker >= 0xc9
            ? "arithmetic-coded"
            : "hierarchical";

const decodeJpeg = (bytes: Uint8Array, name: string, layout: JpegLayout, maxPixels: number): Image => {
  const kind = `${jpegKind(layout.frameMarker)}, SOF marker 0xFF${layout.frameMarker.toString(16).toUpperCase()}`;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: maxPixels / 1e6,
      // jpeg-js needs the RGBA output plus its component planes: budget 8 bytes a pixel and some slack.
      maxMemoryUsageInMB: Math.max(512, Math.ceil((layout.width * layout.height * 8) / 2 ** 20) + 64),
    });
  } catch (e) {
    throw new ImageError(name, `truncated, corrupt or unsupported JPEG (${kind}; ${reason(e)}); expected a baseline or progressive JPEG file`);
  }
  if (decoded.width !== layout.width || decoded.height !== layout.height || decoded.data.length !== decoded.width * decoded.height * 4) {
    throw new ImageError(name, `corrupt JPEG: decoded ${decoded.width}x${decoded.height} pixels, the frame header says ${layout.width}x${layout.height}`);
  }
  return applyOrientation({ width: decoded.width, height: decoded.height, rgba: decoded.data }, layout.orientation);
};

/**
 * Turns the stored pixels upright according to EXIF orientation (1..8, as in the TIFF spec):
 * output pixel (x, y) reads stored pixel `source(x, y)`. 5..8 swap width and height.
 */
export const applyOrientation = (img: Image, orientation: number): Image => {
  if (orientation === 1 || orientation < 1 || orientation > 8 || !Number.isInteger(orientation)) return img;
  const { width: w, height: h } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const source: (x: number, y: number) => [number, number] = {
    2: (x: number, y: number): [number, number] => [w - 1 - x, y], // mirrored left-right
    3: (x: number, y: number): [number, number] => [w - 1 - x, h - 1 - y], // upside down
    4: (x: number, y: number): [number, number] => [x, h - 1 - y], // mirrored top-bottom
    5: (x: number, y: number): [number, number] => [y, x], // transposed
    6: (x: number, y: number): [number, number] => [y, h - 1 - x], // stored a quarter turn anticlockwise: turn clockwise
    7: (x: number, y: number): [number, number] => [w - 1 - y, h - 1 - x], // transversed
    8: (x: number, y: number): [number, number] => [w - 1 - y, x], // stored a quarter turn clockwise: turn anticlockwise
  }[orientation]!;
  const rgba = new Uint8Array(ow * oh * 4);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const [sx, sy] = source(x, y);
      const s = (sy * w + sx) * 4;
      rgba.set(img.rgba.subarray(s, s + 4), (y * ow + x) * 4);
    }
  }
  return { width: ow, height: oh, rgba };
};

/**
 * Decodes a PNG or JPEG (recognised by magic bytes) to 8-bit RGBA. `name` is only used in error
 * messages. The size is checked from the header against `maxPixels` before decoding; JPEGs are
 * turned upright by their EXIF orientation.
 */
export const decodeImage = (bytes: Uint8Array, name: string, { maxPixels = DEFAULT_MAX_PIXELS }: DecodeOptions = {}): DecodedImage => {
  if (!(maxPixels >= 1 && maxPixels <= MAX_PIXELS_LIMIT)) throw new RangeError(`decodeImage: maxPixels must be from 1 to ${MAX_PIXELS_LIMIT}, got ${maxPixels}`);
  const format = detectFormat(bytes, name);
  if (format === "png") {
    const header = pngHeader(bytes, name);
    checkSize(header, name, maxPixels);
    checkPngChunks(bytes, name, header);
    return { format, ...decodePng(bytes, name) };
  }
  const layout = jpegLayout(bytes, name);
  checkSize(layout, name, maxPixels);
  checkJpegComplete(bytes, name, layout);
  return { format, ...decodeJpeg(bytes, name, layout, maxPixels) };
};

/**
 * Reads and decodes an image file (see decodeImage). Only a regular file is read (not a device, FIFO
 * or directory, even behind a symlink), and at most imageByteLimit(maxPixels) bytes of it.
 */
export const readImage = (path: string, options: DecodeOptions = {}): DecodedImage => {
  let bytes: Uint8Array;
  try {
    bytes = readRegularFile(path, imageByteLimit(options.maxPixels ?? DEFAULT_MAX_PIXELS));
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    if (e.code === "ENOENT") throw new ImageError(path, `no such file; expected the path of ${ACCEPTED}`);
    if (e.code === "EISDIR") throw new ImageError(path, `is a directory; expected the path of ${ACCEPTED}`);
    if (e.code === "EACCES") throw new ImageError(path, `permission denied; expected a readable image file`);
    throw new ImageError(path, `${e.reason}; expected ${ACCEPTED}`);
  }
  return decodeImage(bytes, path, options);
};

/** PNG bytes (8-bit RGBA, colour type 6) for an RGBA image. */
export const encodePng = (width: number, height: number, rgba: Uint8Array): Uint8Array => {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`encodePng: the size must be positive integers, got ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`encodePng: rgba holds ${rgba.length} bytes, expected width * height * 4 = ${width * height * 4} for ${width}x${height} RGBA`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  const out = PNG.sync.write(png, { colorType: 6, inputColorType: 6, inputHasAlpha: true });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
};

/** Writes an image as PNG: to a temporary file beside `path`, then renamed over it (never half-written). */
export const writePng = (path: string, image: Image): void => {
  writeFileAtomic(path, encodePng(image.width, image.height, image.rgba));
};
