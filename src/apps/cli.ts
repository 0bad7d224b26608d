// Small helpers shared by the command-line apps: validated flags, usage errors, number formats,
// and a progress line on stderr. No maths here.

import { parseArgs, type ParseArgsConfig } from "node:util";

/** A bad command line: printed with the usage hint, exit code 2, before any work is done. */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly default?: string | boolean;
  readonly help: string;
  readonly short?: string;
  readonly multiple?: boolean;
  /** Shown in --help as the value's form, e.g. "N" or "128,64". */
  readonly value?: string;
}

export const usage = (program: string, summary: string, flags: Record<string, FlagSpec>): string => {
  const lines = [`Usage: tsx src/apps/${program} [flags]`, "", summary, "", "Flags:"];
  for (const [name, f] of Object.entries(flags)) {
    const form = f.type === "boolean" ? `--${name}` : `--${name} ${f.value ?? "VALUE"}`;
    const def = f.default !== undefined && f.type !== "boolean" ? ` (default: ${f.default})` : "";
    lines.push(form.length > 26 ? `  ${form}\n  ${"".padEnd(26)} ${f.help}${def}` : `  ${form.padEnd(26)} ${f.help}${def}`);
  }
  return lines.join("\n");
};

/** Parse argv with node:util parseArgs; unknown flags and missing values become UsageErrors. */
export const parseFlags = (argv: string[], flags: Record<string, FlagSpec>, allowPositionals = false) => {
  const options: ParseArgsConfig["options"] = {};
  for (const [name, f] of Object.entries(flags)) {
    options[name] = { type: f.type, ...(f.short && { short: f.short }), ...(f.multiple && { multiple: true }) };
  }
  // parseArgs reads "--epochs -1" as a flag without a value; join negative numbers to their flag so
  // the value is checked (and refused with a clear message) like any other.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.startsWith("--") ? argv[i]!.slice(2) : null;
    const next = argv[i + 1];
    if (name !== null && flags[name]?.type === "string" && next !== undefined && /^-[\d.]/.test(next)) {
      args.push(`--${name}=${next}`);
      i++;
    } else args.push(argv[i]!);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError( \[\w+\])?: /, ""));
  }
};

const describeNumber = (flag: string, raw: string, what: string) =>
  new UsageError(`--${flag}: ${JSON.stringify(raw)} is not accepted: expected ${what}`);

/** An integer flag within [min, max]. */
export const intFlag = (flag: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(v) || v < min || v > max) {
    throw describeNumber(flag, raw, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
  }
  return v;
};

/** A finite number flag in a range; `open` excludes the bounds. */
export const numberFlag = (flag: string, raw: string, min: number, max: number, { minOpen = false, maxOpen = false } = {}): number => {
  const v = Number(raw);
  const ok = raw.trim() !== "" && Number.isFinite(v) && (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
  if (!ok) {
    const lo = `${minOpen ? ">" : ">="} ${min}`;
    const hi = max === Infinity ? "" : ` and ${maxOpen ? "<" : "<="} ${max}`;
    throw describeNumber(flag, raw, `a number ${lo}${hi}`);
  }
  return v;
};

export const choiceFlag = <T extends string>(flag: string, raw: string, choices: readonly T[]): T => {
  if (!choices.includes(raw as T)) throw new UsageError(`--${flag}: ${JSON.stringify(raw)} is not accepted: expected one of ${choices.join(", ")}`);
  return raw as T;
};

/** A comma-separated list of positive integers, e.g. --hidden 128,64 (empty for no hidden layer). */
export const intListFlag = (flag: string, raw: string): number[] => {
  if (raw.trim() === "") return [];
  return raw.split(",").map((part) => {
    const v = Number(part.trim());
    if (part.trim() === "" || !Number.isSafeInteger(v) || v < 1 || v > 1_000_000) {
      throw new UsageError(`--${flag}: ${JSON.stringify(raw)} is not accepted: expected comma-separated positive layer sizes such as 128,64`);
    }
    return v;
  });
};

/** 12,345 */
export const grouped = (n: number): string => n.toLocaleString("en-US");
export const percent = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;

/**
 * Progress on stderr: a redrawn bar when stderr is a terminal, otherwise nothing until done (CI logs
 * and pipes get the plain per-epoch lines only, plus a plain line every `plainEvery` of the epoch).
 */
export class Progress {
  private lastDraw = 0;
  private readonly tty = process.stderr.isTTY === true;
  private nextPlain = 0.25;
  constructor(private readonly label: string, private readonly total: number, private readonly enabled: boolean) {}

  update(done: number, examplesPerSecond: number, runningLoss: number): void {
    if (!this.enabled) return;
    const fraction = this.total === 0 ? 1 : done / this.total;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round(fraction * width);
      const eta = examplesPerSecond > 0 ? (this.total - done) / examplesPerSecond : 0;
      process.stderr.write(
        `\r${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${percent(fraction, 0).padStart(4)} | ${grouped(Math.round(examplesPerSecond))} ex/s | ETA ${eta.toFixed(1)}s | loss ${runningLoss.toFixed(4)}  `,
      );
    } else if (fraction >= this.nextPlain && fraction < 1) {
      process.stderr.write(`${this.label}: ${percent(fraction, 0)} (${grouped(done)}/${grouped(this.total)} examples, ${grouped(Math.round(examplesPerSecond))} ex/s, running loss ${runningLoss.toFixed(4)})\n`);
      this.nextPlain += 0.25;
    }
  }

  done(): void {
    if (this.enabled && this.tty) process.stderr.write("\r\x1b[2K");
  }
}

/** Run an app's main: usage errors exit 2 with the message, other known errors exit 1. */
export const runMain = async (main: () => Promise<number | void> | number | void, usageText: string): Promise<void> => {
  // Output piped into a program that stops reading early (`| head`) is not an error of ours.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    const code = await main();
    process.exitCode = code ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n\n${usageText}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      if (process.env.DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 1;
    }
  }
};
