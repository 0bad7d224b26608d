// A program: a fixed list of kernel calls over numbered values, as jit traces it from a function
// (src/autograd/jit.ts). Compiling it for a backend rewrites it with the backend's fusion rules,
// plans its memory once (every value gets a fixed place in the backend's memory, reused by values
// whose lifetimes do not overlap), and gives a function that runs it on new arguments.
//
// Donation (as JAX's donate_argnums): an argument the caller donates is deleted by the call, and an
// output of the same dtype and size is written over its memory instead of new memory: parameters
// and optimizer state updated in a loop stay in the backend's memory, in the same place, step after
// step, and are neither copied in nor out.

import type { Backend, Lowered, Place } from "./backend.ts";
import { bytesOf, shortName, viewOf, type DType, type TypedArray } from "./dtype.ts";
import type { Kernel } from "./kernel.ts";
import { align } from "./memory.ts";
import { hostArray, Storage, slotView, type Slot } from "./storage.ts";

export interface ProgramValue {
  readonly dtype: DType;
  readonly size: number;
  readonly shape: readonly number[];
}

export interface Instr {
  readonly kernel: Kernel<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly params: unknown;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** The front-end op that made the call ("linear", "vjp of linear"), for printing. */
  readonly op: string;
}

export interface Program {
  readonly name: string;
  /** Every value, by number. */
  readonly values: readonly ProgramValue[];
  /** The values bound to the arguments, in order, and what they are called ("params.dense1.weight"). */
  readonly inputs: readonly number[];
  readonly inputNames: readonly string[];
  /** Values known when the program was made (captured tensors, folded constants). */
  readonly constants: ReadonlyMap<number, Storage>;
  readonly instrs: readonly Instr[];
  readonly outputs: readonly number[];
  readonly outputNames: readonly string[];
}

/** One rewrite of a program (a fusion), or null where it does not apply. */
export type Rule = (program: Program) => Program | null;

/** How many instructions read each value (outputs count once each). */
export const useCounts = (program: Program): number[] => {
  const uses = new Array<number>(program.values.length).fill(0);
  for (const instr of program.instrs) for (const v of instr.inputs) uses[v]!++;
  for (const v of program.outputs) uses[v]!++;
  return uses;
};

/** The instruction that writes each value (-1 for inputs and constants). */
export const producers = (program: Program): number[] => {
  const at = new Array<number>(program.values.length).fill(-1);
  program.instrs.forEach((instr, i) => instr.outputs.forEach((v) => (at[v] = i)));
  return at;
};

/** Drop instructions none of whose outputs is used. */
export const withoutDeadCode = (program: Program): Program => {
  const live = new Set(program.outputs);
  const kept: Instr[] = [];
  for (let i = program.instrs.length - 1; i >= 0; i--) {
    const instr = program.instrs[i]!;
    if (instr.outputs.some((v) => live.has(v))) {
      kept.push(instr);
      for (const v of instr.inputs) live.add(v);
    }
  }
  kept.reverse();
  return kept.length === program.instrs.length ? program : { ...program, instrs: kept };
};

/** Apply the rules until none applies, then drop dead code. */
export const optimize = (program: Program, rules: readonly Rule[]): Program => {
  let p = withoutDeadCode(program);
  for (let changed = true; changed; ) {
    changed = false;
    for (const rule of rules) {
      const next = rule(p);
      if (next !== null) {
        p = withoutDeadCode(next);
        changed = true;
      }
    }
  }
  return p;
};

// ---- printing -------------------------------------------------------------------------------------

const typeOf = (v: ProgramValue): string => `${shortName(v.dtype)}[${v.shape.join(",")}]`;

/** The program as text, one kernel call per line, in the manner of jax.make_jaxpr. */
export const formatProgram = (program: Program): string => {
  const name = (v: number) => `%${v}`;
  const lines: string[] = [];
  lines.push(`program ${program.name}(`);
  program.inputs.forEach((v, i) => lines.push(`    ${name(v)}: ${typeOf(program.values[v]!)}    ${program.inputNames[i] ?? ""}`));
  lines.push(") {");
  for (const [v, s] of program.constants) lines.push(`  ${name(v)}: ${typeOf(program.values[v]!)} = constant${s.size === 1 ? ` ${s.host()[0]}` : ""}`);
  let op = "";
  for (const instr of program.instrs) {
    if (instr.op !== op) {
      op = instr.op;
      lines.push(`  # ${op}`);
    }
    const outs = instr.outputs.map((v) => `${name(v)}: ${typeOf(program.values[v]!)}`).join(", ");
    const shown = instr.kernel.show?.(instr.params);
    lines.push(`  ${outs} = ${instr.kernel.name}${shown ? `[${shown}]` : ""}(${instr.inputs.map(name).join(", ")})`);
  }
  lines.push(`  return ${program.outputs.map((v, i) => `${name(v)}${program.outputNames[i] ? ` (${program.outputNames[i]})` : ""}`).join(", ")}`);
  lines.push("}");
  return lines.join("\n");
};

// ---- compiling -------------------------------------------------------------------------------------

export interface Executable {
  /** The program as it runs: after the backend's rewrites. */
  readonly program: Program;
  /** Run on these arguments (one storage per program input); donated ones are deleted. */
  call(args: readonly Storage[]): Storage[];
  /** Bytes of the backend's memory the program holds. */
  readonly bytes: number;
  /** Run the kernels alone, on whatever the arguments' places hold (for benchmarks of the kernels). */
  runKernels(): void;
  /** Milliseconds per call of each instruction (the median of `rounds` timings of `repeats` calls), for benchmarks. */
  profile(rounds?: number, repeats?: number): number[];
}

interface Interval {
  readonly value: number;
  readonly start: number;
  readonly end: number;
  readonly bytes: number;
}

/** Offsets for intervals so that two overlapping in time never overlap in memory; returns the size. */
const placeIntervals = (intervals: readonly Interval[], offsets: Map<number, number>): number => {
  const sorted = [...intervals].sort((a, b) => a.start - b.start || b.bytes - a.bytes);
  const active: { offset: number; bytes: number; end: number }[] = [];
  let size = 0;
  for (const it of sorted) {
    for (let i = active.length - 1; i >= 0; i--) if (active[i]!.end < it.start) active.splice(i, 1);
    active.sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const a of active) {
      if (a.offset - offset >= it.bytes) break;
      offset = Math.max(offset, a.offset + a.bytes);
    }
    active.push({ offset, bytes: it.bytes, end: it.end });
    offsets.set(it.value, offset);
    size = Math.max(size, offset + it.bytes);
  }
  return size;
};

/**
 * Pair each donated input with an output it can be written over: same dtype and size, made by an
 * instruction that is the input's last reader (and that reads it only where its kernel may write
 * that output in place), taken in order. Returns output position -> input position.
 */
const pairDonations = (p: Program, donated: readonly boolean[]): Map<number, number> => {
  const made = producers(p);
  const lastRead = new Array<number>(p.values.length).fill(-1);
  p.instrs.forEach((instr, i) => instr.inputs.forEach((v) => (lastRead[v] = i)));
  const pairs = new Map<number, number>();
  const taken = new Set<number>(); // output values already paired
  p.inputs.forEach((vin, k) => {
    if (!donated[k] || p.inputs.indexOf(vin) !== k) return;
    const spec = p.values[vin]!;
    for (let j = 0; j < p.outputs.length; j++) {
      const vout = p.outputs[j]!;
      const at = made[vout]!;
      if (at < 0 || taken.has(vout) || pairs.has(j)) continue;
      const out = p.values[vout]!;
      if (out.dtype !== spec.dtype || out.size !== spec.size) continue;
      if (p.outputs.includes(vin)) break; // the input is itself returned: it must stay as it is
      if (lastRead[vin]! > at) continue;
      if (lastRead[vin] === at) {
        const instr = p.instrs[at]!;
        const o = instr.outputs.indexOf(vout);
        const reads = instr.inputs.flatMap((v, i) => (v === vin ? [i] : []));
        if (reads.length !== 1 || instr.kernel.inPlace?.[o] !== reads[0]) continue;
      }
      pairs.set(j, k);
      taken.add(vout);
      break;
    }
  });
  return pairs;
};

export const compile = (program: Program, backend: Backend, donated: readonly boolean[]): Executable => {
  const p = optimize(program, backend.rules);
  const memory = backend.memory;
  const bytes = (v: number) => align(bytesOf(p.values[v]!.dtype) * p.values[v]!.size);
  const pairs = pairDonations(p, donated);
  const pairedInput = new Map<number, number>(); // input position -> output position
  for (const [j, k] of pairs) pairedInput.set(k, j);

  // Slots: one per donated input that an output is written over, owned by the program.
  const slots = new Map<number, Slot>(); // input position -> slot
  const slotOf = new Map<number, Slot>(); // value -> slot (the input's value and the output's)
  for (const [j, k] of pairs) {
    const v = p.inputs[k]!;
    const spec = p.values[v]!;
    const slot: Slot = { memory, offset: memory.alloc(bytes(v)), dtype: spec.dtype, size: spec.size, owner: null };
    slots.set(k, slot);
    slotOf.set(v, slot);
    slotOf.set(p.outputs[j]!, slot);
  }

  // Every other value in one arena: inputs and constants for the whole run, the rest from the
  // instruction that writes it to the last that reads it (outputs: to the end), scratch for its
  // instruction only.
  const n = p.instrs.length;
  const end = new Map<number, number>();
  p.instrs.forEach((instr, i) => instr.inputs.forEach((v) => end.set(v, i)));
  for (const v of p.outputs) end.set(v, n);
  const intervals: Interval[] = [];
  const seen = new Set<number>();
  const place = (v: number, start: number) => {
    if (seen.has(v) || slotOf.has(v)) return;
    seen.add(v);
    intervals.push({ value: v, start, end: start < 0 ? n : Math.max(end.get(v) ?? start, start), bytes: bytes(v) });
  };
  p.inputs.forEach((v) => place(v, -1));
  for (const v of p.constants.keys()) place(v, -1);
  p.instrs.forEach((instr, i) => instr.outputs.forEach((v) => place(v, i)));

  const lowerAll = (at: (v: number) => number) =>
    p.instrs.map((instr) => {
      const placeOf = (v: number): Place => ({ offset: at(v), dtype: p.values[v]!.dtype, size: p.values[v]!.size });
      return backend.lower(instr.kernel, instr.params, instr.inputs.map(placeOf), instr.outputs.map(placeOf));
    });
  // Scratch needs are known only once lowered; offsets do not change what a kernel needs.
  const scratchNeeds = lowerAll(() => 0).map((l) => l.scratchBytes);
  const scratchIds = scratchNeeds.map((_, i) => p.values.length + i);
  scratchNeeds.forEach((b, i) => {
    if (b > 0) intervals.push({ value: scratchIds[i]!, start: i, end: i, bytes: align(b) });
  });
  const offsets = new Map<number, number>();
  const arenaBytes = placeIntervals(intervals, offsets);
  const arena = memory.alloc(arenaBytes + 16); // 16 bytes of room: some kernels read a little past a row
  const at = (v: number) => slotOf.get(v)?.offset ?? arena + offsets.get(v)!;

  let lowered: Lowered[] = [];
  let runs: (() => void)[] = [];
  let generation = -1;
  const views = new Map<number, TypedArray>();
  const viewAt = (v: number): TypedArray => {
    let view = views.get(v);
    if (view === undefined) views.set(v, (view = viewOf(p.values[v]!.dtype, memory.buffer, at(v), p.values[v]!.size)));
    return view;
  };
  const ready = () => {
    if (generation === memory.generation) return;
    views.clear();
    lowered = lowerAll(at);
    runs = lowered.map((l, i) => l.make(scratchNeeds[i]! > 0 ? arena + offsets.get(scratchIds[i]!)! : 0));
    generation = memory.generation;
  };
  ready();
  for (const [v, s] of p.constants) s.copyInto(viewAt(v));

  // What each arena input place holds now, so an unchanged argument (a storage never changes) is
  // not copied in again.
  const holding = new Array<Storage | null>(p.inputs.length).fill(null);
  const inputPositions = new Map<number, number>();
  p.inputs.forEach((v, k) => inputPositions.set(v, k));

  // What the call does with each argument and makes of each output, worked out once.
  const slotAt = p.inputs.map((_, k) => slots.get(k) ?? null);
  const anyDonated = donated.some((d) => d);
  const deletions = p.inputNames.map((n) => `was donated to ${p.name} as ${n}`);
  type Make = { kind: "slot"; slot: Slot } | { kind: "argument"; k: number } | { kind: "constant"; s: Storage } | { kind: "copy"; v: number } | { kind: "same"; j: number };
  const makes: Make[] = p.outputs.map((v, j): Make => {
    const first = p.outputs.indexOf(v);
    const k = inputPositions.get(v);
    if (first < j) return { kind: "same", j: first };
    if (pairs.has(j)) return { kind: "slot", slot: slots.get(pairs.get(j)!)! };
    if (k !== undefined && !donated[k]) return { kind: "argument", k };
    if (p.constants.has(v)) return { kind: "constant", s: p.constants.get(v)! };
    return { kind: "copy", v };
  });
  const origins = p.outputs.map((_, j) => `${p.name} (${p.outputNames[j] ?? `output ${j}`})`);

  const checkArguments = (args: readonly Storage[]): void => {
    if (args.length !== p.inputs.length) throw new Error(`${p.name}: expected ${p.inputs.length} arguments, got ${args.length}`);
    for (let k = 0; k < args.length; k++) if (args[k]!.deleted !== null) args[k]!.check(`${p.name} (${p.inputNames[k]})`);
    if (!anyDonated) return;
    // A donated tensor is deleted by the call: it cannot come twice, nor also undonated.
    for (let k = 0; k < args.length; k++) {
      if (!donated[k]) continue;
      for (let j = 0; j < args.length; j++) {
        if (j === k || args[j] !== args[k]) continue;
        if (donated[j]) throw new Error(`${p.name}: the same tensor is donated twice (${p.inputNames[Math.min(j, k)]} and ${p.inputNames[Math.max(j, k)]})`);
        throw new Error(`${p.name}: ${p.inputNames[j]} is also passed as a donated argument, which the call deletes`);
      }
    }
  };

  const copyOut = (v: number, origin: string): Storage => {
    const { dtype, size } = p.values[v]!;
    const array = hostArray(dtype, size);
    array.set(viewAt(v) as never);
    return Storage.own(array, dtype, origin);
  };

  const call = (args: readonly Storage[]): Storage[] => {
    checkArguments(args);
    ready();
    for (let k = 0; k < args.length; k++) {
      const s = args[k]!;
      const slot = slotAt[k]!;
      if (slot !== null) {
        if (slot.owner === s) continue; // the last call's output, where it was left
        slot.owner?.leaveSlot();
        s.copyInto(slotView(slot));
        continue;
      }
      if (holding[k] === s) continue;
      s.copyInto(viewAt(p.inputs[k]!));
      holding[k] = donated[k] ? null : s;
    }
    for (const run of runs) run();
    // Donated arguments are gone now (their slots hold the new values); then the outputs.
    if (anyDonated) for (let k = 0; k < args.length; k++) if (donated[k] && args[k]!.deleted === null) args[k]!.delete(deletions[k]!);
    const outputs: Storage[] = new Array(makes.length);
    for (let j = 0; j < makes.length; j++) {
      const m = makes[j]!;
      outputs[j] =
        m.kind === "slot" ? Storage.inSlot(m.slot, origins[j]!)
          : m.kind === "argument" ? args[m.k]!
            : m.kind === "constant" ? m.s
              : m.kind === "same" ? outputs[m.j]!
                : copyOut(m.v, origins[j]!);
    }
    return outputs;
  };


  let total = arenaBytes;
  for (const slot of slots.values()) total += align(bytesOf(slot.dtype) * slot.size);
  const runKernels = () => {
    ready();
    for (const run of runs) run();
  };
  const profile = (rounds = 7, repeats = 20) => {
    ready();
    return runs.map((run) => {
      const times: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        for (let i = 0; i < repeats; i++) run();
        times.push((performance.now() - t0) / repeats);
      }
      return times.sort((a, b) => a - b)[rounds >> 1]!;
    });
  };
  return { program: p, call, bytes: total, runKernels, profile };
};
