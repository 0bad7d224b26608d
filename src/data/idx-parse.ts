// The pure half of the IDX reader: DataError, the element types, the header check and the decoding
// of uncompressed bytes. No node: imports, so the browser playground parses the same files with the
// same errors; idx.ts adds gzip, files on disk and writing, and re-exports the public names below.
//
// IDX (LeCun's format for MNIST): a 4-byte magic number, one big-endian uint32 per dimension, then
// the elements in row-major order, big-endian.
//
//   magic = 0x00 0x00 <type code> <number of dimensions>
//   type codes: 0x08 ubyte, 0x09 sbyte, 0x0B short (2 bytes), 0x0C int (4), 0x0D float (4), 0x0E double (8)
//
// Nothing the header says is believed until it has been checked against the bytes held, and the
// check comes before any allocation: a header cannot make the reader allocate more than the file holds.

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

export interface ElementType {
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

export const byCode = (code: number): ElementType | undefined => IDX_TYPES.find((t) => t.code === code);
export const byName = (type: IdxType): ElementType | undefined => IDX_TYPES.find((t) => t.type === type);
export const hex = (n: number, digits: number): string => `0x${n.toString(16).toUpperCase().padStart(digits, "0")}`;
export const typeList = IDX_TYPES.map((t) => `${hex(t.code, 2)} ${t.type}`).join(", ");

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

export interface IdxHeader {
  readonly element: ElementType;
  readonly dims: number[];
  readonly headerBytes: number;
  /** header + product(dims) * element size, exact (BigInt: 255 dims of up to 2^32 - 1 each). */
  readonly totalBytes: bigint;
  readonly dataBytes: bigint;
}

export const describeDims = (dims: readonly number[]): string => (dims.length === 0 ? "1" : dims.join(" x "));

/** Reads and checks the header from the first bytes of an (uncompressed) IDX file. */
export const parseHeader = (bytes: Uint8Array, file: string, options: ReadIdxOptions): IdxHeader => {
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

export const promise = (h: IdxHeader, contents: string): string =>
  h.dims.length === 1 && h.element.size === 1
    ? `header promises ${formatCount(h.dataBytes)} bytes of ${contents}`
    : `header promises ${describeDims(h.dims)}${h.element.size > 1 ? ` ${h.element.type}s of ${h.element.size} bytes` : ""} = ${formatCount(h.dataBytes)} bytes of ${contents}`;

/**
 * options.maxBytes, checked (a positive whole number of bytes), and capped at `ceiling`: idx.ts passes
 * what a Node Buffer can hold, since zlib inflates into one.
 */
export const checkedMaxBytes = (options: ReadIdxOptions, file: string, ceiling = Number.MAX_SAFE_INTEGER): number => {
  const m = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(m) || m < 1) throw new DataError(file, `maxBytes must be a positive integer, got ${m}`);
  return Math.min(m, ceiling);
};

export const checkLimit = (h: IdxHeader, file: string, contents: string, maxBytes: number): void => {
  if (h.totalBytes > BigInt(maxBytes)) {
    throw new DataError(file, `too large: ${promise(h, contents)}, more than the limit of ${formatCount(maxBytes)} bytes (raise maxBytes if the file is genuine)`);
  }
};

/** Big-endian elements into a native typed array (a copy: the bytes are in the wrong order for a view). */
export const decode = (bytes: Uint8Array, offset: number, element: ElementType, n: number): IdxData => {
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

/**
 * The array in the bytes of an uncompressed IDX file: header checked, length checked against the
 * header, size checked against options.maxBytes (capped at `ceiling`), then decoded. Errors are
 * DataErrors naming `file`. Shared by parseIdx (idx.ts, after any gunzip) and parseIdxBytes.
 */
export const parseUncompressedIdx = (raw: Uint8Array, file: string, options: ReadIdxOptions, ceiling?: number): IdxArray => {
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
  checkLimit(h, file, contents, checkedMaxBytes(options, file, ceiling));
  const n = h.dims.reduce((p, d) => p * d, 1); // safe now: bounded by the bytes actually held
  return { type: h.element.type, dims: Object.freeze(h.dims), data: decode(raw, h.headerBytes, h.element, n) };
};

/**
 * Parses an uncompressed IDX file held in memory, where zlib is not at hand (a browser). A gzip file
 * is refused with a message saying so; parseIdx in idx.ts reads both. The data is a view on `bytes`
 * for byte types, a decoded copy for wider types.
 */
export const parseIdxBytes = (bytes: Uint8Array, file = "<idx bytes>", options: ReadIdxOptions = {}): IdxArray => {
  if (isGzip(bytes)) throw new DataError(file, "gzip-compressed: this reader takes uncompressed IDX files (decompress it first, or use parseIdx from idx.ts)");
  return parseUncompressedIdx(bytes, file, options);
};
