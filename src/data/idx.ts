// IDX files (LeCun's format for MNIST): a 4-byte magic number, one big-endian uint32 per dimension,
// then the elements in row-major order, big-endian.
//
//   magic = 0x00 0x00 <type code> <number of dimensions>
//   type codes: 0x08 ubyte, 0x09 sbyte, 0x0B short (2 bytes), 0x0C int (4), 0x0D float (4), 0x0E double (8)
//
// Files may be gzip-compressed (recognised by the gzip magic bytes 1f 8b, whatever the name says).
// The reader believes nothing the header says until it has checked it against the bytes it has, and
// refuses before allocating: a header cannot make it allocate more than the file holds, and a gzip
// stream cannot inflate to more than its IDX header promises (nor past `maxBytes`).

import { kMaxLength } from "node:buffer";
import { readFileSync, statSync } from "node:fs";
import { constants as zlibConstants, gunzipSync, gzipSync } from "node:zlib";
import { writeFileAtomic } from "./files.ts";

/** The one error the data layer throws: the message names the file, what is wrong and what was expected. */
export class DataError extends Error {
  override name = "DataError";
  /** The file or directory the error is about. */
  readonly file: string;
  /** The message without the file name in front. */
  readonly reason: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.file = file;
    this.reason = reason;
  }
}

export type IdxType = "ubyte" | "sbyte" | "short" | "int" | "float" | "double";
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** An n-dimensional array as an IDX file holds it: element type, dimensions, row-major data. */
export interface IdxArray<D extends IdxData = IdxData> {
  readonly type: IdxType;
  readonly dims: readonly number[];
  readonly data: D;
}

interface ElementType {
  readonly type: IdxType;
  readonly code: number;
  readonly size: number;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

export const IDX_TYPES: readonly ElementType[] = Object.freeze([
  { type: "ubyte", code: 0x08, size: 1, min: 0, max: 255, integer: true },
  { type: "sbyte", code: 0x09, size: 1, min: -128, max: 127, integer: true },
  { type: "short", code: 0x0b, size: 2, min: -32768, max: 32767, integer: true },
  { type: "int", code: 0x0c, size: 4, min: -(2 ** 31), max: 2 ** 31 - 1, integer: true },
  { type: "float", code: 0x0d, size: 4, min: -Infinity, max: Infinity, integer: false },
  { type: "double", code: 0x0e, size: 8, min: -Infinity, max: Infinity, integer: false },
]);

const byCode = (code: number): ElementType | undefined => IDX_TYPES.find((t) => t.code === code);
const byName = (type: IdxType): ElementType | undefined => IDX_TYPES.find((t) => t.type === type);
const hex = (n: number, digits: number): string => `0x${n.toString(16).toUpperCase().padStart(digits, "0")}`;
const typeList = IDX_TYPES.map((t) => `${hex(t.code, 2)} ${t.type}`).join(", ");

/** 47040000 -> "47,040,000": the form the error messages use for byte counts. */
export const formatCount = (n: number | bigint): string => n.toLocaleString("en-US");

/**
 * Default ceiling on the bytes one IDX file may hold (decompressed). 1 GiB covers every MNIST-layout
 * set in use (EMNIST ByClass training images are 547 MB) while keeping a hostile header or gzip bomb
 * from claiming gigabytes.
 */
export const DEFAULT_MAX_BYTES = 2 ** 30;

export interface ReadIdxOptions {
  /** Refuse a file whose (decompressed) size would exceed this. Default DEFAULT_MAX_BYTES. */
  readonly maxBytes?: number;
  /** What the elements are, for messages: "pixels", "labels". Default "data". */
  readonly contents?: string;
  /** Fail early, with a clear message, unless the file has this element type / number of dimensions. */
  readonly expectType?: IdxType;
  readonly expectRank?: number;
}

/** True when the bytes start with the gzip magic number 1f 8b (an IDX file starts with 00 00). */
export const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

interface Header {
  readonly element: ElementType;
  readonly dims: number[];
  readonly headerBytes: number;
  /** header + product(dims) * element size, exact (BigInt: 255 dims of up to 2^32 - 1 each). */
  readonly totalBytes: bigint;
  readonly dataBytes: bigint;
}

const describeDims = (dims: readonly number[]): string => (dims.length === 0 ? "1" : dims.join(" x "));

/** Reads and checks the header from the first bytes of an (uncompressed) IDX file. */
const parseHeader = (bytes: Uint8Array, file: string, options: ReadIdxOptions): Header => {
  if (bytes.length < 4) {
    throw new DataError(file, `truncated: an IDX file starts with a 4-byte magic number, the file holds ${formatCount(bytes.length)} bytes`);
  }
  const [b0, b1, code, rank] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  const magic = ((b0 << 24) | (b1 << 16) | (code << 8) | rank) >>> 0;
  if (b0 !== 0 || b1 !== 0) {
    throw new DataError(file, `not an IDX file: the magic number ${hex(magic, 8)} should start with two zero bytes (images are 0x00000803, labels 0x00000801)`);
  }
  const element = byCode(code);
  if (!element) {
    throw new DataError(file, `not an IDX file: unknown element type code ${hex(code, 2)} in magic number ${hex(magic, 8)} (expected one of ${typeList})`);
  }
  if (rank === 0) {
    throw new DataError(file, `not an IDX file: the magic number ${hex(magic, 8)} says 0 dimensions (expected at least 1)`);
  }
  if (options.expectType !== undefined && element.type !== options.expectType) {
    throw new DataError(file, `element type is ${element.type} (magic ${hex(magic, 8)}), expected ${options.expectType}`);
  }
  if (options.expectRank !== undefined && rank !== options.expectRank) {
    throw new DataError(file, `has ${rank} dimension${rank === 1 ? "" : "s"} (magic ${hex(magic, 8)}), expected ${options.expectRank}`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataError(file, `truncated: the header of ${rank} dimensions needs ${headerBytes} bytes, the file holds ${formatCount(bytes.length)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((p, d) => p * BigInt(d), 1n);
  const dataBytes = count * BigInt(element.size);
  return { element, dims, headerBytes, totalBytes: BigInt(headerBytes) + dataBytes, dataBytes };
};

const promise = (h: Header, contents: string): string =>
  h.dims.length === 1 && h.element.size === 1
    ? `header promises ${formatCount(h.dataBytes)} bytes of ${contents}`
    : `header promises ${describeDims(h.dims)}${h.element.size > 1 ? ` ${h.element.type}s of ${h.element.size} bytes` : ""} = ${formatCount(h.dataBytes)} bytes of ${contents}`;

/** options.maxBytes, checked: zlib needs a whole number of bytes within what a Buffer can hold. */
const maxBytesOf = (options: ReadIdxOptions, file: string): number => {
  const m = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(m) || m < 1) throw new DataError(file, `maxBytes must be a positive integer, got ${m}`);
  return Math.min(m, kMaxLength);
};

const checkLimit = (h: Header, file: string, contents: string, maxBytes: number): void => {
  if (h.totalBytes > BigInt(maxBytes)) {
    throw new DataError(file, `too large: ${promise(h, contents)}, more than the limit of ${formatCount(maxBytes)} bytes (raise maxBytes if the file is genuine)`);
  }
};

/** Big-endian elements into a native typed array (a copy: the bytes are in the wrong order for a view). */
const decode = (bytes: Uint8Array, offset: number, element: ElementType, n: number): IdxData => {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, n * element.size);
  switch (element.type) {
    case "ubyte":
      // A view, no copy: 47 MB of pixels stay where they were read (a plain Uint8Array, not a Buffer).
      return new Uint8Array(bytes.buffer, bytes.byteOffset + offset, n);
    case "sbyte":
      return new Int8Array(bytes.buffer, bytes.byteOffset + offset, n);
    case "short": {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, false);
      return out;
    }
    case "int": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, false);
      return out;
    }
    case "float": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, false);
      return out;
    }
    case "double": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, false);
      return out;
    }
  }
};

/** Bytes that start with a zlib failure, as our error (the reason zlib gives is kept). */
const gzipFailure = (file: string, e: unknown): DataError => {
  const reason = e instanceof Error ? e.message : String(e);
  return new DataError(file, `corrupt gzip data (${reason}); the file may be truncated or damaged, download it again`);
};

const isTooLarge = (e: unknown): boolean => e instanceof RangeError || (e as { code?: unknown } | null)?.code === "ERR_BUFFER_TOO_LARGE";

/**
 * Inflates a gzip IDX file without trusting it: first the start of the stream (enough compressed
 * bytes for any header), to learn how many bytes the header promises; then the whole stream with
 * zlib's output capped at exactly that, so a bomb stops at the promise instead of filling memory.
 */
const gunzipIdx = (gz: Uint8Array, file: string, options: ReadIdxOptions): Uint8Array => {
  const maxBytes = maxBytesOf(options, file);
  const contents = options.contents ?? "data";
  // k bytes of deflate inflate to at most ~1032 k, so the peek is small: 256 bytes (<= 264 KB out) hold
  // the gzip header and the IDX header of any ordinary file; 4 KiB (<= 4.2 MB) is the second and last
  // try, for gzip headers carrying long names or comments.
  const PEEK_OUT = 8 * 2 ** 20;
  let head: Uint8Array = new Uint8Array(0);
  let peeked = 0;
  for (const peekIn of [256, 4096]) {
    peeked = Math.min(peekIn, gz.length);
    try {
      head = gunzipSync(gz.subarray(0, peeked), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: PEEK_OUT });
    } catch (e) {
      throw isTooLarge(e) ? new DataError(file, `corrupt gzip data: it inflates past ${formatCount(PEEK_OUT)} bytes within its first ${peeked}`) : gzipFailure(file, e);
    }
    if ((head.length >= 4 && head.length >= 4 + 4 * head[3]!) || peeked === gz.length) break;
  }
  let limit = maxBytes;
  let promised = false;
  const headerNeed = head.length >= 4 ? 4 + 4 * head[3]! : 4;
  if (head.length >= headerNeed || peeked === gz.length) {
    const h = parseHeader(head, file, options); // a truncated stream fails here with the header's message
    checkLimit(h, file, contents, maxBytes);
    limit = Number(h.totalBytes);
    promised = true;
  }
  try {
    return gunzipSync(gz, { maxOutputLength: limit });
  } catch (e) {
    if (isTooLarge(e)) {
      throw promised
        ? new DataError(file, `trailing bytes: the gzip stream inflates to more than the ${formatCount(limit)} bytes its IDX header promises`)
        : new DataError(file, `too large: the gzip stream inflates to more than the limit of ${formatCount(maxBytes)} bytes (raise maxBytes if the file is genuine)`);
    }
    throw gzipFailure(file, e);
  }
};

/**
 * Parses an IDX file held in memory, raw or gzip. `file` names it in errors. The result's data is a
 * view on `bytes` (or on the inflated buffer) for byte types, a decoded copy for wider types.
 */
export const parseIdx = (bytes: Uint8Array, file = "<idx bytes>", options: ReadIdxOptions = {}): IdxArray => {
  const raw = isGzip(bytes) ? gunzipIdx(bytes, file, options) : bytes;
  const contents = options.contents ?? "data";
  const h = parseHeader(raw, file, options);
  const held = raw.length - h.headerBytes;
  if (BigInt(held) !== h.dataBytes) {
    const extra = BigInt(held) > h.dataBytes;
    throw new DataError(
      file,
      `${extra ? "trailing bytes" : "truncated"}: ${promise(h, contents)}, the file holds ${formatCount(held)} after its ${h.headerBytes}-byte header` +
        (extra ? ` (${formatCount(BigInt(held) - h.dataBytes)} too many)` : ""),
    );
  }
  // After the length check (a hostile header is called truncated, not too large), before decoding.
  checkLimit(h, file, contents, maxBytesOf(options, file));
  const n = h.dims.reduce((p, d) => p * d, 1); // safe now: bounded by the bytes actually held
  return { type: h.element.type, dims: Object.freeze(h.dims), data: decode(raw, h.headerBytes, h.element, n) };
};

/** Reads an IDX file from disk, raw or gzip (see parseIdx). */
export const readIdx = (path: string, options: ReadIdxOptions = {}): IdxArray => {
  const maxBytes = maxBytesOf(options, path);
  let bytes: Uint8Array;
  try {
    const size = statSync(path).size;
    if (size > maxBytes) throw new DataError(path, `too large: the file holds ${formatCount(size)} bytes, more than the limit of ${formatCount(maxBytes)} (raise maxBytes if the file is genuine)`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as { code?: unknown } | null)?.code;
    if (code === "ENOENT") throw new DataError(path, "no such file");
    if (code === "EISDIR") throw new DataError(path, "is a directory, expected an IDX file");
    throw new DataError(path, `cannot be read (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseIdx(bytes, path, options);
};

/** The IDX element type that holds a typed array's values exactly. */
export const idxTypeOf = (data: IdxData): IdxType =>
  data instanceof Uint8Array ? "ubyte"
  : data instanceof Int8Array ? "sbyte"
  : data instanceof Int16Array ? "short"
  : data instanceof Int32Array ? "int"
  : data instanceof Float32Array ? "float"
  : "double";

export interface IdxInput {
  /** Default: the type matching the data's typed array. */
  readonly type?: IdxType;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number>;
}

/** The bytes of an IDX file (gzip-compressed if asked). Throws DataError if the values do not fit the type. */
export const encodeIdx = (array: IdxInput, { gzip = false, file = "<idx bytes>" }: { gzip?: boolean; file?: string } = {}): Uint8Array => {
  const typeName = array.type ?? (ArrayBuffer.isView(array.data) ? idxTypeOf(array.data as IdxData) : undefined);
  if (typeName === undefined) throw new DataError(file, `cannot write: no element type given for plain array data (expected one of ${typeList})`);
  const element = byName(typeName);
  if (!element) throw new DataError(file, `cannot write: unknown element type "${typeName}" (expected one of ${typeList})`);
  const { dims, data } = array;
  if (dims.length < 1 || dims.length > 255) throw new DataError(file, `cannot write: ${dims.length} dimensions, an IDX file holds 1 to 255`);
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new DataError(file, `cannot write: dimension ${d} in [${dims.join(", ")}] is not an integer in [0, 2^32 - 1]`);
  }
  const n = dims.reduce((p, d) => p * d, 1);
  if (n !== data.length) throw new DataError(file, `cannot write: dimensions ${describeDims(dims)} need ${formatCount(n)} values, the data has ${formatCount(data.length)}`);
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + n * element.size);
  const view = new DataView(out.buffer);
  view.setUint32(0, (element.code << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (element.integer && !(Number.isInteger(v) && v >= element.min && v <= element.max)) {
      throw new DataError(file, `cannot write: value ${v} at index ${i} is not an integer in [${element.min}, ${element.max}] (type ${element.type})`);
    }
    const at = header + i * element.size;
    switch (element.type) {
      case "ubyte": out[at] = v; break;
      case "sbyte": view.setInt8(at, v); break;
      case "short": view.setInt16(at, v, false); break;
      case "int": view.setInt32(at, v, false); break;
      case "float": view.setFloat32(at, v, false); break;
      case "double": view.setFloat64(at, v, false); break;
    }
  }
  return gzip ? new Uint8Array(gzipSync(out)) : out;
};

/**
 * Writes an IDX file atomically (a temporary file, then a rename): compressed when `gzip` is set,
 * which by default it is exactly when the path ends in ".gz".
 */
export const writeIdx = (path: string, array: IdxInput, { gzip = path.endsWith(".gz") }: { gzip?: boolean } = {}): void => {
  writeFileAtomic(path, encodeIdx(array, { gzip, file: path }));
};
