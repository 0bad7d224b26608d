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
import { statSync } from "node:fs";
import { constants as zlibConstants, gunzipSync, gzipSync } from "node:zlib";
import { FileError, readRegularFile, writeFileAtomic } from "./files.ts";
import {
  byName, checkedMaxBytes, checkLimit, DataError, describeDims, formatCount, type IdxArray, type IdxData, type IdxType, isGzip, parseHeader,
  parseUncompressedIdx, type ReadIdxOptions, typeList,
} from "./idx-parse.ts";

// The pure parts (no node:) live in idx-parse.ts, which the browser playground uses; these are the
// public names of the IDX reader, exported from here as before.
export { DataError, DEFAULT_MAX_BYTES, formatCount, IDX_TYPES, isGzip, parseIdxBytes } from "./idx-parse.ts";
export type { IdxArray, IdxData, IdxType, ReadIdxOptions } from "./idx-parse.ts";

/** options.maxBytes, checked: zlib needs a whole number of bytes within what a Buffer can hold. */
const maxBytesOf = (options: ReadIdxOptions, file: string): number => checkedMaxBytes(options, file, kMaxLength);

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
  return parseUncompressedIdx(raw, file, options, kMaxLength);
};

/** Reads an IDX file from disk, raw or gzip (see parseIdx): a regular file of at most maxBytes bytes. */
export const readIdx = (path: string, options: ReadIdxOptions = {}): IdxArray => {
  const maxBytes = maxBytesOf(options, path);
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size > maxBytes) throw new DataError(path, `too large: the file holds ${formatCount(size)} bytes, more than the limit of ${formatCount(maxBytes)} (raise maxBytes if the file is genuine)`);
  let bytes: Uint8Array;
  try {
    bytes = readRegularFile(path, maxBytes);
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    if (e.code === "ENOENT") throw new DataError(path, "no such file");
    if (e.code === "EISDIR") throw new DataError(path, "is a directory, expected an IDX file");
    if (e.code === "EFBIG") throw new DataError(path, `too large: it holds more than the limit of ${formatCount(maxBytes)} bytes (raise maxBytes if the file is genuine)`);
    throw new DataError(path, e.code === "ENOTREG" ? `${e.reason}; expected an IDX file` : `cannot be read (${e.reason})`);
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
