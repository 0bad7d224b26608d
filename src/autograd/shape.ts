// Shapes: sizes, strides, broadcasting, axis checks, and the errors that name the op.

export type Shape = readonly number[];

/** An error thrown when an op is called with shapes or arguments it cannot accept. */
export class ShapeError extends Error {
  override name = "ShapeError";
}

export const shapeStr = (shape: Shape): string => `[${shape.join(", ")}]`;

export const sizeOf = (shape: Shape): number => {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
};

export const sameShape = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

export { stridesOf } from "../backend/reference/movement.ts";

/** Shapes checkShape has made: frozen arrays of valid dimensions, taken as they are. */
const checked = new WeakSet<Shape>();

/** `shape` validated (non-negative integer dimensions, else a ShapeError naming `op`) as a frozen array. */
export const checkShape = (op: string, shape: Shape): Shape => {
  if (checked.has(shape)) return shape;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${op}: invalid shape ${shapeStr(shape)}: every dimension must be a non-negative integer`);
    }
  }
  const frozen = Object.freeze([...shape]);
  checked.add(frozen);
  return frozen;
};

/**
 * NumPy broadcasting: align shapes on the right; each pair of dimensions must be equal or one of
 * them 1, and the result takes the larger.
 */
export const broadcastShapes = (op: string, a: Shape, b: Shape): Shape => {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: cannot broadcast ${shapeStr(a)} with ${shapeStr(b)}: axis ${i} has sizes ${da} and ${db} (each pair must be equal or one of them 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return Object.freeze(out);
};

/** Turn a possibly negative axis into 0..rank-1, or throw naming the op. */
export const normalizeAxis = (op: string, axis: number, rank: number): number => {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (expected an integer in [${-rank}, ${rank - 1}])`);
  }
  return axis < 0 ? axis + rank : axis;
};

/** Normalize an axis argument (one axis, a list, or undefined = all axes) to sorted unique axes. */
export const normalizeAxes = (op: string, axis: number | readonly number[] | undefined, rank: number): number[] => {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  const axes = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) throw new ShapeError(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return axes.sort((x, y) => x - y);
};

/** The shape after reducing `axes`: removed, or kept as size 1. */
export const reducedShape = (shape: Shape, axes: readonly number[], keepDims: boolean): Shape => {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return Object.freeze(out);
};
