// The float32 matrix products compiled from ./assembly/matmul.ts to WebAssembly SIMD (f32x4).
//
// The module is loaded from bytes held in a generated TypeScript module, so the same code runs in
// Node, in a browser page and in a Web Worker, with no file to fetch: synchronously, or, on a page
// of a browser that refuses to compile a module over 4 KB synchronously on its main thread (Chrome
// did until its limit went up to 8 MB), asynchronously (see simdReady).
// It has its own linear memory: each call copies the operands in, runs, and copies the product out
// into a new Float32Array, since tensors are immutable and never live in that memory. Savings on
// those copies: a right operand that the caller marks stable (tensor data, never written after
// construction: a weight) stays resident in the memory, keyed by the array object, so using the same
// weight again (the backward pass's G.W^T, or the next prediction) copies nothing in; so do a weight
// gradient (matmulTN) and the new weight an SGD step makes, for the step and the next forward pass
// to find, and a batch of pixels gathered as tensor data, which the forward pass and the weight
// gradient read as their left operand; and the product is copied out into a buffer donated for
// reuse (../pool.ts) when one of its size is free. Those three kinds of result, when the caller says
// they become tensor data, are not even copied out: their arrays are settled (../deferred.ts) when
// read through Tensor.data or before their room is reused, and never if they are given up first.
// `simd` is null where WebAssembly or its SIMD is unavailable; ../matmul.ts then uses the reference loops.

import { defer, discard, settle, type Holder } from "../deferred.ts";
import { addBiasInPlace } from "../elementwise.ts";
import { float32Uninitialized } from "../pool.ts";
import * as reference from "../reference.ts";
import { kernelsWasm } from "./kernels.wasm.ts";

/** What the module exports (pointers are byte offsets into `memory`). */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  matmulNN(a: number, b: number, c: number, list: number, m: number, k: number, n: number): void;
  matmulTN(a: number, b: number, c: number, list: number, m: number, k: number, n: number): void;
  matmulNT(a: number, b: number, c: number, list: number, bt: number, m: number, k: number, n: number): void;
  /** Optional, so that a module of the matrix products alone can still be bound. */
  sgdStep?(p: number, g: number, out: number, n: number, lr: number, decay: number): void;
  addBias?(c: number, bias: number, m: number, n: number, relu: number): void;
  unitFloats?(src: number, dst: number, n: number): void;
  maskColumnSums?(g: number, y: number, out: number, sums: number, m: number, n: number, wantSums: number): void;
  columnLists?(a: number, lists: number, counts: number, m: number, k: number, rowBytes: number): void;
  matmulNNLists?(lists: number, counts: number, b: number, c: number, m: number, k: number, n: number): void;
  matmulTNLists?(lists: number, counts: number, b: number, c: number, m: number, n: number): void;
}

/**
 * A float32 matrix product C[m,n] of row-major operands (see ../reference.ts for the semantics).
 * stableB: b is never written again (tensor data), so it may be kept in the module's memory and
 * reused by identity on later calls. Leave it false for arrays that may change.
 * tensorResult: the product becomes tensor data, read only through Tensor.data, so a result kept in
 * the memory (matmulTN's) may be left there, its copy deferred (../deferred.ts).
 */
export type Float32Kernel = (a: Float32Array, b: Float32Array, m: number, k: number, n: number, stableB?: boolean, tensorResult?: boolean) => Float32Array;

export interface SimdKernels {
  readonly matmulNN: Float32Kernel;
  readonly matmulNT: Float32Kernel;
  readonly matmulTN: Float32Kernel;
  /** out[i] = p[i] - lr * (g[i] + decay * p[i]) in float32, the same bits as ../update.ts's loop; out may be p. */
  readonly sgdStep: (p: Float32Array, g: Float32Array, out: Float32Array, lr: number, decay: number, tensorResult?: boolean) => void;
  /**
   * relu?(A[m,k] . W[k,n] + bias[n]) into a new array, W kept resident as with stableB: the product,
   * the bias and the relu of ../elementwise.ts's addBiasInPlace, same bits, in one call.
   */
  readonly linearNN: (a: Float32Array, w: Float32Array, bias: Float32Array, m: number, k: number, n: number, relu: boolean) => Float32Array;
  /**
   * out[r * length + j] = bytes[rows[r] * length + j] / 255 for every r < rows.length, j < length:
   * rows of bytes gathered and scaled to [0, 1], the same bits as x * (1 / 255) in double precision.
   * stable: out becomes tensor data (never written again, read only through Tensor.data), so its
   * floats may stay in the module's memory for the products that read it next (a batch's pixels: the
   * forward pass and the weight gradient), and their copy into out be deferred (../deferred.ts).
   */
  readonly gatherUnitFloats: (bytes: Uint8Array, rows: ArrayLike<number>, length: number, out: Float32Array, stable?: boolean) => Float32Array;
  /**
   * The relu layer's backward over g [rows, n]: masked = g where y > 0, else 0, and (if wantSums)
   * its column sums, the same bits as ../elementwise.ts's maskPositive and maskPositiveWithColumnSums.
   * Null if the module lacks the kernel or the memory is too small (the caller then runs those loops).
   */
  readonly maskPositive: (g: Float32Array, y: Float32Array, n: number, wantSums: boolean) => { masked: Float32Array; sums: Float32Array | null } | null;
  /** The size in bytes of the ring of resident arrays (for specs and benchmarks). */
  readonly residentBytes: number;
}

/** The bytes of a base64 string (atob exists in Node >= 16, browsers and workers). */
export const decodeBase64 = (text: string): Uint8Array<ArrayBuffer> => {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
};

const PAGE = 65536;
const RESIDENT = 16; // byte offset of the ring of resident arrays; regions start 16-byte aligned
const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;
/** Arrays smaller than this are copied in each time rather than kept in the ring (cheap, and many). */
const MIN_KEPT = 256;
/** Products too tall for the memory go in blocks of rows, if blocks of at least this many rows fit. */
const MIN_BLOCK_ROWS = 64;
/**
 * Tall products go in blocks of rows of A and C of about this many bytes even when they would fit
 * whole: each block is copied in and computed while still in the cache, instead of the whole of A
 * making a round trip through main memory (evaluating the 10,000 test images: ~15% faster).
 */
const BLOCK_BYTES = 2 << 20;
/**
 * Room for the lists of a layer's input by pairs of columns (assembly: columnLists), made by its
 * forward product and read again by its weight gradient: 8 bytes per element of the input (a
 * 64 x 784 batch at worst, every pixel nonzero, takes 401,408), and its counts.
 */
const LISTS_BYTES = 512 << 10;

/** Wrap an instance's exports as kernels over Float32Arrays. */
export const bindKernels = (wasm: KernelExports): SimdKernels => {
  let heap = new Float32Array(wasm.memory.buffer);
  let heap8 = new Uint8Array(wasm.memory.buffer);

  /**
   * Make the memory at least `bytes` long, or return false if it cannot grow that far (a 32-bit
   * memory holds at most 4 GB; browsers may allow less). Growing detaches the old buffer, so the
   * view is refreshed.
   */
  const reserve = (bytes: number): boolean => {
    // The common case, without asking the memory for its buffer (an engine call): the view is
    // current (a detached one has length 0) and long enough.
    if (bytes <= heap.byteLength) return true;
    const have = wasm.memory.buffer.byteLength;
    if (bytes > have) {
      try {
        wasm.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch {
        return false;
      }
    }
    if (heap.buffer !== wasm.memory.buffer) {
      heap = new Float32Array(wasm.memory.buffer);
      heap8 = new Uint8Array(wasm.memory.buffer);
    }
    return true;
  };

  // Stable arrays kept in a ring at [RESIDENT, RESIDENT + residentBytes), by array identity: right
  // operands marked stable, and results whose values are known to stay as they are (the weight
  // gradients of matmulTN, the new parameters of sgdStep), so that the next kernel to read them
  // copies nothing in. Room is taken in order around the ring, and an entry is dropped when new room
  // is taken over it: the newest entries (this step's weights and gradients) stay, and the ring's
  // memory stays warm in the cache. A WeakMap keeps no array alive. Scratch space for the operands
  // that are copied in starts at a fixed place after the ring, so it stays warm too.
  // pending: the array whose values are only here (its copy out deferred), if any.
  interface Room { readonly offset: number; readonly end: number; valid: boolean; pending: Float32Array | null }
  const resident = new WeakMap<Float32Array, Room>();
  // Every room taken and not yet covered, in the order taken (from `oldest` on): the rooms left
  // from the last time round the ring (at and past ringAt, ascending), then this time round's
  // (before ringAt, ascending). So new room only ever covers the oldest.
  let rooms: Room[] = [];
  let oldest = 0;
  /**
   * The ring takes a quarter of the memory it starts with (4 MB); an array of at most a quarter of
   * that stays (1 MB: the 784 x 128 weight is 0.4 MB). A step's new weights and gradients take ~0.9 MB,
   * so they are all still there for the next step, and the ring is small enough to stay in the
   * cache: measured faster than an 8 MB ring by ~20 us a step (A/B in one process), the same as 2 MB.
   */
  const residentBytes = Math.floor(wasm.memory.buffer.byteLength / 64) * 16;
  let ringAt = RESIDENT;
  // The column lists of the last kept left operand of a forward product (a batch), after the ring.
  const listsAt = align(RESIDENT + residentBytes);
  const scratch = listsAt + LISTS_BYTES;
  /** Which operand the lists describe: valid while that array keeps the same room of the ring. */
  let lists: { readonly a: Float32Array; readonly room: Room; readonly m: number; readonly k: number; readonly rowBytes: number } | null = null;

  /** The byte offset of `array` (size floats) in the memory, if it is there. */
  const lookup = (array: Float32Array, size: number): number | null => {
    const hit = resident.get(array);
    return hit !== undefined && hit.valid && array.length === size ? hit.offset : null;
  };

  /**
   * Room for `size` floats in the ring, or null if they cannot stay. It may drop the oldest entries,
   * so look operands up only after taking it.
   */
  const residentSlot = (size: number): Room | null => {
    const bytes = align(4 * size);
    if (size < MIN_KEPT || bytes > residentBytes / 4 || !reserve(scratch)) return null; // two rooms taken in a row never overlap
    if (ringAt + bytes > RESIDENT + residentBytes) {
      // Round the ring: the rooms left past this point are the oldest, and go first.
      while (oldest < rooms.length && rooms[oldest]!.offset >= ringAt) evict(rooms[oldest++]!);
      ringAt = RESIDENT;
    }
    const room: Room = { offset: ringAt, end: ringAt + bytes, valid: true, pending: null };
    ringAt = room.end;
    // The rooms of the last time round that this one covers (those before it are this time round's).
    for (let r = rooms[oldest]; r !== undefined && r.offset >= room.offset && r.offset < room.end; r = rooms[++oldest]) evict(r);
    if (oldest > 64 && oldest * 2 > rooms.length) {
      rooms = rooms.slice(oldest);
      oldest = 0;
    }
    rooms.push(room);
    return room;
  };

  /** A room is about to be written over: an array whose values are only there gets them first. */
  const evict = (room: Room): void => {
    if (room.pending !== null) settle(room.pending);
    room.valid = false;
  };

  /** Forget the resident copy of `array`, whose values are changing (or dead: a deferred copy is dropped). */
  const forget = (array: Float32Array): void => {
    const room = resident.get(array);
    if (room === undefined) return;
    if (room.pending === array) discard(array);
    room.valid = false;
    resident.delete(array);
  };

  /** Record that `array` (never to be written again) has its values in `room` (null: nowhere, any more). */
  const keep = (array: Float32Array, room: Room | null): void => {
    forget(array);
    if (room !== null) resident.set(array, room);
  };

  /**
   * `array`'s memory is about to be written: drop the deferred copies of any other array over the
   * same memory (an earlier batch in a reused buffer), which would land on the new values later.
   */
  const dropCopiesInto = (array: Float32Array): void => {
    for (let i = oldest; i < rooms.length; i++) {
      const other = rooms[i]!.pending;
      if (other !== null && other !== array && other.buffer === array.buffer && other.byteOffset < array.byteOffset + array.byteLength && array.byteOffset < other.byteOffset + other.byteLength) forget(other);
    }
  };

  /** Keep `array` in `room` as its only copy: its values are copied out when it is settled, or before the room is reused. */
  const leave = (array: Float32Array, room: Room): void => {
    keep(array, room);
    room.pending = array;
    defer(array, holder);
  };
  const holder: Holder = {
    copyOut: (array) => {
      const room = resident.get(array as Float32Array)!;
      room.pending = null;
      array.set(heap.subarray(room.offset >> 2, (room.offset >> 2) + array.length));
    },
    drop: (array) => {
      const room = resident.get(array as Float32Array);
      if (room !== undefined && room.pending === array) room.pending = null;
    },
  };

  /** Copy the first `size` floats of `array` in at byte offset `at`, its values settled first. */
  const copyIn = (array: Float32Array, size: number, at: number): void => {
    settle(array);
    heap.set(array.length === size ? array : array.subarray(0, size), at >> 2);
  };

  /** The byte offset of b (size floats) in the memory, copying it in if it is not there; null if it cannot stay. */
  const residentOffset = (b: Float32Array, size: number): number | null => {
    const hit = lookup(b, size);
    if (hit !== null) return hit;
    const room = residentSlot(size);
    if (room === null) return null;
    heap.set(b, room.offset >> 2);
    keep(b, room);
    return room.offset;
  };

  /**
   * C = op(A) . op(B) for `kind` (NN, NT or TN), written into c at `at`. A holds m*k floats and B
   * k*n in every case. The memory is laid out as [ring of resident arrays | list of k nonzeros | A | B |
   * C | B^T for NT | bias]; A and B (unless resident) are copied in, and C is copied out.
   * Rows of A (NN, NT) go in blocks of about BLOCK_BYTES; rows that do not fit in the memory as it
   * is go in blocks of at least MIN_BLOCK_ROWS rows (when that many fit; else the memory grows as
   * needed) rather than growing it:
   * growing detaches the old buffer, and in V8 one detached buffer anywhere makes every typed-array
   * loop of the process slower from then on. Returns false if the product cannot fit even so.
   */
  const run = (kind: "NN" | "NT" | "TN", a: Float32Array, b: Float32Array, m: number, k: number, n: number, stableB: boolean, c: Float32Array, at: number, bias: Float32Array | null = null, relu = false, tensorResult = false): boolean => {
    // A weight gradient (TN) is computed straight into the resident area, where the optimizer's
    // step will find it. Its room is taken first: taking it may drop the resident operands.
    const keptC = kind === "TN" && at === 0 && c.length === m * n ? residentSlot(m * n) : null;
    const kept = stableB && b.length === k * n ? residentOffset(b, k * n) : null;
    // A left operand kept resident (a batch's pixels) is read where it is; looked up last, as taking room may drop it.
    const keptA = lookup(a, m * k);
    const list = scratch;
    const pa = align(list + 16 * k);
    const fixed = 4 * (kept === null ? k * n : 0) + (kind === "NT" ? 4 * k * n : 0) + (bias === null ? 0 : 4 * n) + 64; // B, B^T, bias, alignment
    const perRow = 4 * (k + n);
    const capacity = heap.byteLength || wasm.memory.buffer.byteLength;
    if (kind !== "TN" && m > 2 && (pa + fixed + m * perRow > capacity || m * perRow > BLOCK_BYTES)) {
      const pairs = (bytes: number) => Math.floor(bytes / perRow / 2) * 2; // whole pairs of rows
      const rows = Math.min(pairs(capacity - pa - fixed), Math.max(MIN_BLOCK_ROWS, pairs(BLOCK_BYTES)));
      if (rows >= MIN_BLOCK_ROWS && rows < m) {
        settle(a); // its blocks are views, read from the array itself
        for (let i = 0; i < m; i += rows) {
          const r = Math.min(rows, m - i);
          if (!run(kind, a.subarray(i * k, (i + r) * k), b, r, k, n, stableB, c, at + i * n, bias, relu)) return false;
        }
        return true;
      }
    }
    const pb = align(pa + 4 * m * k);
    const afterB = kept === null ? align(pb + 4 * k * n) : pb; // B is copied to pb unless resident
    const pc = keptC?.offset ?? afterB;
    const bt = keptC === null ? align(pc + 4 * m * n) : afterB;
    const pbias = align(bt + (kind === "NT" ? 4 * k * n : 0)); // the bias, when there is one
    // 16 bytes to spare: the kernels' last 1 to 3 columns read up to 12 bytes past the end of B.
    if (!reserve(pbias + (bias === null ? 0 : 4 * n) + 16)) return false;
    if (keptA === null) copyIn(a, m * k, pa);
    if (kept === null) copyIn(b, k * n, pb);
    const pA = keptA ?? pa;
    const pB = kept ?? pb;
    if (kind === "NN" && keptA !== null && byColumns(m, k, n)) {
      // A kept batch (a layer's input): its lists by pairs of columns serve this product and its
      // weight gradient next. Same bits as matmulNN.
      if (!haveLists(a, m, k, n)) {
        wasm.columnLists!(pA, listsAt, listsAt + 8 * m * k, m, k, 4 * n);
        lists = { a, room: resident.get(a)!, m, k, rowBytes: 4 * n };
      }
      wasm.matmulNNLists!(listsAt, listsAt + 8 * m * k, pB, pc, m, k, n);
    } else if (kind === "NN") wasm.matmulNN(pA, pB, pc, list, m, k, n);
    else if (kind === "TN" && keptA !== null && haveLists(a, k, m, n)) wasm.matmulTNLists!(listsAt, listsAt + 8 * k * m, pB, pc, m, n);
    else if (kind === "TN") wasm.matmulTN(pA, pB, pc, list, m, k, n);
    else wasm.matmulNT(pA, pB, pc, list, bt, m, k, n);
    if (bias !== null) {
      heap.set(bias, pbias >> 2);
      wasm.addBias!(pc, pbias, m, n, relu ? 1 : 0);
    }
    if (keptC !== null && tensorResult) leave(c, keptC);
    else {
      c.set(heap.subarray(pc >> 2, (pc >> 2) + m * n), at);
      if (keptC !== null) keep(c, keptC);
    }
    return true;
  };

  /**
   * Whether a product of A [m, k] (kept in the ring) goes by pairs of A's columns: the module has
   * those kernels, k is even, and the lists fit their room. (For a batch of images, adjacent pixels
   * are mostly ink together, so the pairs waste less than pairs of rows: 1.17 entries per nonzero
   * against 1.53 on MNIST, and the weight gradient reuses the lists.)
   */
  const byColumns = (m: number, k: number, n: number): boolean =>
    wasm.matmulNNLists !== undefined && k % 2 === 0 && m >= 2 && n > 0 && 8 * m * k + 2 * k <= LISTS_BYTES;

  /** True if the lists in their room are a's (A [m, k], in the same room of the ring since), for rows 4n bytes long. */
  const haveLists = (a: Float32Array, m: number, k: number, n: number): boolean =>
    lists !== null && lists.a === a && lists.room === resident.get(a) && lists.room.valid && lists.m === m && lists.k === k && lists.rowBytes === 4 * n;

  /** C = op(A) . op(B) into a new array; a product too large for the memory is left to the reference loops. */
  const product = (kind: "NN" | "NT" | "TN", a: Float32Array, b: Float32Array, m: number, k: number, n: number, stableB: boolean, tensorResult: boolean): Float32Array => {
    const c = float32Uninitialized(m * n);
    if (run(kind, a, b, m, k, n, stableB, c, 0, null, false, tensorResult)) return c;
    settle(a);
    settle(b);
    return reference[`matmul${kind}`](a, b, m, k, n) as Float32Array;
  };

  /** The plain loop, for what the module cannot do: on settled inputs, into an array no copy is owed. */
  const sgdStepInJs = (p: Float32Array, g: Float32Array, out: Float32Array, lr: number, decay: number): void => {
    settle(p);
    settle(g);
    forget(out); // out's values are changing (and a deferred copy into it would undo that)
    reference.sgdStepReference(p, g, out, lr, decay);
  };

  /**
   * Gradient descent on p with g, in float32 as the reference loop (../update.ts), into out. p and g
   * are read where they are resident (the weight from the forward pass, the gradient from
   * matmulTN); the new values are made in the resident area and kept there for out, so the next
   * forward pass finds them. out may be p, or share p's memory (a donated parameter's buffer): the
   * old values are then gone, and so is p's resident copy. tensorResult: out's copy out is deferred.
   */
  const sgdStep = (p: Float32Array, g: Float32Array, out: Float32Array, lr: number, decay: number, tensorResult = false): void => {
    const n = p.length;
    if (wasm.sgdStep === undefined || g.length !== n || out.length !== n) return sgdStepInJs(p, g, out, lr, decay);
    const slot = residentSlot(n);
    let free = scratch;
    const pp = lookup(p, n);
    const pg = lookup(g, n);
    const copyP = pp ?? free;
    if (pp === null) free = align(free + 4 * n);
    const copyG = pg ?? free;
    if (pg === null) free = align(free + 4 * n);
    const pout = slot?.offset ?? free;
    if (!reserve(slot === null ? free + 4 * n : free)) return sgdStepInJs(p, g, out, lr, decay);
    if (pp === null) copyIn(p, n, copyP);
    if (pg === null) copyIn(g, n, copyG);
    wasm.sgdStep(copyP, copyG, pout, n, lr, decay);
    dropCopiesInto(out);
    if (slot === null || !tensorResult) out.set(heap.subarray(pout >> 2, (pout >> 2) + n));
    // p or g sharing out's memory are dead now: their copies (and any deferred copy out) are dropped.
    if (p.buffer === out.buffer) forget(p);
    if (g.buffer === out.buffer) forget(g);
    if (slot !== null && tensorResult) leave(out, slot);
    else keep(out, slot);
  };

  /** linearNN: the product with the bias and relu applied in the memory, before the copy out. */
  const linearNN = (a: Float32Array, w: Float32Array, bias: Float32Array, m: number, k: number, n: number, relu: boolean): Float32Array => {
    const c = float32Uninitialized(m * n);
    if (wasm.addBias !== undefined && run("NN", a, w, m, k, n, true, c, 0, bias, relu)) return c;
    const out = run("NN", a, w, m, k, n, true, c, 0) ? c : (settle(a), settle(w), reference.matmulNN(a, w, m, k, n) as Float32Array);
    return addBiasInPlace(out, bias, relu) as Float32Array;
  };

  /** gatherUnitFloats: rows of bytes copied into the memory, scaled there, copied out; in blocks of rows that fit. */
  const gatherUnitFloats = (bytes: Uint8Array, rows: ArrayLike<number>, length: number, out: Float32Array, stable = false): Float32Array => {
    const src = scratch;
    const perRow = align(length) * 5; // the bytes, then their floats
    const fit = Math.floor((wasm.memory.buffer.byteLength - src - 16) / perRow);
    if (wasm.unitFloats === undefined || length === 0 || fit < 1) {
      forget(out);
      return gatherUnitFloatsReference(bytes, rows, length, out);
    }
    // The floats go straight into a room of the ring when out is to stay (in one block, whole).
    const room = stable && rows.length <= fit && out.length === rows.length * length ? residentSlot(out.length) : null;
    dropCopiesInto(out);
    for (let r0 = 0; r0 < rows.length; r0 += fit) {
      const count = Math.min(fit, rows.length - r0);
      const n = count * length;
      const dst = room?.offset ?? align(src + n);
      for (let r = 0; r < count; r++) {
        const from = rows[r0 + r]! * length;
        heap8.set(bytes.subarray(from, from + length), src + r * length);
      }
      wasm.unitFloats(src, dst, n);
      if (room === null) out.set(heap.subarray(dst >> 2, (dst >> 2) + n), r0 * length);
    }
    if (room !== null) leave(out, room);
    else keep(out, null);
    return out;
  };

  const maskPositive = (g: Float32Array, y: Float32Array, n: number, wantSums: boolean) => {
    const size = g.length;
    const pg = scratch;
    const py = align(pg + 4 * size);
    const pout = align(py + 4 * size);
    const psums = align(pout + 4 * size);
    if (wasm.maskColumnSums === undefined || n === 0 || size % n !== 0 || y.length !== size || !reserve(psums + 4 * n)) return null;
    settle(g);
    settle(y);
    heap.set(g, pg >> 2);
    heap.set(y, py >> 2);
    wasm.maskColumnSums(pg, py, pout, psums, size / n, n, wantSums ? 1 : 0);
    const masked = float32Uninitialized(size);
    masked.set(heap.subarray(pout >> 2, (pout >> 2) + size));
    return { masked, sums: wantSums ? heap.slice(psums >> 2, (psums >> 2) + n) : null };
  };

  return {
    residentBytes,
    sgdStep,
    maskPositive,
    linearNN,
    gatherUnitFloats,
    matmulNN: (a, b, m, k, n, stableB = false, tensorResult = false) => product("NN", a, b, m, k, n, stableB, tensorResult),
    matmulNT: (a, b, m, k, n, stableB = false, tensorResult = false) => product("NT", a, b, m, k, n, stableB, tensorResult),
    matmulTN: (a, b, m, k, n, stableB = false, tensorResult = false) => product("TN", a, b, m, k, n, stableB, tensorResult),
  };
};

/** The loop gatherUnitFloats stands for: x / 255 as x * (1 / 255), rounded once to float32. */
export const gatherUnitFloatsReference = (bytes: Uint8Array, rows: ArrayLike<number>, length: number, out: Float32Array): Float32Array => {
  const inv = 1 / 255;
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r]! * length;
    const dst = r * length;
    for (let j = 0; j < length; j++) out[dst + j] = bytes[src + j]! * inv;
  }
  return out;
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

/**
 * The SIMD kernels of this process, or null if they cannot run here (or, on a browser page, not
 * yet: see simdReady). Callers read it at each call, so they see the kernels once they are in place.
 */
export let simd: SimdKernels | null = loadSimdKernels();

/** loadSimdKernels, compiling asynchronously (as a page's main thread must where synchronous compiles are limited to 4 KB). */
export const loadSimdKernelsAsync = async (bytes: Uint8Array<ArrayBuffer> = decodeBase64(kernelsWasm)): Promise<SimdKernels | null> => {
  if (typeof WebAssembly !== "object") return null;
  try {
    const { instance } = await WebAssembly.instantiate(bytes, {});
    return bindKernels(instance.exports as unknown as KernelExports);
  } catch {
    return null; // this engine lacks SIMD
  }
};

/**
 * The kernels once they are in place: at once where the module compiled synchronously (Node, a Web
 * Worker, current browsers' pages). On a page whose browser limits synchronous compiles to 4 KB, it
 * compiles asynchronously, and until then the plain loops run.
 */
export const simdReady: Promise<SimdKernels | null> = simd !== null ? Promise.resolve(simd) : loadSimdKernelsAsync().then((kernels) => (simd = kernels));
