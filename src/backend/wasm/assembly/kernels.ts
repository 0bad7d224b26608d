// AssemblyScript, compiled to WebAssembly by ../build.ts (not TypeScript: tsconfig excludes this folder).
// Every pointer is a byte offset in the module's memory, chosen by the TypeScript side (../index.ts).
//
// Float32 matrix products over row-major matrices in linear memory, with 128-bit SIMD (f32x4).
// Every pointer is a byte offset chosen by the TypeScript side (../index.ts), which copies the
// operands in, calls one of the exported functions, and copies the result out.
//
// The one inner loop: row i of C is sum_p A[i,p] * (row p of B), done for two rows i, i + 1 at
// once so that each f32x4 load of B feeds two multiply-adds. The p where A[i,p] or A[i+1,p] is
// nonzero are first listed, four p at a time in registers, so the zeros (~80% of MNIST pixels,
// about half of ReLU outputs and of their gradients) cost no arithmetic, and four of them in a row
// one compare. The sum then walks the list once per 16
// columns of C, holding those columns of both rows in eight f32x4 registers. (One row alone, as in
// a batch of one, has a loop of its own that holds 32 columns of it.)
// A layer's input (a batch of images) goes by pairs of its columns instead (columnLists,
// matmulNNLists, matmulTNLists): adjacent pixels are mostly ink together, so those pairs waste less
// than pairs of images, and the forward product's lists serve the weight gradient too.
// NOTE: where B holds Infinity or NaN, a zero A[i,p] contributes 0 when skipped but NaN (0 * Inf)
// when its pair A[i+1,p] is not zero; only a diverged run has such weights.

/**
 * List the p where row i or row i + 1 of op(A) is nonzero, as 16-byte entries
 * (address of row p of B, A[i,p], A[i+1,p], unused). Element p of row i is at src + p * stride and
 * of row i + 1 at src + next + p * stride. Branch-free: every entry is written, and the cursor moves
 * on only past nonzeros (NaN counts as nonzero, so it propagates). Returns how many.
 */
function listNonzeros(src: usize, next: usize, stride: usize, count: i32, bBase: usize, rowBytes: usize, list: usize): i32 {
  let nnz: i32 = 0;
  let row = bBase;
  for (let p: i32 = 0; p < count; p++) {
    const v0 = load<f32>(src);
    const v1 = load<f32>(src + next);
    const entry = list + (<usize>nnz << 4);
    store<u32>(entry, <u32>row);
    store<f32>(entry, v0, 4);
    store<f32>(entry, v1, 8);
    nnz += i32(v0 != 0) | i32(v1 != 0);
    src += stride;
    row += rowBytes;
  }
  return nnz;
}

/**
 * The four entries of p, p + 1, p + 2, p + 3 for listNonzeros, given A[i,p..p+3] in x0 and
 * A[i+1,p..p+3] in x1 (row p of B at `row`, rows rowBytes apart): built in registers (a 4 x 4
 * transpose) and stored whole, the cursor moving on past the nonzero ones, as in listNonzeros
 * (NaN is nonzero, -0 is zero). Returns the cursor.
 */
@inline
function listFour(x0: v128, x1: v128, row: usize, rowBytes: usize, entry: usize): usize {
  const step = <i32>rowBytes;
  const rows = i32x4.add(i32x4.splat(<i32>row), i32x4(0, step, step * 2, step * 3));
  const zero = f32x4.splat(0);
  const lo = v128.shuffle<i32>(rows, x0, 0, 4, 1, 5); // row p, A[i,p], row p+1, A[i,p+1]
  const hi = v128.shuffle<i32>(rows, x0, 2, 6, 3, 7);
  const lo1 = v128.shuffle<i32>(x1, zero, 0, 4, 1, 5); // A[i+1,p], 0, A[i+1,p+1], 0
  const hi1 = v128.shuffle<i32>(x1, zero, 2, 6, 3, 7);
  const nonzero = i32x4.bitmask(v128.or(f32x4.ne(x0, zero), f32x4.ne(x1, zero)));
  v128.store(entry, v128.shuffle<i64>(lo, lo1, 0, 2));
  entry += <usize>(nonzero & 1) << 4;
  v128.store(entry, v128.shuffle<i64>(lo, lo1, 1, 3));
  entry += <usize>((nonzero >> 1) & 1) << 4;
  v128.store(entry, v128.shuffle<i64>(hi, hi1, 0, 2));
  entry += <usize>((nonzero >> 2) & 1) << 4;
  v128.store(entry, v128.shuffle<i64>(hi, hi1, 1, 3));
  return entry + (<usize>((nonzero >> 3) & 1) << 4);
}

/**
 * listNonzeros, four p at a time: a group where both rows are all zero (bits: -0 goes the slow way,
 * and is then skipped) costs one compare (MNIST's borders are such groups), and any other group is
 * listed by listFour, in registers. The rows are either contiguous (stride 4: A's rows) or adjacent
 * columns of A (`columns`, next 4: matmulTN, whose A is a layer's input, for the pixels ~80% zeros),
 * where A[i,p] and A[i+1,p] are neighbours, one 8-byte load, so four p take four loads and two shuffles.
 */
function listNonzerosByFours(src: usize, next: usize, stride: usize, columns: bool, count: i32, bBase: usize, rowBytes: usize, list: usize): i32 {
  let entry = list;
  let p: i32 = 0;
  for (; p + 4 <= count; p += 4) {
    let x0: v128, x1: v128;
    if (columns) {
      const v = v128.load64_lane(src + stride, v128.load64_zero(src), 1); // A[i,p] A[i+1,p] A[i,p+1] A[i+1,p+1]
      const w = v128.load64_lane(src + stride * 3, v128.load64_zero(src + stride * 2), 1);
      x0 = v128.shuffle<i32>(v, w, 0, 2, 4, 6);
      x1 = v128.shuffle<i32>(v, w, 1, 3, 5, 7);
    } else {
      x0 = v128.load(src);
      x1 = v128.load(src + next);
    }
    if (v128.any_true(v128.or(x0, x1))) entry = listFour(x0, x1, bBase + <usize>p * rowBytes, rowBytes, entry);
    src += stride << 2;
  }
  const nnz = <i32>((entry - list) >> 4);
  return nnz + listNonzeros(src, next, stride, count - p, bBase + <usize>p * rowBytes, rowBytes, entry);
}

/**
 * Rows c0[0..n) and c1[0..n) of C: the sums over the listed entries of A[i,p] * (row p of B) and
 * A[i+1,p] * (row p of B), where an entry's row of B is at base + its address. Each load of B feeds
 * both rows; 16 columns of both rows are held in eight f32x4 registers (V8 has 15 for SIMD on x64:
 * more accumulators spill).
 */
function sumRows(list: usize, nnz: i32, base: usize, c0: usize, c1: usize, n: i32): void {
  const end = list + (<usize>nnz << 4);
  let j: i32 = 0;
  for (; j + 16 <= n; j += 16) {
    const col = <usize>j << 2;
    const from = base + col;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    for (let e = list; e < end; e += 16) {
      const r = <usize>load<u32>(e) + from;
      const s = v128.load32_splat(e, 4);
      const t = v128.load32_splat(e, 8);
      let x = v128.load(r);
      a0 = f32x4.add(a0, f32x4.mul(s, x));
      b0 = f32x4.add(b0, f32x4.mul(t, x));
      x = v128.load(r, 16);
      a1 = f32x4.add(a1, f32x4.mul(s, x));
      b1 = f32x4.add(b1, f32x4.mul(t, x));
      x = v128.load(r, 32);
      a2 = f32x4.add(a2, f32x4.mul(s, x));
      b2 = f32x4.add(b2, f32x4.mul(t, x));
      x = v128.load(r, 48);
      a3 = f32x4.add(a3, f32x4.mul(s, x));
      b3 = f32x4.add(b3, f32x4.mul(t, x));
    }
    v128.store(c0 + col, a0);
    v128.store(c0 + col, a1, 16);
    v128.store(c0 + col, a2, 32);
    v128.store(c0 + col, a3, 48);
    v128.store(c1 + col, b0);
    v128.store(c1 + col, b1, 16);
    v128.store(c1 + col, b2, 32);
    v128.store(c1 + col, b3, 48);
  }
  // The last 0 to 15 columns, 4 at a time; the last 1 to 3 also go 4 wide (see storeFirst).
  for (; j < n; j += 4) {
    const col = <usize>j << 2;
    let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
    for (let e = list; e < end; e += 16) {
      const x = v128.load(<usize>load<u32>(e) + base + col);
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(e, 4), x));
      b0 = f32x4.add(b0, f32x4.mul(v128.load32_splat(e, 8), x));
    }
    storeFirst(c0 + col, a0, n - j);
    storeFirst(c1 + col, b0, n - j);
  }
}

/**
 * Store the first `count` lanes of v at `at` (all four if count >= 4). For the last 1 to 3 columns
 * of C, computed 4 wide from loads that read up to 12 bytes past the end of a row of B (the caller
 * leaves that much room after B): the lanes past the row's end are not stored. A lane's float32
 * multiply-adds are the scalar loop's, so the stored columns have the same bits.
 */
@inline
function storeFirst(at: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(at, v);
    return;
  }
  v128.store32_lane(at, v, 0);
  if (count > 1) v128.store32_lane(at, v, 1, 4);
  if (count > 2) v128.store32_lane(at, v, 2, 8);
}

/**
 * The single-row versions, for a lone last row (a batch of one: a prediction): entries of 8 bytes
 * (address of row p of B, A[i,p]), and 32 columns of C in eight f32x4 registers, so no work is
 * spent on a twin row.
 */
@inline
function listRow(src: usize, stride: usize, count: i32, bBase: usize, rowBytes: usize, list: usize): i32 {
  let nnz: i32 = 0;
  let row = bBase;
  for (let p: i32 = 0; p < count; p++) {
    if (stride == 4 && (p & 3) == 0 && p + 4 <= count && !v128.any_true(v128.load(src))) {
      src += 16; // four zeros (bits: -0 goes the slow way, and is then skipped)
      row += rowBytes << 2;
      p += 3;
      continue;
    }
    const v = load<f32>(src);
    const entry = list + (<usize>nnz << 3);
    store<u32>(entry, <u32>row);
    store<f32>(entry, v, 4);
    nnz += i32(v != 0);
    src += stride;
    row += rowBytes;
  }
  return nnz;
}

function sumRow(list: usize, nnz: i32, c0: usize, n: i32): void {
  const end = list + (<usize>nnz << 3);
  let j: i32 = 0;
  for (; j + 32 <= n; j += 32) {
    const col = <usize>j << 2;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    for (let e = list; e < end; e += 8) {
      const r = <usize>load<u32>(e) + col;
      const s = v128.load32_splat(e, 4);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(r)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(r, 16)));
      a2 = f32x4.add(a2, f32x4.mul(s, v128.load(r, 32)));
      a3 = f32x4.add(a3, f32x4.mul(s, v128.load(r, 48)));
      a4 = f32x4.add(a4, f32x4.mul(s, v128.load(r, 64)));
      a5 = f32x4.add(a5, f32x4.mul(s, v128.load(r, 80)));
      a6 = f32x4.add(a6, f32x4.mul(s, v128.load(r, 96)));
      a7 = f32x4.add(a7, f32x4.mul(s, v128.load(r, 112)));
    }
    v128.store(c0 + col, a0);
    v128.store(c0 + col, a1, 16);
    v128.store(c0 + col, a2, 32);
    v128.store(c0 + col, a3, 48);
    v128.store(c0 + col, a4, 64);
    v128.store(c0 + col, a5, 80);
    v128.store(c0 + col, a6, 96);
    v128.store(c0 + col, a7, 112);
  }
  for (; j < n; j += 4) {
    const col = <usize>j << 2;
    let a0 = f32x4.splat(0);
    for (let e = list; e < end; e += 8) a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(e, 4), v128.load(<usize>load<u32>(e) + col)));
    storeFirst(c0 + col, a0, n - j);
  }
}

/**
 * C[m,n] = op(A) . B[k,n], two rows of C at a time, where element p of row i of op(A) is at
 * a + i * rowStep + p * stride. With m odd, the last row is computed alone (listRow, sumRow).
 * `list` is scratch for k entries of 16 bytes.
 */
function product(a: usize, rowStep: usize, stride: usize, b: usize, c: usize, list: usize, m: i32, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  for (let i: i32 = 0; i < m; i += 2) {
    const src = a + <usize>i * rowStep;
    const c0 = c + <usize>i * rowBytes;
    if (i + 1 === m) {
      sumRow(list, listRow(src, stride, k, b, rowBytes, list), c0, n);
      break;
    }
    // The callers read A's rows (stride 4) or its columns (rowStep 4): there is no other case.
    const nnz = listNonzerosByFours(src, rowStep, stride, stride != 4, k, b, rowBytes, list);
    sumRows(list, nnz, 0, c0, c0 + rowBytes, n);
  }
}

/** C[m,n] = A[m,k] . B[k,n]. */
export function matmulNN(a: usize, b: usize, c: usize, list: usize, m: i32, k: i32, n: i32): void {
  product(a, <usize>k << 2, 4, b, c, list, m, k, n);
}

/** C[m,n] = A^T . B with A stored [k,m] and B [k,n]: row i of A^T is column i of A. */
export function matmulTN(a: usize, b: usize, c: usize, list: usize, m: i32, k: i32, n: i32): void {
  product(a, 4, <usize>m << 2, b, c, list, m, k, n);
}

/**
 * C[m,n] = A[m,k] . B[k,n] from columnLists of A: C starts at +0 and, pair by pair, each listed row
 * p of C gets A[p,q] * (row q of B), then A[p,q+1] * (row q+1 of B), those rows of B held in
 * registers 16 columns at a time. Each element of C is summed in matmulNN's order (q ascending; a
 * skipped zero adds nothing to a sum that is never -0), so the bits are matmulNN's.
 */
export function matmulNNLists(lists: usize, counts: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const listBytes = <usize>m << 4;
  memory.fill(c, 0, <usize>m * rowBytes);
  for (let q: i32 = 0; q < k; q += 2, lists += listBytes) {
    const end = lists + (<usize>load<i32>(counts + (<usize>q << 1)) << 4);
    const w = b + <usize>q * rowBytes;
    let j: i32 = 0;
    for (; j + 16 <= n; j += 16) {
      const col = <usize>j << 2;
      const u0 = v128.load(w + col), u1 = v128.load(w + col, 16), u2 = v128.load(w + col, 32), u3 = v128.load(w + col, 48);
      const v0 = v128.load(w + rowBytes + col), v1 = v128.load(w + rowBytes + col, 16);
      const v2 = v128.load(w + rowBytes + col, 32), v3 = v128.load(w + rowBytes + col, 48);
      for (let e = lists; e < end; e += 16) {
        const r = c + <usize>load<u32>(e) + col;
        const s = v128.load32_splat(e, 4);
        const t = v128.load32_splat(e, 8);
        v128.store(r, f32x4.add(f32x4.add(v128.load(r), f32x4.mul(s, u0)), f32x4.mul(t, v0)));
        v128.store(r, f32x4.add(f32x4.add(v128.load(r, 16), f32x4.mul(s, u1)), f32x4.mul(t, v1)), 16);
        v128.store(r, f32x4.add(f32x4.add(v128.load(r, 32), f32x4.mul(s, u2)), f32x4.mul(t, v2)), 32);
        v128.store(r, f32x4.add(f32x4.add(v128.load(r, 48), f32x4.mul(s, u3)), f32x4.mul(t, v3)), 48);
      }
    }
    // The last 0 to 15 columns, 4 at a time, reading up to 12 bytes past a row of B or C (the
    // caller leaves room after both) and storing only the row's own lanes (storeFirst).
    for (; j < n; j += 4) {
      const col = <usize>j << 2;
      const u = v128.load(w + col);
      const v = v128.load(w + rowBytes + col);
      for (let e = lists; e < end; e += 16) {
        const r = c + <usize>load<u32>(e) + col;
        storeFirst(r, f32x4.add(f32x4.add(v128.load(r), f32x4.mul(v128.load32_splat(e, 4), u)), f32x4.mul(v128.load32_splat(e, 8), v)), n - j);
      }
    }
  }
}

/** C[m,n] = A^T . B with A stored [k,m] (m even), from columnLists of A: matmulTN's sums, same bits. */
export function matmulTNLists(lists: usize, counts: usize, b: usize, c: usize, m: i32, n: i32, rows: i32): void {
  const rowBytes = <usize>n << 2;
  const listBytes = <usize>rows << 4;
  for (let i: i32 = 0; i < m; i += 2, lists += listBytes) {
    const c0 = c + <usize>i * rowBytes;
    sumRows(lists, load<i32>(counts + (<usize>i << 1)), b, c0, c0 + rowBytes, n);
  }
}

/**
 * C[m,n] = A[m,k] . B^T with B stored [n,k]: B is first transposed into `bt` ([k,n], scratch), so
 * this is matmulNN and the zeros of A (the gradient of a ReLU layer) are skipped here too.
 */
export function matmulNT(a: usize, b: usize, c: usize, list: usize, bt: usize, m: i32, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const rowIn = <usize>k << 2;
  let j: i32 = 0;
  if ((k & 3) == 0) {
    // Four rows of B at a time, transposed four columns at a time in registers.
    for (; j + 4 <= n; j += 4) {
      const src = b + <usize>j * rowIn;
      const dst = bt + (<usize>j << 2);
      for (let p: i32 = 0; p < k; p += 4) {
        const at = <usize>p << 2;
        const r0 = v128.load(src + at), r1 = v128.load(src + rowIn + at), r2 = v128.load(src + rowIn * 2 + at), r3 = v128.load(src + rowIn * 3 + at);
        const lo01 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), hi01 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
        const lo23 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5), hi23 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
        const out = dst + <usize>p * rowBytes;
        v128.store(out, v128.shuffle<i64>(lo01, lo23, 0, 2));
        v128.store(out + rowBytes, v128.shuffle<i64>(lo01, lo23, 1, 3));
        v128.store(out + rowBytes * 2, v128.shuffle<i64>(hi01, hi23, 0, 2));
        v128.store(out + rowBytes * 3, v128.shuffle<i64>(hi01, hi23, 1, 3));
      }
    }
  }
  for (; j < n; j++) {
    let src = b + <usize>j * rowIn;
    let dst = bt + (<usize>j << 2);
    for (let p: i32 = 0; p < k; p++) {
      store<f32>(dst, load<f32>(src));
      src += 4;
      dst += rowBytes;
    }
  }
  matmulNN(a, bt, c, list, m, k, n);
}

/**
 * Plain gradient descent on n floats: out[i] = p[i] - lr * (g[i] + decay * p[i]) (out may be p),
 * every operation in float32 as ../../update.ts's reference loop defines it (lr and decay rounded
 * to float32 first); four floats at a time.
 */
export function sgdStep(p: usize, g: usize, out: usize, n: i32, lr: f32, decay: f32): void {
  const vlr = f32x4.splat(lr);
  const vdecay = f32x4.splat(decay);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const pv = v128.load(p + at);
    v128.store(out + at, f32x4.sub(pv, f32x4.mul(vlr, f32x4.add(v128.load(g + at), f32x4.mul(vdecay, pv)))));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const x = load<f32>(p + at);
    store<f32>(out + at, x - lr * (load<f32>(g + at) + decay * x));
  }
}

/**
 * In place on C [m, n] at c: add the bias (n floats at `bias`) to every row, then, if relu, clamp at
 * 0 as `x > 0 ? x : 0` does (NaN and -0 become +0). A float32 add is the same as the TypeScript
 * loop's double add rounded once to float32, so both give the same bits.
 */
export function addBias(c: usize, bias: usize, m: i32, n: i32, relu: i32): void {
  const rowBytes = <usize>n << 2;
  const zero = f32x4.splat(0);
  for (let i: i32 = 0; i < m; i++) {
    const row = c + <usize>i * rowBytes;
    let j: i32 = 0;
    for (; j + 4 <= n; j += 4) {
      const at = <usize>j << 2;
      let x = f32x4.add(v128.load(row + at), v128.load(bias + at));
      if (relu) x = v128.and(x, f32x4.gt(x, zero));
      v128.store(row + at, x);
    }
    for (; j < n; j++) {
      const at = <usize>j << 2;
      let x = load<f32>(row + at) + load<f32>(bias + at);
      if (relu) x = x > 0 ? x : 0;
      store<f32>(row + at, x);
    }
  }
}

/**
 * n bytes at src to floats x / 255 at dst (pixels to [0, 1]). The float32 division is correctly
 * rounded, the same bits as the TypeScript x * (1 / 255) (see src/data/batches.ts). 16 bytes at a time.
 */
export function unitFloats(src: usize, dst: usize, n: i32): void {
  const d = f32x4.splat(255);
  let i: i32 = 0;
  const zero = f32x4.splat(0);
  for (; i + 16 <= n; i += 16) {
    const b = v128.load(src + <usize>i);
    const out = dst + (<usize>i << 2);
    if (!v128.any_true(b)) {
      // 16 black pixels (most of an MNIST digit's border): zeros, without the divisions.
      v128.store(out, zero);
      v128.store(out, zero, 16);
      v128.store(out, zero, 32);
      v128.store(out, zero, 48);
      continue;
    }
    const lo = i16x8.extend_low_i8x16_u(b);
    const hi = i16x8.extend_high_i8x16_u(b);
    v128.store(out, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)), d));
    v128.store(out, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), d), 16);
    v128.store(out, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), d), 32);
    v128.store(out, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), d), 48);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<u8>(src + <usize>i) / 255);
}

/**
 * The relu layer's backward over g [m, n]: out = g where y > 0, else +0 (y is the relu's output;
 * NaN counts as not positive), and, if wantSums, the column sums of out into `sums` (n floats),
 * accumulated row by row from +0. Branch-free (a relu's mask is a coin flip for the branch
 * predictor). A float32 add is the TypeScript loop's double add rounded once: the same bits.
 */
export function maskColumnSums(g: usize, y: usize, out: usize, sums: usize, m: i32, n: i32, wantSums: i32): void {
  const rowBytes = <usize>n << 2;
  const zero = f32x4.splat(0);
  if (wantSums) memory.fill(sums, 0, rowBytes);
  for (let i: i32 = 0; i < m; i++) {
    const at = <usize>i * rowBytes;
    let j: i32 = 0;
    for (; j + 4 <= n; j += 4) {
      const col = <usize>j << 2;
      const v = v128.and(v128.load(g + at + col), f32x4.gt(v128.load(y + at + col), zero));
      v128.store(out + at + col, v);
      if (wantSums) v128.store(sums + col, f32x4.add(v128.load(sums + col), v));
    }
    for (; j < n; j++) {
      const col = <usize>j << 2;
      const v: f32 = load<f32>(y + at + col) > 0 ? load<f32>(g + at + col) : 0;
      store<f32>(out + at + col, v);
      if (wantSums) store<f32>(sums + col, load<f32>(sums + col) + v);
    }
  }
}

// ---- kernels that compiled programs fuse ------------------------------------------------------------

/**
 * The entry for the pair of bytes at src and src + next (values x / 255, as unitFloats computes them)
 * and the row of B at `row`; the cursor moves on past a nonzero pair.
 */
@inline
function listBytePair(src: usize, next: usize, row: usize, entry: usize): usize {
  const b0 = load<u8>(src);
  const b1 = load<u8>(src + next);
  store<u32>(entry, <u32>row);
  store<f32>(entry, <f32>b0 / 255, 4);
  store<f32>(entry, <f32>b1 / 255, 8);
  return entry + (<usize>((b0 | b1) != 0) << 4);
}

/**
 * The lists of a layer's input given as bytes A [m, k] (k even; pixels 0..255, listed as x / 255, the
 * float32 division unitFloats computes) by pairs of its columns, for its forward product
 * (matmulNNLists) and its weight gradient (matmulTNLists): for each pair q, q + 1, the rows p where
 * A[p,q] or A[p,q+1] is nonzero, as entries (p * rowBytes, A[p,q], A[p,q+1], unused), in a list of
 * room for m entries at lists + (q / 2) * 16m, with counts[q / 2] of them. Adjacent pixels are
 * mostly ink together: an MNIST batch's pair lists hold 1.17 entries per nonzero pixel.
 * Rows go four at a time and columns sixteen at a time: sixteen columns of four rows that are all
 * zero (much of an MNIST image) cost one compare.
 */
export function columnListsFromBytes(a: usize, lists: usize, counts: usize, m: i32, k: i32, rowBytes: usize): void {
  const stride = <usize>k;
  const listBytes = <usize>m << 4;
  memory.fill(counts, 0, <usize>(k >> 1) << 2);
  let p: i32 = 0;
  for (; p + 4 <= m; p += 4) {
    const r0 = a + <usize>p * stride;
    const row = <usize>p * rowBytes;
    let q: i32 = 0;
    for (; q + 16 <= k; q += 16) {
      const at = r0 + <usize>q;
      const any = v128.or(v128.or(v128.load(at), v128.load(at + stride)), v128.or(v128.load(at + stride * 2), v128.load(at + stride * 3)));
      // One bit per pair of columns nonzero in some of the four rows: only those are listed.
      let pairs = i16x8.bitmask(i16x8.ne(any, i16x8.splat(0)));
      while (pairs != 0) {
        const h = (q >> 1) + ctz(pairs);
        listFourRows(r0 + (<usize>h << 1), stride, row, rowBytes, lists + <usize>h * listBytes, counts + (<usize>h << 2));
        pairs &= pairs - 1;
      }
    }
    for (let h: i32 = q >> 1; h < k >> 1; h++) listFourRows(r0 + (<usize>h << 1), stride, row, rowBytes, lists + <usize>h * listBytes, counts + (<usize>h << 2));
  }
  for (; p < m; p++) {
    const r = a + <usize>p * stride;
    for (let h: i32 = 0; h < k >> 1; h++) {
      const count = counts + (<usize>h << 2);
      const start = lists + <usize>h * listBytes;
      store<i32>(count, <i32>((listBytePair(r + (<usize>h << 1), 1, <usize>p * rowBytes, start + (<usize>load<i32>(count) << 4)) - start) >> 4));
    }
  }
}

/** The entries of one pair of columns (bytes at src, src + 1) for four rows `stride` apart, appended to its list. */
@inline
function listFourRows(src: usize, stride: usize, row: usize, rowBytes: usize, start: usize, count: usize): void {
  let entry = start + (<usize>load<i32>(count) << 4);
  entry = listBytePair(src, 1, row, entry);
  entry = listBytePair(src + stride, 1, row + rowBytes, entry);
  entry = listBytePair(src + stride * 2, 1, row + rowBytes * 2, entry);
  entry = listBytePair(src + stride * 3, 1, row + rowBytes * 3, entry);
  store<i32>(count, <i32>((entry - start) >> 4));
}

/**
 * The weight gradient from columnLists of A (matmulTNLists: rows i, i + 1 of A^T . B, into `rows`,
 * 2n floats of scratch) with gradient descent applied at once, row pair by row pair: out = p - lr *
 * (rows + decay * p), as sgdStep. The gradient is never stored whole; out may be p (in place).
 */
export function matmulTNListsSgd(lists: usize, counts: usize, b: usize, rows: usize, p: usize, out: usize, m: i32, n: i32, lr: f32, decay: f32, batch: i32): void {
  const rowBytes = <usize>n << 2;
  const listBytes = <usize>batch << 4;
  for (let i: i32 = 0; i < m; i += 2, lists += listBytes) {
    const nnz = load<i32>(counts + (<usize>i << 1));
    const at = <usize>i * rowBytes;
    // A pixel pair that is zero in every image has a zero gradient: without decay its rows stay as they are.
    if (nnz == 0 && decay == 0) {
      if (out != p) memory.copy(out + at, p + at, rowBytes << 1);
      continue;
    }
    sumRows(lists, nnz, b, rows, rows + rowBytes, n);
    sgdStep(p + at, rows, out + at, n << 1, lr, decay);
  }
}

/**
 * C = A^T . B (A stored [k, m]) with gradient descent applied row pair by row pair, as
 * matmulTNListsSgd does with lists: out = p - lr * (C + decay * p), C never stored whole. `rows` is
 * scratch for two rows of C, `list` for k entries; out may be p.
 */
export function matmulTNSgd(a: usize, b: usize, rows: usize, list: usize, p: usize, out: usize, m: i32, k: i32, n: i32, lr: f32, decay: f32): void {
  const rowBytes = <usize>n << 2;
  const rowStep: usize = 4;
  const stride = <usize>m << 2;
  for (let i: i32 = 0; i < m; i += 2) {
    const src = a + <usize>i * rowStep;
    const at = <usize>i * rowBytes;
    if (i + 1 === m) {
      sumRow(list, listRow(src, stride, k, b, rowBytes, list), rows, n);
      sgdStep(p + at, rows, out + at, n, lr, decay);
      break;
    }
    const nnz = listNonzerosByFours(src, rowStep, stride, stride != 4, k, b, rowBytes, list);
    sumRows(list, nnz, 0, rows, rows + rowBytes, n);
    sgdStep(p + at, rows, out + at, n << 1, lr, decay);
  }
}

/** Bytes i..i+3 of v (i = 0, 4, 8, 12: `part`) as floats x / 255, the bits unitFloats gives. */
@inline
function quarterFloats(v: v128, part: i32): v128 {
  const d = f32x4.splat(255);
  const half = part < 8 ? i16x8.extend_low_i8x16_u(v) : i16x8.extend_high_i8x16_u(v);
  const words = (part & 4) == 0 ? i32x4.extend_low_i16x8_u(half) : i32x4.extend_high_i16x8_u(half);
  return f32x4.div(f32x4.convert_i32x4_u(words), d);
}

/**
 * listNonzeros for two rows of bytes (at src and src + next, values x / 255): sixteen p at a time,
 * sixteen zero pairs (an MNIST image's border) costing one compare, the rest listed four at a time in
 * registers (listFour). Returns how many.
 */
function listByteRows(src: usize, next: usize, count: i32, bBase: usize, rowBytes: usize, list: usize): i32 {
  let entry = list;
  let p: i32 = 0;
  for (; p + 16 <= count; p += 16) {
    const at = src + <usize>p;
    const r0 = v128.load(at);
    const r1 = v128.load(at + next);
    if (!v128.any_true(v128.or(r0, r1))) continue;
    const row = bBase + <usize>p * rowBytes;
    for (let part: i32 = 0; part < 16; part += 4) {
      const x0 = quarterFloats(r0, part);
      const x1 = quarterFloats(r1, part);
      if (v128.any_true(v128.or(x0, x1))) entry = listFour(x0, x1, row + <usize>part * rowBytes, rowBytes, entry);
    }
  }
  for (; p < count; p++) entry = listBytePair(src + <usize>p, next, bBase + <usize>p * rowBytes, entry);
  return <i32>((entry - list) >> 4);
}

/** listRow for one row of bytes (values x / 255), sixteen zero bytes costing one compare. Returns how many. */
function listByteRow(src: usize, count: i32, bBase: usize, rowBytes: usize, list: usize): i32 {
  let entry = list;
  let p: i32 = 0;
  for (; p < count; p++) {
    if ((p & 15) == 0 && p + 16 <= count && !v128.any_true(v128.load(src + <usize>p))) {
      p += 15;
      continue;
    }
    const b = load<u8>(src + <usize>p);
    store<u32>(entry, <u32>(bBase + <usize>p * rowBytes));
    store<f32>(entry, <f32>b / 255, 4);
    entry += <usize>(b != 0) << 3;
  }
  return <i32>((entry - list) >> 3);
}

/**
 * Rows of a layer's output go BLOCK at a time through the kernels below that take a whole batch
 * (10,000 test images): each block's product gets its bias and relu while it is still in the cache,
 * and a block's lists fit in it, instead of the whole output making a second trip through memory.
 */
const BLOCK: i32 = 32;

/** Bytes of scratch linearFromBytes needs for an input of k columns (see fused.ts's listBytes). */
export function bytesListScratch(k: i32): i32 {
  return BLOCK * k * 8 + k * 2;
}

/**
 * linear (relu?(x . W + bias)) with x given as bytes A [m, k] scaled to x / 255 as they are read,
 * without making the scaled input: BLOCK rows at a time, their lists by pairs of columns
 * (columnListsFromBytes) then their product (matmulNNLists); with k odd or fewer rows, two rows at a
 * time as matmulNN does (a lone row: a prediction, by listByteRow). Every way gives the bits of
 * unitFloats then the linear kernel. `list` is scratch of bytesListScratch(k) bytes.
 */
export function linearFromBytes(a: usize, b: usize, bias: usize, c: usize, list: usize, m: i32, k: i32, n: i32, relu: i32): void {
  const rowBytes = <usize>n << 2;
  if (m >= BLOCK && (k & 1) == 0) {
    const counts = list + <usize>BLOCK * <usize>k * 8;
    for (let i: i32 = 0; i < m; i += BLOCK) {
      const rows = min(BLOCK, m - i);
      const out = c + <usize>i * rowBytes;
      columnListsFromBytes(a + <usize>i * <usize>k, list, counts, rows, k, rowBytes);
      matmulNNLists(list, counts, b, out, rows, k, n);
      addBias(out, bias, rows, n, relu);
    }
    return;
  }
  for (let i: i32 = 0; i < m; i += 2) {
    const src = a + <usize>i * <usize>k;
    const c0 = c + <usize>i * rowBytes;
    if (i + 1 === m) {
      sumRow(list, listByteRow(src, k, b, rowBytes, list), c0, n);
      break;
    }
    sumRows(list, listByteRows(src, <usize>k, k, b, rowBytes, list), 0, c0, c0 + rowBytes, n);
  }
  addBias(c, bias, m, n, relu);
}

/** linear (relu?(x . W + bias)), x [m, k]: matmulNN and addBias, BLOCK rows at a time. `list` is scratch for k entries. */
export function linear(x: usize, w: usize, bias: usize, c: usize, list: usize, m: i32, k: i32, n: i32, relu: i32): void {
  const rowBytes = <usize>n << 2;
  for (let i: i32 = 0; i < m; i += BLOCK) {
    const rows = min(BLOCK, m - i);
    const out = c + <usize>i * rowBytes;
    product(x + <usize>i * (<usize>k << 2), <usize>k << 2, 4, w, out, list, rows, k, n);
    addBias(out, bias, rows, n, relu);
  }
}

// ---- convolutions, as im2col and the products above ----------------------------------------------
// A convolution of x [n, c, h, w] by filters [k, c, kh, kw] is the product of its patch matrix
// (im2col: one row per output position, c * kh * kw taps) by the filters: forward, patches . W^T;
// input gradient, col2im(G . W); filter gradient, G^T . patches, with G the output gradient as
// rows of positions ([n * oh * ow, k]). The sums are the reference loops' (../../reference/conv.ts).

/**
 * Between x [n, c, h, w] and its patch matrix [n * oh * ow, c * kh * kw], whose row (b, oy, ox)
 * holds, for channel, tap row i and tap column j, x[b, ch, oy*sh - pt + i*dh, ox*sw - pl + j*dw]:
 * toCols, the patch matrix of x (im2col, zeros in the padding); else col2im: x = +0, then each entry
 * of the patch matrix added to the x entry its tap reads, rows in order (the reference loops' sums).
 */
function patches(x: usize, cols: usize, toCols: bool, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  const rowBytes = <usize>w << 2;
  const planeBytes = <usize>h * rowBytes;
  const tapsBytes = <usize>kw << 2;
  if (!toCols) memory.fill(x, 0, <usize>n * <usize>c * planeBytes);
  let at = cols;
  for (let b: i32 = 0; b < n; b++) {
    const image = x + <usize>b * <usize>c * planeBytes;
    for (let oy: i32 = 0; oy < oh; oy++) {
      for (let ox: i32 = 0; ox < ow; ox++) {
        const x0 = ox * sw - pl;
        for (let ch: i32 = 0; ch < c; ch++) {
          const plane = image + <usize>ch * planeBytes;
          for (let i: i32 = 0; i < kh; i++) {
            const iy = oy * sh - pt + i * dh;
            const row = plane + <usize>iy * rowBytes;
            // The patch matrix is written in order, so a run may be stored 4 floats at a time past
            // its end (the next run overwrites them; the caller leaves 16 bytes after the matrix).
            if (iy < 0 || iy >= h) {
              if (toCols) for (let j: usize = 0; j < tapsBytes; j += 16) v128.store(at + j, f32x4.splat(0));
            } else if (toCols && dw == 1 && x0 >= 0 && x0 + kw <= w) {
              const from = row + (<usize>x0 << 2);
              for (let j: usize = 0; j < tapsBytes; j += 16) v128.store(at + j, v128.load(from + j));
            } else {
              for (let j: i32 = 0; j < kw; j++) {
                const ix = x0 + j * dw;
                const inside = ix >= 0 && ix < w;
                const to = row + (<usize>ix << 2);
                if (toCols) store<f32>(at + (<usize>j << 2), inside ? load<f32>(to) : 0);
                else if (inside) store<f32>(to, load<f32>(to) + load<f32>(at + (<usize>j << 2)));
              }
            }
            at += tapsBytes;
          }
        }
      }
    }
  }
}

/** The patch matrix of x (see patches). */
export function im2col(x: usize, cols: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  patches(x, cols, true, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
}

/** dx from a patch matrix of gradients (see patches). */
export function col2im(cols: usize, dx: usize, n: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32): void {
  patches(dx, cols, false, n, c, h, w, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
}

/**
 * [n, p, k] (positions by channels) to [n, k, p] (channels first), adding bias[k] (if hasBias) and
 * then clamping at 0 (if relu) as addBias does: a conv's output rows to NCHW.
 */
export function positionsToChannels(src: usize, dst: usize, n: i32, p: i32, k: i32, bias: usize, hasBias: i32, relu: i32): void {
  const kBytes = <usize>k << 2;
  for (let b: i32 = 0; b < n; b++) {
    const from = src + <usize>b * <usize>p * kBytes;
    const to = dst + <usize>b * <usize>p * kBytes;
    for (let ch: i32 = 0; ch < k; ch++) {
      const add: f32 = hasBias ? load<f32>(bias + (<usize>ch << 2)) : 0;
      let s = from + (<usize>ch << 2);
      let d = to + <usize>ch * (<usize>p << 2);
      for (let q: i32 = 0; q < p; q++) {
        let v = load<f32>(s);
        if (hasBias) v = v + add;
        if (relu) v = v > 0 ? v : 0;
        store<f32>(d, v);
        s += kBytes;
        d += 4;
      }
    }
  }
}

/** [n, k, p] (channels first) to [n, p, k] (one row of k channels per position): an output gradient as rows. */
export function channelsToPositions(src: usize, dst: usize, n: i32, k: i32, p: i32): void {
  const kBytes = <usize>k << 2;
  for (let b: i32 = 0; b < n; b++) {
    const from = src + <usize>b * <usize>p * kBytes;
    const to = dst + <usize>b * <usize>p * kBytes;
    for (let ch: i32 = 0; ch < k; ch++) {
      let s = from + <usize>ch * (<usize>p << 2);
      let d = to + (<usize>ch << 2);
      for (let q: i32 = 0; q < p; q++) {
        store<f32>(d, load<f32>(s));
        s += 4;
        d += kBytes;
      }
    }
  }
}

// ---- reductions and pooling ---------------------------------------------------------------------

/**
 * dst[m] = the sum over o, then i, of src[o, m, i] (src [outer, mid, inner]), each sum from +0 in
 * that order (the reference loops' order: the source's row-major order). Four sums at a time, as
 * independent chains: a bias's gradient (sums over the batch and a conv's positions).
 */
export function sumOuterInner(src: usize, dst: usize, outer: i32, mid: i32, inner: i32): void {
  const rowBytes = <usize>inner << 2;
  memory.fill(dst, 0, <usize>mid << 2);
  for (let o: i32 = 0; o < outer; o++) {
    const block = src + <usize>o * <usize>mid * rowBytes;
    let m: i32 = 0;
    if (inner == 1) {
      for (; m + 4 <= mid; m += 4) {
        const at = dst + (<usize>m << 2);
        v128.store(at, f32x4.add(v128.load(at), v128.load(block + (<usize>m << 2))));
      }
    }
    for (; m + 4 <= mid; m += 4) {
      const r0 = block + <usize>m * rowBytes;
      const r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
      const at = dst + (<usize>m << 2);
      let a0 = load<f32>(at), a1 = load<f32>(at, 4), a2 = load<f32>(at, 8), a3 = load<f32>(at, 12);
      for (let i: usize = 0; i < rowBytes; i += 4) {
        a0 += load<f32>(r0 + i);
        a1 += load<f32>(r1 + i);
        a2 += load<f32>(r2 + i);
        a3 += load<f32>(r3 + i);
      }
      store<f32>(at, a0);
      store<f32>(at, a1, 4);
      store<f32>(at, a2, 8);
      store<f32>(at, a3, 12);
    }
    for (; m < mid; m++) {
      const r = block + <usize>m * rowBytes;
      const at = dst + (<usize>m << 2);
      let a = load<f32>(at);
      for (let i: usize = 0; i < rowBytes; i += 4) a += load<f32>(r + i);
      store<f32>(at, a);
    }
  }
}

/**
 * Max pooling of planes [planes, h, w] through kh x kw windows (stride sh, sw; padding pt, pl):
 * each window's maximum into `values` and its flat position in the input into `positions` (int32).
 * The first maximum in row-major order wins ties, and NaN wins, as the reference loops say.
 */
export function maxPool(x: usize, values: usize, positions: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, oh: i32, ow: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0) {
    maxPool2x2(x, values, positions, planes, h, w, oh, ow);
    return;
  }
  let out: usize = 0;
  for (let plane: i32 = 0; plane < planes; plane++) {
    const base = plane * h * w;
    for (let oy: i32 = 0; oy < oh; oy++) {
      const y0 = oy * sh - pt;
      const i0 = y0 < 0 ? -y0 : 0;
      const i1 = y0 + kh > h ? h - y0 : kh;
      for (let ox: i32 = 0; ox < ow; ox++) {
        const x0 = ox * sw - pl;
        const j0 = x0 < 0 ? -x0 : 0;
        const j1 = x0 + kw > w ? w - x0 : kw;
        let pos = base + (y0 + i0) * w + x0 + j0;
        let best = load<f32>(x + (<usize>pos << 2));
        for (let i = i0; i < i1; i++) {
          const row = base + (y0 + i) * w + x0;
          for (let j = j0; j < j1; j++) {
            const v = load<f32>(x + (<usize>(row + j) << 2));
            if (v > best || (v != v && best == best)) {
              best = v;
              pos = row + j;
            }
          }
        }
        store<f32>(values + out, best);
        store<i32>(positions + out, pos);
        out += 4;
      }
    }
  }
}

/** out [size] = +0, then g[i] added at positions[i] for i in order (max pooling's gradient). */
export function scatterAdd(g: usize, positions: usize, out: usize, count: i32, size: i32): void {
  memory.fill(out, 0, <usize>size << 2);
  for (let i: i32 = 0; i < count; i++) {
    const p = load<i32>(positions + (<usize>i << 2));
    if (<u32>p >= <u32>size) continue; // as a typed array ignores a write out of range
    const at = out + (<usize>p << 2);
    store<f32>(at, load<f32>(at) + load<f32>(g + (<usize>i << 2)));
  }
}

/**
 * C[m,n] += A^T . B (A stored [k,m], B [k,n]): matmulTN whose sums go on from C's values, so that a
 * product over many rows (a filter gradient over a batch) can be taken a group of rows at a time
 * while its patches are in cache. Every float32 sum is rounded at each step, so stopping and going
 * on gives matmulTN's bits. Each pair of rows of C enters the list first, as rows of "B" weighted
 * 1 for itself and 0 for its twin (C's values are finite sums, never -0).
 */
export function matmulTNAccumulate(a: usize, b: usize, c: usize, list: usize, m: i32, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const stride = <usize>m << 2;
  for (let i: i32 = 0; i < m; i += 2) {
    const src = a + (<usize>i << 2);
    const c0 = c + <usize>i * rowBytes;
    if (i + 1 === m) {
      store<u32>(list, <u32>c0);
      store<f32>(list, 1, 4);
      sumRow(list, 1 + listRow(src, stride, k, b, rowBytes, list + 8), c0, n);
      break;
    }
    v128.store(list, v128.replace_lane<f32>(v128.replace_lane<u32>(f32x4.splat(0), 0, <u32>c0), 1, 1));
    v128.store(list, v128.replace_lane<f32>(v128.replace_lane<u32>(f32x4.splat(0), 0, <u32>(c0 + rowBytes)), 2, 1), 16);
    const nnz = listNonzerosByFours(src, 4, stride, true, k, b, rowBytes, list + 32);
    sumRows(list, nnz + 2, 0, c0, c0 + rowBytes, n);
  }
}

/** maxPool's 2 x 2 windows side by side (the common case), the same comparisons in the same order. */
function maxPool2x2(x: usize, values: usize, positions: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32): void {
  let out: usize = 0;
  for (let plane: i32 = 0; plane < planes; plane++) {
    for (let oy: i32 = 0; oy < oh; oy++) {
      let p0 = plane * h * w + 2 * oy * w;
      for (let ox: i32 = 0; ox < ow; ox++, p0 += 2) {
        const p1 = p0 + w;
        const r0 = x + (<usize>p0 << 2), r1 = x + (<usize>p1 << 2);
        let best = load<f32>(r0), pos = p0;
        let v = load<f32>(r0, 4);
        if (v > best || (v != v && best == best)) { best = v; pos = p0 + 1; }
        v = load<f32>(r1);
        if (v > best || (v != v && best == best)) { best = v; pos = p1; }
        v = load<f32>(r1, 4);
        if (v > best || (v != v && best == best)) { best = v; pos = p1 + 1; }
        store<f32>(values + out, best);
        store<i32>(positions + out, pos);
        out += 4;
      }
    }
  }
}
