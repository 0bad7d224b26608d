// A backend's linear memory: one growable ArrayBuffer (for the WebAssembly backend, the module's
// memory) from which compiled programs take their regions. Regions are byte offsets, so they stay
// valid when the memory grows; typed-array views over the old buffer do not, and are rebuilt when
// `generation` changes.

/** Regions start on 16-byte boundaries (128-bit SIMD loads). */
export const ALIGN = 16;
export const align = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;
const GUARD = 64;

export interface Memory {
  /** The current buffer (replaced when the memory grows). */
  readonly buffer: ArrayBuffer;
  /** Increases every time `buffer` is replaced. */
  readonly generation: number;
  /** A region of at least `bytes` bytes, 16-byte aligned (the memory grows if it must). */
  alloc(bytes: number): number;
  /** Give a region back. */
  free(offset: number): void;
  /** Bytes in regions currently handed out (for specs and benchmarks). */
  readonly allocated: number;
}

/** First-fit allocation over [base, limit) of a buffer that `grow` can enlarge (to at least its argument, in bytes). */
export const linearMemory = (base: number, current: () => ArrayBuffer, grow: (bytes: number) => void): Memory => {
  // Free ranges, sorted by offset and never adjacent (coalesced); everything past `top` is free too.
  let free: { offset: number; bytes: number }[] = [];
  const sizes = new Map<number, number>();
  let top = align(base);
  let generation = 0;
  let buffer = current();
  let allocated = 0;
  const refresh = () => {
    const now = current();
    if (now !== buffer) {
      buffer = now;
      generation++;
    }
  };
  return {
    get buffer() {
      refresh();
      return buffer;
    },
    get generation() {
      refresh();
      return generation;
    },
    get allocated() {
      return allocated;
    },
    alloc(bytes) {
      const size = align(Math.max(bytes, 1));
      let offset = -1;
      const at = free.findIndex((r) => r.bytes >= size);
      if (at >= 0) {
        const r = free[at]!;
        offset = r.offset;
        if (r.bytes === size) free.splice(at, 1);
        else free[at] = { offset: r.offset + size, bytes: r.bytes - size };
      } else {
        offset = top;
        top += size;
        // Room past the last region: some kernels read (never use) a few bytes past a row's end.
        if (top + GUARD > current().byteLength) grow(top + GUARD);
        refresh();
      }
      sizes.set(offset, size);
      allocated += size;
      return offset;
    },
    free(offset) {
      const size = sizes.get(offset);
      if (size === undefined) throw new Error(`memory: no region at offset ${offset} to free`);
      sizes.delete(offset);
      allocated -= size;
      free.push({ offset, bytes: size });
      free.sort((a, b) => a.offset - b.offset);
      const merged: { offset: number; bytes: number }[] = [];
      for (const r of free) {
        const last = merged[merged.length - 1];
        if (last !== undefined && last.offset + last.bytes === r.offset) last.bytes += r.bytes;
        else merged.push({ ...r });
      }
      // A free range that ends at the top goes back to the untouched space above.
      const last = merged[merged.length - 1];
      if (last !== undefined && last.offset + last.bytes === top) {
        top = last.offset;
        merged.pop();
      }
      free = merged;
    },
  };
};

/** A memory over a plain ArrayBuffer, grown by copying into a larger one (the reference backend's). */
export const arrayBufferMemory = (initialBytes = 1 << 20): Memory => {
  let buffer = new ArrayBuffer(initialBytes);
  return linearMemory(0, () => buffer, (bytes) => {
    const bigger = new ArrayBuffer(Math.max(bytes, buffer.byteLength * 2));
    new Uint8Array(bigger).set(new Uint8Array(buffer));
    buffer = bigger;
  });
};
