// Run an app as a user would (node + tsx), capturing stdout, stderr and the exit code.

import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface AppResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const runApp = (app: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): AppResult => {
  const r = spawnSync(process.execPath, ["--import", "tsx", `src/apps/${app}`, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** Start an app, call `onStderr` with each chunk of stderr (it may send signals), and wait for the end. */
export const runAppWith = (app: string, args: readonly string[], onStderr: (text: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<AppResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", `src/apps/${app}`, ...args], { cwd: root, env: { ...process.env, FORCE_COLOR: "0" } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      onStderr(String(d), (signal) => child.kill(signal));
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });

/** Start an app whose reader goes away after the first output (as `| head -1` does), and wait for the end. */
export const runAppClosingStdout = (app: string, args: readonly string[]): Promise<AppResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", `src/apps/${app}`, ...args], { cwd: root, env: { ...process.env, FORCE_COLOR: "0" } });
    let stdout = "", stderr = "";
    child.stdout.once("data", (d) => {
      stdout += d;
      child.stdout.destroy(); // the pipe's reading end is closed: the app's next write fails with EPIPE
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
