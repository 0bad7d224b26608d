// jit, as in JAX: trace a pure function once per argument structure (shapes, dtypes, and the values
// of non-tensor leaves), recording every kernel its ops apply into a program; compile the program for
// the backend (fusions, a memory plan made once); then run the program for every later call with
// arguments of the same structure. A compiled call computes exactly the bits eager execution does.
//
//   const step = jit((params, state, x, labels, key) => { ... return { params, state, loss }; },
//                    { donate: ["params", "state"] });
//   printProgram(step, params, state, x, labels, key)   // the traced program, op by op
//
// Tensor leaves of the arguments are the program's inputs; everything else in them (numbers,
// strings, booleans) is static: a new value traces again. Tensors the function closes over are
// captured as constants. While tracing, tensors have no values: reading one (t.data, t.item()) throws,
// since the program must not depend on what it computes; compute with ops instead.
// Called on tensors that are being differentiated (inside valueAndGrad) or traced (inside another
// jit), a jitted function simply runs its function, so it can be differentiated and nested.
// Donation: jit(f, { donate }) names arguments (by position, or, for a function of one record, by key)
// whose tensors the call may overwrite with its outputs; they are deleted by the call, and using them
// afterwards throws.

import {
  compile, currentBackend, formatProgram, Storage, type DType, type Executable, type Instr, type Kernel, type Program, type ProgramValue,
} from "../backend/index.ts";
import { eager, withInterpreter, type Describable, type Handle, type Interpreter } from "./backend.ts";
import { sizeOf, type Shape } from "./shape.ts";
import { handleOf, Tensor } from "./tensor.ts";

/** Thrown when a traced function does what a program cannot: read a value, or return a non-tree. */
export class TraceError extends Error {
  override name = "TraceError";
}

/** A jitted function traced more often than this warns once: a changing number among its arguments, most likely. */
const RETRACE_WARNING = 16;

/** Kernel calls on constants with at most this many output elements are done at trace time (constant folding). */
const FOLD_LIMIT = 64;

class Traced implements Handle {
  constructor(
    readonly tracer: Tracer,
    readonly id: number,
    readonly dtype: DType,
    readonly size: number,
    readonly origin: string,
  ) {}
}

class Tracer implements Interpreter {
  readonly values: ProgramValue[] = [];
  readonly instrs: Instr[] = [];
  readonly constants = new Map<number, Storage>();
  readonly #constantIds = new Map<Storage, number>();

  constructor(readonly name: string) {}

  value(dtype: DType, shape: Shape): number {
    this.values.push({ dtype, size: sizeOf(shape), shape });
    return this.values.length - 1;
  }

  input(dtype: DType, shape: Shape, name: string): Traced {
    return new Traced(this, this.value(dtype, shape), dtype, sizeOf(shape), `argument ${name} of ${this.name}`);
  }

  idOf(h: Handle, op: string): number {
    if (h instanceof Traced) {
      if (h.tracer !== this) throw new TraceError(`${op}: a tensor traced by ${h.tracer.name} (${h.origin}) was used while tracing ${this.name}; pass it as an argument instead`);
      return h.id;
    }
    if (!(h instanceof Storage)) throw new TraceError(`${op}: not a tensor handle`);
    h.check(op);
    let id = this.#constantIds.get(h);
    if (id === undefined) {
      id = this.value(h.dtype, [h.size]);
      this.#constantIds.set(h, id);
      this.constants.set(id, h);
    }
    return id;
  }

  apply(kernel: Kernel<unknown>, inputs: readonly Handle[], params: unknown, shapes: readonly Shape[], op: string): Handle[] {
    const specs = kernel.outputs(inputs, params);
    if (inputs.every((h) => h instanceof Storage) && specs.reduce((s, o) => s + o.size, 0) <= FOLD_LIMIT) {
      return eager.apply(kernel, inputs, params, shapes, op);
    }
    const ids = inputs.map((h) => this.idOf(h, op));
    const outs = specs.map((s, i) => {
      const id = this.value(s.dtype, shapes[i] ?? [s.size]);
      return new Traced(this, id, s.dtype, s.size, `${op} in ${this.name}`);
    });
    this.instrs.push({ kernel, params, inputs: ids, outputs: outs.map((o) => o.id), op });
    return outs;
  }

  read(h: Handle, description: Describable): never | ReturnType<Interpreter["read"]> {
    if (h instanceof Traced) {
      throw new TraceError(
        `${this.name}: cannot read the values of ${description} (${h.origin}) while tracing: a jitted function runs as a fixed program, ` +
          `so what it does must not depend on the values it computes. Compute with ops, or read the values from the function's results.`,
      );
    }
    return eager.read(h, description);
  }
}

// ---- argument trees ---------------------------------------------------------------------------------

interface Leaf {
  readonly tensor: Tensor;
  readonly path: string;
  readonly argument: number;
}

const isPlainObject = (x: object): boolean => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

const notATree = (who: string, path: string, value: unknown): TraceError =>
  new TraceError(
    `${who}: ${path || "an argument"} is ${typeof value === "object" && value !== null ? `a ${value.constructor?.name ?? "object"}` : `a ${typeof value}`}; ` +
      `arguments and results must be trees of tensors, numbers, strings and booleans (wrap arrays with tensor(), close over functions)`,
  );

/**
 * The tensor leaves of a tree in a fixed order (into `leaves`), and a signature of everything else
 * and of the leaves' dtypes and shapes (into `parts`): what a call is traced for.
 */
const flattenTensors = (value: unknown, leaves: Tensor[], parts: string[], who: string): void => {
  if (value instanceof Tensor) {
    leaves.push(value);
    parts.push("T", value.dtype, value.shape.join(","));
  } else if (Array.isArray(value)) {
    parts.push("[");
    for (const v of value) flattenTensors(v, leaves, parts, who);
    parts.push("]");
  } else if (value === null || value === undefined || typeof value === "number" || typeof value === "boolean") {
    parts.push(String(value));
  } else if (typeof value === "string") {
    parts.push(JSON.stringify(value));
  } else if (typeof value === "object" && isPlainObject(value)) {
    parts.push("{");
    for (const k in value) {
      parts.push(k);
      flattenTensors((value as Record<string, unknown>)[k], leaves, parts, who);
    }
    parts.push("}");
  } else throw notATree(who, "", value);
};

/** The tensor leaves with their dotted paths and argument positions (for naming a program's inputs). */
const flatten = (value: unknown, path: string, argument: number, leaves: Leaf[], who: string): void => {
  if (value instanceof Tensor) leaves.push({ tensor: value, path, argument });
  else if (Array.isArray(value)) value.forEach((v, i) => flatten(v, `${path}[${i}]`, argument, leaves, who));
  else if (value !== null && typeof value === "object") {
    if (!isPlainObject(value)) throw notATree(who, path, value);
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, argument, leaves, who);
  } else if (typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") throw notATree(who, path, value);
};

/**
 * Whether `value` has the structure of `template` (the arguments a program was traced for): the same
 * keys and list lengths, equal numbers, strings and booleans, tensors of the same dtype and shape.
 * Collects value's tensors in flatten's order. (The quick way to find the last call's program again.)
 */
const sameStructure = (template: unknown, value: unknown, tensors: Tensor[]): boolean => {
  if (template instanceof Tensor) {
    if (!(value instanceof Tensor) || value.dtype !== template.dtype) return false;
    const a = value.shape, b = template.shape;
    if (a !== b) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    }
    tensors.push(value);
    return true;
  }
  if (Array.isArray(template)) {
    if (!Array.isArray(value) || value.length !== template.length) return false;
    for (let i = 0; i < template.length; i++) if (!sameStructure(template[i], value[i], tensors)) return false;
    return true;
  }
  if (template !== null && typeof template === "object") {
    if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Tensor || !isPlainObject(value)) return false;
    let n = 0;
    for (const k in template) {
      if (!(k in value) || !sameStructure((template as Record<string, unknown>)[k], (value as Record<string, unknown>)[k], tensors)) return false;
      n++;
    }
    for (const k in value) if (--n < 0 || !(k in template)) return false;
    return n === 0;
  }
  return template === value;
};

/** The tree with its tensor leaves replaced, in flatten's order. */
const rebuild = (value: unknown, next: () => Tensor): unknown => {
  if (value instanceof Tensor) return next();
  if (Array.isArray(value)) return value.map((v) => rebuild(v, next));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rebuild(v, next);
    return out;
  }
  return value;
};

/** The names of f's parameters as its source spells them (for labelling a program's inputs). */
const parameterNames = (f: (...args: never[]) => unknown): string[] | null => {
  const source = f.toString();
  const m = /^(?:async\s*)?(?:function\b[^(]*)?\(([^)]*)\)/.exec(source) ?? /^(?:async\s*)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (m === null) return null;
  const names = m[1]!.split(",").map((s) => s.trim().replace(/[:=].*$/, "").trim()).filter((s) => s.length > 0);
  return names.every((n) => /^[A-Za-z_$][\w$]*$/.test(n)) ? names : null;
};

// ---- jit ----------------------------------------------------------------------------------------

export interface JitOptions {
  /**
   * Arguments whose tensors the call may overwrite with its results, deleted by the call: positions,
   * or, for a function of one record (f({ params, state, x })), its keys.
   */
  readonly donate?: readonly (number | string)[];
  /** The name in programs and messages (default: the function's name). */
  readonly name?: string;
}

interface Compiled {
  /** The arguments it was traced for (their structure is its key). */
  readonly args: readonly unknown[];
  readonly backend: string;
  readonly traced: Program;
  readonly executable: Executable;
  readonly result: unknown; // the result tree as traced (its tensor leaves are replaced at each call)
  readonly shapes: readonly Shape[];
}

export interface Jitted<A extends unknown[], R> {
  (...args: A): R;
  /** The program traced for these arguments (before and after the backend's rewrites). */
  lower(...args: A): { readonly traced: Program; readonly compiled: Program; readonly bytes: number; readonly executable: Executable };
  /** How many argument structures have been traced. */
  readonly traces: number;
}

export const jit = <A extends unknown[], R>(f: (...args: A) => R, options: JitOptions = {}): Jitted<A, R> => {
  const name = `jit(${options.name ?? (f.name || "f")})`;
  const donate = options.donate ?? [];
  for (const d of donate) {
    if (typeof d === "number" && !(Number.isInteger(d) && d >= 0)) throw new RangeError(`${name}: donate: ${d} is not an argument position`);
  }
  /** Whether a leaf is donated: its argument's position is listed, or (for a function of one record) its top-level key. */
  const isDonated = (leaf: Leaf): boolean =>
    donate.some((d) => (typeof d === "number" ? leaf.argument === d : leaf.argument === 0 && (leaf.path === `0.${d}` || leaf.path.startsWith(`0.${d}.`) || leaf.path.startsWith(`0.${d}[`))));
  const checkDonateNames = (args: A): void => {
    for (const d of donate) {
      if (typeof d !== "string") continue;
      const first = args[0];
      if (first === null || typeof first !== "object" || Array.isArray(first) || first instanceof Tensor || !(d in first)) {
        throw new RangeError(`${name}: donate: "${d}" names no key of the first argument (donate by name is for a function of one record, as f({ params, state, x }); give positions otherwise)`);
      }
    }
  };
  const cache = new Map<string, Compiled>();

  /** The arguments' tensor leaves, and the key of the program traced for them. */
  const structure = (args: A): { tensors: Tensor[]; key: string } => {
    const tensors: Tensor[] = [];
    const parts: string[] = [currentBackend().name];
    for (const a of args) {
      parts.push("|");
      flattenTensors(a, tensors, parts, name);
    }
    return { tensors, key: parts.join("\u0001") };
  };

  const build = (args: A): Compiled => {
    checkDonateNames(args);
    const leaves: Leaf[] = [];
    args.forEach((a, i) => flatten(a, String(i), i, leaves, name));
    const tracer = new Tracer(name);
    const names = parameterNames(f as never);
    const label = (leaf: Leaf) => {
      const rest = leaf.path.slice(String(leaf.argument).length);
      // A function of one record: its keys name the inputs (params.dense1.weight).
      if (args.length === 1 && rest.startsWith(".")) return rest.slice(1);
      const arg = names?.[leaf.argument] ?? `arg${leaf.argument}`;
      return `${arg}${rest}`;
    };
    const inputs = leaves.map((leaf) => tracer.input(leaf.tensor.dtype, leaf.tensor.shape, label(leaf)));
    let i = 0;
    const tracedArgs = args.map((a) => rebuild(a, () => new Tensor(inputs[i]!, leaves[i++]!.tensor.shape))) as A;
    const result = withInterpreter(tracer, () => f(...tracedArgs));
    const outLeaves: Leaf[] = [];
    flattenTensors(result, [], [], `${name} result`); // throws for what is not a tree
    flatten(result, "", 0, outLeaves, `${name} result`);
    const outputs = outLeaves.map(({ tensor }) => tracer.idOf(handleOf(tensor), name));
    const traced: Program = {
      name,
      values: tracer.values,
      inputs: inputs.map((t) => t.id),
      inputNames: leaves.map(label),
      constants: tracer.constants,
      instrs: tracer.instrs,
      outputs,
      outputNames: outLeaves.map((l) => l.path),
    };
    const executable = compile(traced, currentBackend(), leaves.map(isDonated));
    return { args, backend: currentBackend().name, traced, executable, result, shapes: outLeaves.map((l) => l.tensor.shape) };
  };

  let warned = false;
  const compiled = (args: A, key: string): Compiled => {
    let entry = cache.get(key);
    if (entry === undefined) {
      cache.set(key, (entry = build(args)));
      if (cache.size > RETRACE_WARNING && !warned) {
        warned = true;
        console.warn(
          `${name} has been traced for ${cache.size} different argument structures: a number, string or boolean argument that changes from call to call ` +
            `is a constant of each program, so every new value traces again; pass a value that changes as a tensor (scalar(x)) to trace once`,
        );
      }
    }
    return entry;
  };

  let last: Compiled | null = null;
  /** The last call's program if these arguments match it, with their tensors (else null). */
  const again = (args: A): { entry: Compiled; tensors: Tensor[] } | null => {
    if (last === null || last.backend !== currentBackend().name || last.args.length !== args.length) return null;
    const tensors: Tensor[] = [];
    for (let i = 0; i < args.length; i++) if (!sameStructure(last.args[i], args[i], tensors)) return null;
    return { entry: last, tensors };
  };
  /** The storages behind the tensors, or null if one is tracked or traced (then f runs as it is). */
  const storagesOf = (tensors: readonly Tensor[]): Storage[] | null => {
    const storages: Storage[] = new Array(tensors.length);
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i]!;
      const h = handleOf(t);
      if (t.node !== null || !(h instanceof Storage)) return null;
      storages[i] = h;
    }
    return storages;
  };

  const jitted = (...args: A): R => {
    let found = again(args);
    let storages = found === null ? null : storagesOf(found.tensors);
    if (found === null) {
      const { tensors, key } = structure(args);
      storages = storagesOf(tensors);
      // Being differentiated or traced: run the function itself, so its ops are recorded.
      if (storages === null) return f(...args);
      found = { entry: (last = compiled(args, key)), tensors };
    }
    if (storages === null) return f(...args);
    const { entry } = found;
    const outs = entry.executable.call(storages);
    let i = 0;
    return rebuild(entry.result, () => {
      const t = new Tensor(outs[i]!, entry.shapes[i]!);
      i++;
      return t;
    }) as R;
  };
  const lower = (...args: A) => {
    const entry = compiled(args, structure(args).key);
    return { traced: entry.traced, compiled: entry.executable.program, bytes: entry.executable.bytes, executable: entry.executable };
  };
  return Object.defineProperties(jitted, {
    lower: { value: lower },
    traces: { get: () => cache.size },
  }) as Jitted<A, R>;
};

/**
 * The program jit traces for these arguments, as text (as jax.make_jaxpr prints it): one kernel call
 * per line with its output's dtype and shape, grouped under the op that made it. `compiled: true`
 * shows it after the backend's fusions instead.
 */
export const printProgram = <A extends unknown[], R>(f: Jitted<A, R>, ...args: A): string => formatProgram(f.lower(...args).traced);

/** printProgram, after the backend's rewrites (the program that actually runs). */
export const printCompiledProgram = <A extends unknown[], R>(f: Jitted<A, R>, ...args: A): string => formatProgram(f.lower(...args).compiled);
