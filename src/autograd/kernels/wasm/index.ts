// The float32 matrix products compiled from ./assembly/matmul.ts to WebAssembly SIMD (f32x4).
//
// The module is loaded synchronously from bytes held in a generated TypeScript module, so the same
// code runs in Node, in a browser page and in a Web Worker, with no file to fetch. (The module is
// under 4 KB: browsers refuse synchronous compilation of larger modules on a page's main thread.)
// It has its own linear memory: each call copies the operands in, runs, and copies the product out
// into a new Float32Array, since tensors are immutable and never live in that memory.
// `simd` is null where WebAssembly or its SIMD is unavailable; ../matmul.ts then uses the reference loops.

import * as reference from "../reference.ts";
import { kernelsWasm } from "./kernels.wasm.ts";

/** What the module exports (pointers are byte offsets into `memory`). */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  matmulNN(a: number, b: number, c: number, list: number, spare: number, m: number, k: number, n: number): void;
  matmulTN(a: number, b: number, c: number, list: number, spare: number, m: number, k: number, n: number): void;
  matmulNT(a: number, b: number, c: number, list: number, spare: number, bt: number, m: number, k: number, n: number): void;
}

/** A float32 matrix product C[m,n] of row-major operands (see ../reference.ts for the semantics). */
export type Float32Kernel = (a: Float32Array, b: Float32Array, m: number, k: number, n: number) => Float32Array;

export interface SimdKernels {
  readonly matmulNN: Float32Kernel;
  readonly matmulNT: Float32Kernel;
  readonly matmulTN: Float32Kernel;
}

/** The bytes of a base64 string (atob exists in Node >= 16, browsers and workers). */
export const decodeBase64 = (text: string): Uint8Array<ArrayBuffer> => {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
};

const PAGE = 65536;
const LIST = 16; // byte offset of the scratch list of nonzeros; regions start 16-byte aligned
const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Wrap an instance's exports as kernels over Float32Arrays. */
export const bindKernels = (wasm: KernelExports): SimdKernels => {
  let heap = new Float32Array(wasm.memory.buffer);

  /**
   * Make the memory at least `bytes` long, or return false if it cannot grow that far (a 32-bit
   * memory holds at most 4 GB; browsers may allow less). Growing detaches the old buffer, so the
   * view is refreshed.
   */
  const reserve = (bytes: number): boolean => {
    const have = wasm.memory.buffer.byteLength;
    if (bytes > have) {
      try {
        wasm.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch {
        return false;
      }
    }
    if (heap.buffer !== wasm.memory.buffer) heap = new Float32Array(wasm.memory.buffer);
    return true;
  };

  /**
   * C = op(A) . op(B) for `kind` (NN, NT or TN). A holds m*k floats and B k*n in every case. The
   * memory is laid out as [list of k nonzeros | A | B | C | spare row of C | B^T for NT]; A and B
   * are copied in, and C is copied out into a new array. A product too large for the memory is
   * left to the reference loops.
   */
  const product = (kind: "NN" | "NT" | "TN", a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array => {
    const pa = align(LIST + 16 * k);
    const pb = align(pa + 4 * m * k);
    const pc = align(pb + 4 * k * n);
    const spare = align(pc + 4 * m * n);
    const bt = align(spare + 4 * n);
    if (!reserve(bt + (kind === "NT" ? 4 * k * n : 0))) return reference[`matmul${kind}`](a, b, m, k, n) as Float32Array;
    heap.set(a.length === m * k ? a : a.subarray(0, m * k), pa >> 2);
    heap.set(b.length === k * n ? b : b.subarray(0, k * n), pb >> 2);
    if (kind === "NN") wasm.matmulNN(pa, pb, pc, LIST, spare, m, k, n);
    else if (kind === "TN") wasm.matmulTN(pa, pb, pc, LIST, spare, m, k, n);
    else wasm.matmulNT(pa, pb, pc, LIST, spare, bt, m, k, n);
    return heap.slice(pc >> 2, (pc >> 2) + m * n);
  };

  return {
    matmulNN: (a, b, m, k, n) => product("NN", a, b, m, k, n),
    matmulNT: (a, b, m, k, n) => product("NT", a, b, m, k, n),
    matmulTN: (a, b, m, k, n) => product("TN", a, b, m, k, n),
  };
};

/** Compile and instantiate the module, or null where WebAssembly (with SIMD) is unavailable. */
export const loadSimdKernels = (bytes: Uint8Array<ArrayBuffer> = decodeBase64(kernelsWasm)): SimdKernels | null => {
  if (typeof WebAssembly !== "object") return null;
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  } catch {
    return null; // a CompileError: this engine lacks SIMD (the only feature the module needs)
  }
  return bindKernels(instance.exports as unknown as KernelExports);
};

/** The SIMD kernels of this process, or null if they cannot run here. */
export const simd: SimdKernels | null = loadSimdKernels();
