// The safetensors format (https://github.com/huggingface/safetensors), read and written in plain
// TypeScript so models trained here load in Python (safetensors, or a few lines of NumPy) and in
// the browser. Layout: 8 bytes little-endian u64 N, then N bytes of JSON header, then the raw data.
// The header maps each tensor name to { dtype, shape, data_offsets: [begin, end] } (offsets into
// the data section) and may hold "__metadata__": { string: string }.

import { Tensor, type DType } from "../autograd/index.ts";

export class ModelFileError extends Error {
  override name = "ModelFileError";
}

// safetensors' names for our dtypes, and their sizes in bytes.
const DTYPES = { F32: 4, F64: 8, I32: 4, U32: 4, U8: 1 } as const;
type StDtype = keyof typeof DTYPES;
const NAMES: Record<DType, StDtype> = { float32: "F32", float64: "F64", int32: "I32", uint32: "U32", uint8: "U8" };
const ARRAYS = {
  F32: (b: ArrayBuffer) => new Float32Array(b),
  F64: (b: ArrayBuffer) => new Float64Array(b),
  I32: (b: ArrayBuffer) => new Int32Array(b),
  U32: (b: ArrayBuffer) => new Uint32Array(b),
  U8: (b: ArrayBuffer) => new Uint8Array(b),
} as const;

/** Largest header we accept: real headers are a few kB; this stops a corrupt length from allocating. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface Safetensors {
  /** Tensors in file order, by name. */
  readonly tensors: ReadonlyMap<string, Tensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Bytes of a safetensors file holding `tensors` (in the order given) and string `metadata`. */
export const encodeSafetensors = (tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array => {
  const entries: [string, Tensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new ModelFileError(`safetensors: "__metadata__" cannot be a tensor name`);
    const bytes = t.data.byteLength;
    header[name] = { dtype: NAMES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((json.length + 8) % 8)) % 8); // pad so the data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const [, t] of entries) {
    // Little-endian on every platform we run on; write through a DataView only if the host is big-endian.
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
};

/**
 * Parse and check a safetensors file: the header length, the JSON, every entry's dtype, shape and
 * offsets (inside the data, matching the shape, not overlapping, covering the data exactly).
 * `name` is the file name used in error messages.
 */
export const decodeSafetensors = (bytes: Uint8Array, name: string): Safetensors => {
  const fail = (what: string): never => {
    throw new ModelFileError(`${name}: ${what}`);
  };
  if (bytes.length < 8) fail(`not a safetensors file: it holds ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    fail(`not a safetensors file or truncated: the header length field says ${headerLength} bytes but the file holds ${bytes.length} bytes in all`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    fail(`corrupt header: it is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail(`corrupt header: expected a JSON object`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: StDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === "__metadata__") {
      if (value === null || typeof value !== "object") fail(`corrupt header: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`corrupt header: __metadata__.${k} must be a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e?.dtype !== "string" || !(e.dtype in DTYPES)) {
      fail(`tensor "${key}": dtype ${JSON.stringify(e?.dtype)} is not supported (expected F32, F64, I32, U32 or U8)`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${key}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0) || offs[0] > offs[1]) {
      fail(`tensor "${key}": data_offsets ${JSON.stringify(offs)} must be two integers [begin, end] with begin <= end`);
    }
    const [begin, end] = offs as [number, number];
    const size = (shape as number[]).reduce((p, d) => p * d, 1);
    const want = size * DTYPES[e.dtype as StDtype];
    if (end - begin !== want) fail(`tensor "${key}": shape ${JSON.stringify(shape)} needs ${want} bytes of ${e.dtype} but data_offsets span ${end - begin}`);
    if (end > dataLength) fail(`truncated: tensor "${key}" ends at byte ${end} of the data but the file holds only ${dataLength} bytes of data`);
    entries.push({ name: key, dtype: e.dtype as StDtype, shape: shape as number[], begin, end });
  }
  // The data section must be covered exactly, without overlaps or holes.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const en of sorted) {
    if (en.begin !== expected) fail(`corrupt: tensor "${en.name}" starts at byte ${en.begin} of the data, expected ${expected} (overlap or hole)`);
    expected = en.end;
  }
  if (expected !== dataLength) fail(`corrupt: the tensors cover ${expected} bytes of data but the file holds ${dataLength} (trailing bytes)`);
  const tensors = new Map<string, Tensor>();
  for (const en of entries) {
    // Copy out: the source may not be aligned for a typed-array view, and a Node Buffer's slice()
    // would share (and expose) its whole pool.
    const raw = new Uint8Array(en.end - en.begin);
    raw.set(bytes.subarray(dataStart + en.begin, dataStart + en.end));
    tensors.set(en.name, new Tensor(ARRAYS[en.dtype](raw.buffer), en.shape));
  }
  return { tensors, metadata };
};
