// Writing files so that a crash never leaves a half-written one: write a temporary file beside the
// target, then rename it over the target (rename is atomic on the same file system).

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export const writeFileAtomic = (path: string, bytes: Uint8Array | string): void => {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
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
    throw e;
  }
};
