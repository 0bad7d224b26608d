// Reading a .tgz (a gzip-compressed tar archive, as npm packs packages) into memory: the regular
// files by path. Enough of the POSIX ustar format for npm's tarballs: 512-byte headers (name, octal
// size, type), data padded to 512 bytes, pax extended headers ("x") that rename the next entry, and
// two zero blocks at the end. Nothing is written to disk.

import { constants as zlibConstants, gunzipSync } from "node:zlib";
import { DataError, isGzip } from "./idx-parse.ts";

const BLOCK = 512;

const text = (bytes: Uint8Array, from: number, length: number): string => {
  const field = bytes.subarray(from, from + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
};

/** An octal number field (size, mode): digits, padded with spaces or NULs. */
const octal = (bytes: Uint8Array, from: number, length: number, file: string, what: string): number => {
  const raw = text(bytes, from, length).trim();
  if (!/^[0-7]+$/.test(raw)) throw new DataError(file, `corrupt tar archive: the ${what} field ${JSON.stringify(raw)} is not an octal number`);
  return parseInt(raw, 8);
};

/** The records of a pax extended header: "<length> <key>=<value>\n" each. */
const paxRecords = (data: Uint8Array): Map<string, string> => {
  const records = new Map<string, string>();
  const all = new TextDecoder().decode(data);
  for (const line of all.split("\n")) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (m) records.set(m[1]!, m[2]!);
  }
  return records;
};

/** The regular files of an uncompressed tar archive, by path. Throws DataError naming `file` on a damaged archive. */
export const untar = (tar: Uint8Array, file: string): Map<string, Uint8Array> => {
  const files = new Map<string, Uint8Array>();
  let at = 0;
  let nextName: string | null = null;
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return files; // the end-of-archive marker
    const stored = octal(header, 148, 8, file, "checksum");
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    if (sum !== stored) throw new DataError(file, `corrupt tar archive: the header at byte ${at} fails its checksum (${sum}, stored ${stored})`);
    const size = octal(header, 124, 12, file, "size");
    const type = String.fromCharCode(header[156]!);
    const prefix = text(header, 257, 6) === "ustar" ? text(header, 345, 155) : "";
    const name = nextName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    const start = at + BLOCK;
    if (start + size > tar.length) throw new DataError(file, `truncated tar archive: "${name}" promises ${size} bytes at byte ${start}, the archive ends at ${tar.length}`);
    const data = tar.subarray(start, start + size);
    nextName = null;
    if (type === "x") nextName = paxRecords(data).get("path") ?? null;
    else if (type === "0" || type === "\0") files.set(name, data);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new DataError(file, "truncated tar archive: it ends without the end-of-archive blocks");
};

/** The regular files of a .tgz, by path; it may inflate to at most `maxBytes`. */
export const untgz = (tgz: Uint8Array, file: string, maxBytes = 2 ** 30): Map<string, Uint8Array> => {
  if (!isGzip(tgz)) throw new DataError(file, "not a .tgz: it does not start with the gzip bytes 1f 8b");
  let tar: Uint8Array;
  try {
    tar = gunzipSync(tgz, { maxOutputLength: maxBytes, finishFlush: zlibConstants.Z_FINISH });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DataError(file, `corrupt gzip data (${reason}); download it again`);
  }
  return untar(tar, file);
};

/** A tar archive of these files (ustar; names up to 100 bytes): what `npm pack` makes, for specs and tools. */
export const tarOf = (files: ReadonlyMap<string, Uint8Array>): Uint8Array => {
  const parts: Uint8Array[] = [];
  for (const [name, data] of files) {
    const header = new Uint8Array(BLOCK);
    const put = (s: string, from: number) => header.set(new TextEncoder().encode(s), from);
    if (new TextEncoder().encode(name).length > 100) throw new Error(`tarOf: the name ${name} is longer than 100 bytes`);
    put(name, 0);
    put("0000644\0", 100);
    put("0000000\0", 108);
    put("0000000\0", 116);
    put(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    put("00000000000\0", 136);
    put("        ", 148);
    put("0", 156);
    put("ustar\0" + "00", 257);
    const sum = header.reduce((s, b) => s + b, 0);
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    parts.push(header, data, new Uint8Array((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  return new Uint8Array(Buffer.concat(parts)); // a plain Uint8Array: a Buffer's slice() would share its memory
};
