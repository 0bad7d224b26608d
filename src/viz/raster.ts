// A raster inside an SVG: values become indices into a 256-colour palette (as matplotlib's
// colormaps have 256 entries), written as an 8-bit palette PNG in a data: URI. The PNG's zlib stream
// uses stored (uncompressed) blocks: one byte per pixel, and no compressor to ship to the browser.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

const adler32 = (bytes: Uint8Array): number => {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i += 5552) {
    const end = Math.min(bytes.length, i + 5552);
    for (let j = i; j < end; j++) {
      a += bytes[j]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
};

/** A zlib stream of stored blocks (RFC 1950/1951): valid, uncompressed. */
const zlibStored = (data: Uint8Array): Uint8Array => {
  const blocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(2 + data.length + 5 * blocks + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let at = 2;
  for (let k = 0; k < blocks; k++) {
    const chunk = data.subarray(k * 65535, Math.min(data.length, (k + 1) * 65535));
    out[at] = k === blocks - 1 ? 1 : 0;
    out[at + 1] = chunk.length & 0xff;
    out[at + 2] = chunk.length >>> 8;
    out[at + 3] = ~chunk.length & 0xff;
    out[at + 4] = (~chunk.length >>> 8) & 0xff;
    out.set(chunk, at + 5);
    at += 5 + chunk.length;
  }
  new DataView(out.buffer).setUint32(at, adler32(data));
  return out;
};

const chunk = (type: string, data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
};

/** An 8-bit palette PNG: `indices` row-major, width * height of them, each into `palette` (RGB triples). */
export const palettePng = (indices: Uint8Array, width: number, height: number, palette: Uint8Array): Uint8Array => {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`palettePng: the size must be positive integers, got ${width}x${height}`);
  if (indices.length !== width * height) throw new RangeError(`palettePng: ${indices.length} indices for ${width}x${height} = ${width * height} pixels`);
  if (palette.length % 3 !== 0 || palette.length === 0 || palette.length > 768) throw new RangeError(`palettePng: the palette must hold 1 to 256 RGB triples, got ${palette.length} bytes`);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 3, 0, 0, 0], 8); // 8 bits, palette colour, deflate, adaptive filtering, no interlace
  const rows = new Uint8Array(height * (width + 1)); // each row: filter type 0 (none), then its indices
  for (let y = 0; y < height; y++) rows.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header), chunk("PLTE", palette), chunk("IDAT", zlibStored(rows)), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export const base64 = (bytes: Uint8Array): string => {
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const [a, b = 0, c = 0] = [bytes[i]!, bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | (b << 8) | c;
    s += BASE64[n >>> 18]! + BASE64[(n >>> 12) & 63]! + (i + 1 < bytes.length ? BASE64[(n >>> 6) & 63]! : "=") + (i + 2 < bytes.length ? BASE64[n & 63]! : "=");
  }
  return s;
};

/**
 * An <image> of a raster drawn at (x, y), `scale` screen pixels per value, without smoothing (each
 * value a crisp square, as matplotlib's imshow with interpolation="nearest").
 */
export const rasterImage = (indices: Uint8Array, width: number, height: number, palette: Uint8Array, x: number, y: number, scale: number): string =>
  `<image x="${x}" y="${y}" width="${width * scale}" height="${height * scale}" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="data:image/png;base64,${base64(palettePng(indices, width, height, palette))}"/>`;
