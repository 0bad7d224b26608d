// Files in and out, so that neither a strange input nor a crash loses anything:
//   - reading: only regular files (a device such as /dev/zero, a FIFO or a directory is refused, also
//     behind a symlink, without blocking), and never more than a byte limit;
//   - writing: to a temporary file beside the target, then a rename over it (atomic on the same file
//     system), so a crash or a full disk leaves the earlier file intact; temporary files left by a
//     process that died mid-save are removed on the next save into that directory;
//   - every error worded for a person ("permission denied"), naming the path, with the code kept.

import {
  closeSync, constants, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync,
  statfsSync, statSync, writeSync, type Stats,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

/** A file that cannot be read or written: `reason` says why in words, `code` is the errno code when there is one. */
export class FileError extends Error {
  override name = "FileError";
  constructor(readonly path: string, readonly reason: string, readonly code?: string) {
    super(`${path}: ${reason}`);
  }
}

const WORDS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exceeded",
  EFBIG: "the file is too large for the file system",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EEXIST: "it already exists",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  EIO: "an input/output error (the disk, or the connection to it, failed)",
  EBUSY: "the file is busy",
  ETXTBSY: "the file is busy",
  EXDEV: "it is on another file system",
};

/** An error from node:fs in words a person reads, with its code: "permission denied (EACCES)". */
export const describeFsError = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && WORDS[code] !== undefined) return `${WORDS[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
};

const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
};

/** What a non-regular file is, for messages. */
const kindOf = (s: Stats): string =>
  s.isDirectory() ? "a directory"
  : s.isFIFO() ? "a FIFO (named pipe)"
  : s.isCharacterDevice() ? "a character device (such as /dev/zero)"
  : s.isBlockDevice() ? "a block device"
  : s.isSocket() ? "a socket"
  : "not a regular file";

/** 1234567 -> "1.2 MB": sizes in messages. */
export const formatBytes = (n: number): string =>
  n < 1e3 ? `${n} bytes` : n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : n < 1e9 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e9).toFixed(2)} GB`;

/**
 * The bytes of a regular file of at most `maxBytes` bytes. Symlinks are followed; what they lead to
 * must be a regular file. The file is opened without blocking (a FIFO with no writer would otherwise
 * hang), checked with fstat, and read only up to the limit (a file that grows while read is refused
 * at the limit, as is a special file that reports size 0). Throws FileError.
 */
export const readRegularFile = (path: string, maxBytes: number): Uint8Array => {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new FileError(path, describeFsError(e), codeOf(e));
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new FileError(path, `is ${kindOf(s)}, not a regular file`, s.isDirectory() ? "EISDIR" : "ENOTREG");
    if (s.size > maxBytes) throw new FileError(path, `too large: ${formatBytes(s.size)}, above the limit of ${formatBytes(maxBytes)}`, "EFBIG");
    // The size fstat gives, then one byte more to see the end: a file that is longer than it said
    // (it grows, or it is a special file reporting 0) is read on in chunks, up to the limit.
    let buffer = new Uint8Array(s.size);
    let n = 0;
    for (let got = -1; n < buffer.length && got !== 0; n += got) got = readSync(fd, buffer, n, buffer.length - n, null);
    if (n < buffer.length) return buffer.subarray(0, n); // it shrank
    const probe = new Uint8Array(1);
    if (readSync(fd, probe, 0, 1, null) === 0) return buffer;
    const chunks = [buffer, probe];
    let total = n + 1;
    for (;;) {
      if (total > maxBytes) throw new FileError(path, `too large: it holds more than the limit of ${formatBytes(maxBytes)}`, "EFBIG");
      const chunk = new Uint8Array(Math.min(2 ** 20, maxBytes + 1 - total));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      total += got;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError(path, `cannot be read: ${describeFsError(e)}`, codeOf(e));
  } finally {
    closeSync(fd);
  }
};

/** Creates `dir` and its parents if missing; a file in the way is named. Throws FileError. */
export const ensureDirectory = (dir: string): void => {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = codeOf(e);
    if (code === "EEXIST" || code === "ENOTDIR") {
      // Find the part of the path that is a file.
      let blocker = resolve(dir);
      for (let up = blocker; ; up = dirname(up)) {
        if (existsSync(up)) {
          blocker = up;
          break;
        }
        if (dirname(up) === up) break;
      }
      throw new FileError(dir, `cannot create the directory: ${blocker} is a file, not a directory`, code);
    }
    throw new FileError(dir, `cannot create the directory: ${describeFsError(e)}`, code);
  }
};

const TEMP = /^(.+)\.(\d+)\.tmp$/;
/** What this project's writers write (the only temporary files the clean-up may remove). */
const OURS = /(\.safetensors|\.html|\.png|\.svg|\.json|-ubyte|\.gz)$/;

/** False when no process has this pid (kill(pid, 0) tests for one without sending anything). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return codeOf(e) === "EPERM"; // it exists, owned by someone else
  }
};

/**
 * Removes the temporary files (`<name>.<pid>.tmp`, name one this project writes) that processes no
 * longer running left in `dir` when they died mid-save. Returns their names.
 */
export const removeStaleTemporaries = (dir: string): string[] => {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || !OURS.test(m[1]!)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // not ours to remove after all (permissions): leave it
    }
  }
  return removed;
};

/** The temporary name a write of `path` by this process goes through. */
export const temporaryPath = (path: string): string => `${path}.${process.pid}.tmp`;

const refuseDirectory = (path: string): void => {
  let s: Stats | undefined;
  try {
    s = statSync(path);
  } catch {
    return; // missing: fine
  }
  if (s.isDirectory()) throw new FileError(path, "cannot write: it is a directory; expected a file name", "EISDIR");
};

/**
 * Writes `bytes` to `path` atomically: to a temporary file beside it (synced to disk), then renamed
 * over it. On any failure the temporary file is removed and an earlier file at `path` is untouched.
 * Throws FileError naming the path and the reason.
 */
export const writeFileAtomic = (path: string, bytes: Uint8Array | string): void => {
  const dir = dirname(path);
  ensureDirectory(dir);
  removeStaleTemporaries(dir);
  refuseDirectory(path);
  const tmp = temporaryPath(path);
  const data = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  try {
    const fd = openSync(tmp, "w");
    try {
      let at = 0;
      while (at < data.length) at += writeSync(fd, data, at, data.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const kept = existsSync(path) ? ` (the earlier ${basename(path)} is intact)` : "";
    throw new FileError(path, `cannot write: ${describeFsError(e)}${kept}`, codeOf(e));
  }
};

/**
 * Checks, before any work, that a file can be written at `path`: its directory exists or can be made,
 * `path` is not a directory, and a file can be created beside it (a temporary one, removed at once).
 * Throws FileError.
 */
export const checkWritable = (path: string): void => {
  ensureDirectory(dirname(path));
  refuseDirectory(path);
  const probe = temporaryPath(path);
  try {
    closeSync(openSync(probe, "wx"));
  } catch (e) {
    throw new FileError(path, `cannot write: ${describeFsError(e)}`, codeOf(e));
  } finally {
    rmSync(probe, { force: true });
  }
};

/** Free bytes for this user on the file system holding `dir`, or null where it cannot be told. */
export const freeBytes = (dir: string): number | null => {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
};

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

const youngerThan = (path: string, ms: number): boolean => {
  try {
    return Date.now() - statSync(path).mtimeMs < ms;
  } catch {
    return false;
  }
};

const readLock = (lock: string): LockInfo | null => {
  try {
    const info = JSON.parse(readFileSync(lock, "utf8")) as Partial<LockInfo>;
    return typeof info.pid === "number" && typeof info.host === "string" ? { pid: info.pid, host: info.host, started: String(info.started) } : null;
  } catch {
    return null;
  }
};

/**
 * Takes the lock `<path>.lock` for writing `path`, so that two runs never write the same file: a lock
 * held by a running process on this host is refused with its pid and start time; one left by a process
 * that is gone (killed, or the machine restarted) is taken over. The lock is released when this process
 * exits (normally, by an error, or by a signal it handles). Throws FileError.
 */
export const lockForWriting = (path: string, what: string): { readonly release: () => void; readonly tookOverFrom: number | null } => {
  const lock = `${path}.lock`;
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  let tookOverFrom: number | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, "wx");
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if (codeOf(e) !== "EEXIST" || attempt > 0) throw new FileError(path, `cannot write: ${describeFsError(e)} (while creating ${lock})`, codeOf(e));
      const holder = readLock(lock);
      if (holder === null && youngerThan(lock, 10_000)) {
        throw new FileError(path, `${what} is being written by another process that is starting (its lock ${lock} is new); wait, or choose another file`, "ELOCKED");
      }
      if (holder !== null && (holder.host !== me.host || processAlive(holder.pid))) {
        throw new FileError(
          path,
          `${what} is being written by another process (pid ${holder.pid} on ${holder.host}, started ${holder.started}); ` +
            `wait for it to finish or choose another file. If no such process is running, delete ${lock}`,
          "ELOCKED",
        );
      }
      tookOverFrom = holder?.pid ?? null;
      rmSync(lock, { force: true }); // stale: its process is gone (or the file is unreadable)
    }
  }
  const release = (): void => {
    if (readLock(lock)?.pid === process.pid) rmSync(lock, { force: true });
    process.off("exit", release);
  };
  process.on("exit", release);
  return { release, tookOverFrom };
};
