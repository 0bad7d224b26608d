// Files in and out: only regular files are read, and never more than a limit; writes are atomic,
// leave nothing half-written, clean up after processes that died mid-save, and never run twice at once.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  checkWritable, describeFsError, FileError, lockForWriting, readRegularFile, removeStaleTemporaries, temporaryPath, writeFileAtomic,
} from "../../src/data/files.ts";
import { thrownBy } from "../thrown.ts";

const dir = mkdtempSync(join(tmpdir(), "files-spec-"));
const fileError = (f: () => unknown): FileError => thrownBy(f, FileError);

/** The pid of a process that has just ended (so no process has it, for a while). */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
};

describe("readRegularFile", () => {
  it("returns a regular file's bytes exactly, also through a symlink", () => {
    const path = join(dir, "bytes.bin");
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256);
    writeFileSync(path, bytes);
    symlinkSync(path, join(dir, "link.bin"));
    expect(readRegularFile(path, 1e6)).toEqual(bytes);
    expect(readRegularFile(join(dir, "link.bin"), 1e6)).toEqual(bytes);
  });

  it("reads a file whose reported size is 0 but which has content (as /proc files do), up to the limit", () => {
    expect(new TextDecoder().decode(readRegularFile("/proc/self/status", 1e6))).toMatch(/^Name:\t/);
    expect(fileError(() => readRegularFile("/proc/self/status", 100)).message).toBe("/proc/self/status: too large: it holds more than the limit of 100 bytes");
  });

  it("refuses a device, a symlink to one, a FIFO (without blocking) and a directory, naming what each is", () => {
    expect(fileError(() => readRegularFile("/dev/zero", 1e6)).message).toBe("/dev/zero: is a character device (such as /dev/zero), not a regular file");
    symlinkSync("/dev/zero", join(dir, "zero"));
    expect(fileError(() => readRegularFile(join(dir, "zero"), 1e6)).reason).toBe("is a character device (such as /dev/zero), not a regular file");
    execFileSync("mkfifo", [join(dir, "fifo")]);
    expect(fileError(() => readRegularFile(join(dir, "fifo"), 1e6)).reason).toBe("is a FIFO (named pipe), not a regular file");
    const d = fileError(() => readRegularFile(dir, 1e6));
    expect([d.reason, d.code]).toEqual(["is a directory, not a regular file", "EISDIR"]);
  });

  it("refuses a file larger than the limit before reading it, and says plainly when there is none", () => {
    writeFileSync(join(dir, "big.bin"), new Uint8Array(2000));
    expect(fileError(() => readRegularFile(join(dir, "big.bin"), 1000)).reason).toBe("too large: 2.0 kB, above the limit of 1.0 kB");
    const missing = fileError(() => readRegularFile(join(dir, "nope"), 1000));
    expect([missing.reason, missing.code]).toEqual(["no such file or directory (ENOENT)", "ENOENT"]);
  });
});

describe("describeFsError", () => {
  it("words the file system's errors for a person and keeps the code", () => {
    const error = (code: string) => Object.assign(new Error(`${code}: raw text, open 'x'`), { code });
    expect(describeFsError(error("ENOSPC"))).toBe("no space left on the device (ENOSPC)");
    expect(describeFsError(error("EROFS"))).toBe("the file system is read-only (EROFS)");
    expect(describeFsError(error("EACCES"))).toBe("permission denied (EACCES)");
    expect(describeFsError(error("EDQUOT"))).toBe("the disk quota is exceeded (EDQUOT)");
    expect(describeFsError(error("EWHATEVER"))).toBe("EWHATEVER: raw text, open 'x'");
  });
});

describe("writeFileAtomic", () => {
  it("replaces a file whole, creating its folders, and leaves no temporary file", () => {
    const path = join(dir, "out", "deep", "model.safetensors");
    writeFileAtomic(path, "first");
    writeFileAtomic(path, "second");
    expect(readFileSync(path, "utf8")).toBe("second");
    expect(readdirSync(join(dir, "out", "deep"))).toEqual(["model.safetensors"]);
  });

  it("refuses to replace a directory, and names a file standing where a folder must be", () => {
    mkdirSync(join(dir, "taken.png"));
    expect(fileError(() => writeFileAtomic(join(dir, "taken.png"), "x")).message).toBe(`${join(dir, "taken.png")}: cannot write: it is a directory; expected a file name`);
    writeFileSync(join(dir, "plain"), "a file");
    expect(fileError(() => writeFileAtomic(join(dir, "plain", "sub", "m.safetensors"), "x")).reason).toBe(`cannot create the directory: ${join(dir, "plain")} is a file, not a directory`);
    expect(readFileSync(join(dir, "plain"), "utf8")).toBe("a file");
  });

  it("removes the temporary files of processes that died mid-save, and only those", () => {
    const folder = join(dir, "stale");
    mkdirSync(folder);
    const dead = deadPid();
    const names = {
      dead: `m.ckpt.safetensors.${dead}.tmp`, // a save cut short by SIGKILL
      deadPicture: `weights_layer1.png.${dead}.tmp`,
      alive: `m-report.html.${process.pid}.tmp`, // a save under way (this process)
      foreign: `notes.txt.${dead}.tmp`, // not a file this project writes
    };
    for (const name of Object.values(names)) writeFileSync(join(folder, name), "partial");
    writeFileAtomic(join(folder, "m.safetensors"), "model");
    expect(readdirSync(folder).sort()).toEqual([names.alive, "m.safetensors", names.foreign].sort());
    expect(removeStaleTemporaries(folder)).toEqual([]);
  });
});

describe("checkWritable", () => {
  it("passes for a writable place and leaves nothing behind", () => {
    checkWritable(join(dir, "fresh", "m.safetensors"));
    expect(readdirSync(join(dir, "fresh"))).toEqual([]);
    expect(existsSync(temporaryPath(join(dir, "fresh", "m.safetensors")))).toBe(false);
  });

  it("refuses a directory in place of the file", () => {
    mkdirSync(join(dir, "is-dir.safetensors"));
    expect(fileError(() => checkWritable(join(dir, "is-dir.safetensors"))).reason).toBe("cannot write: it is a directory; expected a file name");
  });
});

describe("lockForWriting", () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  /** A child process that takes the lock, prints what happened and exits (without releasing it itself). */
  const takeInChild = (path: string) =>
    spawnSync(
      process.execPath,
      ["--import", "tsx", "-e", `import { lockForWriting } from "./src/data/files.ts"; try { const l = lockForWriting(${JSON.stringify(path)}, "this model"); console.log("took", l.tookOverFrom); } catch (e) { console.log(e.message); process.exit(1); }`],
      { cwd: root, encoding: "utf8" },
    );

  it("refuses a second writer while the first holds the lock, naming its pid and how to clear it", () => {
    const path = join(dir, "locked.safetensors");
    const lock = lockForWriting(path, "this model");
    const second = takeInChild(path);
    expect(second.status).toBe(1);
    expect(second.stdout).toContain(`${path}: this model is being written by another process (pid ${process.pid} on `);
    expect(second.stdout).toContain(`If no such process is running, delete ${path}.lock`);
    lock.release();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("is released when its process exits, and a lock left by a killed process is taken over", () => {
    const path = join(dir, "released.safetensors");
    expect(takeInChild(path).stdout).toBe("took null\n");
    expect(existsSync(`${path}.lock`)).toBe(false); // released at exit
    const dead = deadPid();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: dead, host: hostname(), started: "earlier" }));
    const taken = lockForWriting(path, "this model");
    expect(taken.tookOverFrom).toBe(dead);
    expect(JSON.parse(readFileSync(`${path}.lock`, "utf8")).pid).toBe(process.pid);
    taken.release();
  });
});
