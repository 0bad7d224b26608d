// The WebAssembly backend's rewrites of a compiled program: where the plan makes a chain of kernels
// obvious, one faster kernel computing the same bits takes its place (spec/backend/fusion.spec.ts
// checks each against the chain it replaces).
//
//   broadcastTo(scalar) -> binary(x, .)          binary(x, scalar): the scalar is read, not repeated
//   cast(uint8 -> float32) -> x / 255            unitFloats(pixels)
//   matmul(A^T . G) -> sgdUpdate(P, ., lr)       matmulTNSgd: the weight gradient is never stored
//   unitFloats(pixels) -> linear, A^T . G        lists of the pixels' nonzeros, made once from the
//                                                bytes for the layer's forward and weight gradient
//   unitFloats(pixels) -> linear only            linearFromBytes: the product reads the bytes
//   maskPositive(g, y) -> column sums            maskColumnSums: one pass for the relu and the bias

import * as k from "../kernels.ts";
import type { Instr, Program, Rule } from "../program.ts";
import * as fused from "./fused.ts";

/** The largest lists made (a 64 x 784 batch's take 0.4 MB at most). */
const MAX_LIST_BYTES = 4 << 20;

interface Use {
  readonly instr: number;
  readonly slot: number;
}

const usesOf = (p: Program): Map<number, Use[]> => {
  const uses = new Map<number, Use[]>();
  p.instrs.forEach((instr, i) => instr.inputs.forEach((v, slot) => {
    let list = uses.get(v);
    if (list === undefined) uses.set(v, (list = []));
    list.push({ instr: i, slot });
  }));
  return uses;
};

const isOutput = (p: Program, v: number): boolean => p.outputs.includes(v);
const f32 = (p: Program, v: number): boolean => p.values[v]!.dtype === "float32";

/** A new value of the program. */
const addValue = (values: Program["values"][number][], dtype: "uint8" | "float32", size: number): number => {
  values.push({ dtype, size, shape: [size] });
  return values.length - 1;
};

/** The program with instructions replaced (null: removed) and others inserted before an index. */
const edit = (p: Program, replaced: ReadonlyMap<number, Instr | null>, before: ReadonlyMap<number, Instr> = new Map(), values = p.values): Program => {
  const instrs: Instr[] = [];
  p.instrs.forEach((instr, i) => {
    const ins = before.get(i);
    if (ins !== undefined) instrs.push(ins);
    const r = replaced.has(i) ? replaced.get(i)! : instr;
    if (r !== null) instrs.push(r);
  });
  return { ...p, instrs, values };
};

const params = <P>(instr: Instr): P => instr.params as P;

/** broadcastTo of a single value, read only as the second operand of binary kernels: pass the value itself. */
const scalarOperands: Rule = (p) => {
  const uses = usesOf(p);
  for (const [i, instr] of p.instrs.entries()) {
    if (instr.kernel !== k.broadcastTo || p.values[instr.inputs[0]!]!.size !== 1) continue;
    const out = instr.outputs[0]!;
    const readers = uses.get(out) ?? [];
    if (isOutput(p, out) || readers.length === 0) continue;
    const ok = readers.every(({ instr: r, slot }) => {
      const reader = p.instrs[r]!;
      if (reader.kernel !== k.binary || reader.inputs[1 - slot] === out) return false;
      const op = params<{ op: k.BinaryOp }>(reader).op;
      return slot === 1 || op === "add" || op === "mul";
    });
    if (!ok) continue;
    const replaced = new Map<number, Instr | null>([[i, null]]);
    for (const { instr: r, slot } of readers) {
      const reader = p.instrs[r]!;
      // a + b = b + a and a * b = b * a exactly: the scalar goes second.
      const inputs = slot === 1 ? [reader.inputs[0]!, instr.inputs[0]!] : [reader.inputs[1]!, instr.inputs[0]!];
      replaced.set(r, { ...reader, inputs });
    }
    return edit(p, replaced);
  }
  return null;
};

/** cast(bytes -> float32) / 255: unitFloats. */
const unitFloatsRule: Rule = (p) => {
  const uses = usesOf(p);
  for (const [i, instr] of p.instrs.entries()) {
    if (instr.kernel !== k.binary || params<{ op: k.BinaryOp }>(instr).op !== "div" || !f32(p, instr.outputs[0]!)) continue;
    const [c, s] = instr.inputs as [number, number];
    const constant = p.constants.get(s);
    if (constant === undefined || constant.size !== 1 || constant.host()[0] !== 255) continue;
    const castAt = p.instrs.findIndex((x) => x.outputs[0] === c);
    const cast = p.instrs[castAt];
    if (cast === undefined || cast.kernel !== k.cast || p.values[cast.inputs[0]!]!.dtype !== "uint8") continue;
    if ((uses.get(c)?.length ?? 0) !== 1 || isOutput(p, c)) continue;
    return edit(p, new Map([[castAt, null], [i, { kernel: fused.unitFloats, params: undefined, inputs: [cast.inputs[0]!], outputs: instr.outputs, op: instr.op }]]));
  }
  return null;
};

/** matmul(A^T . G) read only by sgdUpdate(P, ., lr): matmulTNSgd (or matmulTNListsSgd from lists). */
const sgdIntoProduct: Rule = (p) => {
  const uses = usesOf(p);
  for (const [i, instr] of p.instrs.entries()) {
    if (instr.kernel !== k.sgdUpdate || !f32(p, instr.outputs[0]!)) continue;
    const [param, dw, lr] = instr.inputs as [number, number, number];
    const at = p.instrs.findIndex((x) => x.outputs.includes(dw));
    const made = p.instrs[at];
    if (made === undefined || (uses.get(dw)?.length ?? 0) !== 1 || isOutput(p, dw)) continue;
    const decay = params<{ decay: number }>(instr).decay;
    let replacement: Instr | null = null;
    if (made.kernel === k.matmul) {
      const mp = params<k.MatmulParams>(made);
      if (!mp.transA || mp.transB || mp.batch !== 1 || !f32(p, dw)) continue;
      replacement = { kernel: fused.matmulTNSgd, params: { m: mp.m, k: mp.k, n: mp.n, decay }, inputs: [made.inputs[0]!, made.inputs[1]!, param, lr], outputs: instr.outputs, op: instr.op };
    } else if (made.kernel === fused.matmulTNFromLists) {
      const lp = params<{ m: number; k: number; n: number }>(made);
      replacement = { kernel: fused.matmulTNListsSgd, params: { ...lp, decay }, inputs: [made.inputs[0]!, made.inputs[1]!, param, lr], outputs: instr.outputs, op: instr.op };
    } else continue;
    return edit(p, new Map([[at, null], [i, replacement]]));
  }
  return null;
};

/**
 * unitFloats(pixels) read only by linear (as x) and by x^T . G products: lists of the pixels made
 * once, from the bytes, which the forward product and the weight gradient sum from.
 */
const listsFromPixels: Rule = (p) => {
  const uses = usesOf(p);
  for (const [i, instr] of p.instrs.entries()) {
    if (instr.kernel !== fused.unitFloats) continue;
    const x = instr.outputs[0]!;
    const readers = uses.get(x) ?? [];
    if (isOutput(p, x) || readers.length === 0) continue;
    let rows = -1, cols = -1;
    const ok = readers.every(({ instr: r, slot }) => {
      const reader = p.instrs[r]!;
      let m: number, kk: number;
      if (reader.kernel === k.linear && slot === 0) ({ m, k: kk } = params<k.LinearParams>(reader));
      else if (reader.kernel === k.matmul && slot === 0 && params<k.MatmulParams>(reader).transA && !params<k.MatmulParams>(reader).transB && params<k.MatmulParams>(reader).batch === 1) {
        ({ k: m, m: kk } = params<k.MatmulParams>(reader));
      } else if (reader.kernel === fused.matmulTNSgd && slot === 0) ({ k: m, m: kk } = params<{ m: number; k: number }>(reader));
      else return false;
      if ((rows >= 0 && (rows !== m || cols !== kk)) || kk % 2 !== 0) return false;
      [rows, cols] = [m, kk];
      return true;
    });
    // Both the forward and the weight gradient read the lists (a training step), with rows of the
    // same length; and the lists are small (8 bytes per pixel at most): a big batch's forward alone
    // (inference) is better off with the plain product.
    const ns = new Set(readers.map(({ instr: r }) => params<{ n: number }>(p.instrs[r]!).n));
    const training = readers.some(({ instr: r }) => p.instrs[r]!.kernel !== k.linear);
    if (ok && !training) {
      // Only forward products (inference): each reads the bytes itself, two rows at a time.
      const replaced = new Map<number, Instr | null>([[i, null]]);
      for (const { instr: r } of readers) {
        const reader = p.instrs[r]!;
        replaced.set(r, { ...reader, kernel: fused.linearFromBytes, inputs: [instr.inputs[0]!, ...reader.inputs.slice(1)] });
      }
      return edit(p, replaced);
    }
    if (!ok || ns.size !== 1 || fused.listBytes(rows, cols) > MAX_LIST_BYTES) continue;
    const values = [...p.values];
    const lists = addValue(values, "uint8", fused.listBytes(rows, cols));
    const replaced = new Map<number, Instr | null>([[i, { kernel: fused.columnListsFromBytes, params: { m: rows, k: cols, n: [...ns][0]! }, inputs: instr.inputs, outputs: [lists], op: instr.op }]]);
    for (const { instr: r } of readers) {
      const reader = p.instrs[r]!;
      const inputs = [lists, ...reader.inputs.slice(1)];
      if (reader.kernel === k.linear) {
        const { n, relu } = params<k.LinearParams>(reader);
        replaced.set(r, { ...reader, kernel: fused.linearFromLists, params: { m: rows, k: cols, n, relu }, inputs });
      } else if (reader.kernel === k.matmul) {
        replaced.set(r, { ...reader, kernel: fused.matmulTNFromLists, params: { m: rows, k: cols, n: params<k.MatmulParams>(reader).n }, inputs });
      } else {
        const { n, decay } = params<{ n: number; decay: number }>(reader);
        replaced.set(r, { ...reader, kernel: fused.matmulTNListsSgd, params: { m: rows, k: cols, n, decay }, inputs });
      }
    }
    return edit(p, replaced, new Map(), values);
  }
  return null;
};

/** maskPositive(g, y) whose column sums are taken: both in one pass. */
const maskWithSums: Rule = (p) => {
  for (const [i, instr] of p.instrs.entries()) {
    if (instr.kernel !== k.sumToShape || !f32(p, instr.outputs[0]!)) continue;
    const { from, to } = params<{ from: readonly number[]; to: readonly number[] }>(instr);
    const columns = (to.length === 2 && to[0] === 1 && to[1] === from[1]) || (to.length === 1 && to[0] === from[1]);
    if (from.length !== 2 || !columns || from[0]! < 1) continue;
    const at = p.instrs.findIndex((x) => x.outputs[0] === instr.inputs[0]);
    const mask = p.instrs[at];
    if (mask === undefined || mask.kernel !== k.maskPositive) continue;
    const fusedInstr: Instr = { kernel: fused.maskColumnSums, params: { m: from[0]!, n: from[1]! }, inputs: mask.inputs, outputs: [mask.outputs[0]!, instr.outputs[0]!], op: mask.op };
    return edit(p, new Map([[at, fusedInstr], [i, null]]));
  }
  return null;
};

export const rules: readonly Rule[] = [scalarOperands, unitFloatsRule, sgdIntoProduct, listsFromPixels, maskWithSums];
