// Parameter trees: nested plain objects with Tensor leaves. A leaf's dotted path ("dense1.weight")
// is its name everywhere: in gradients and optimizer state (same shape as the parameters) and as
// the tensor's name in model files. Trees are read-only values; an edit makes a new tree with
// immer, sharing every untouched branch.

import { freeze, produce } from "immer";
import { ShapeError, shapeStr, Tensor, treeLeaves, treeMap, type Tree } from "../autograd/index.ts";

export { treeLeaves, treeMap, type Tree };

/** A layer's or a network's parameters: named branches down to Tensor leaves. */
export type Params = { readonly [name: string]: ParamTree };
export type ParamTree = Tensor | Params;

/** Freeze the plain objects of a tree (Tensors are opaque leaves to immer and stay as they are). */
export const freezeTree = <T extends Tree>(tree: T): T => freeze(tree, true);

/** True for a leaf named "weight": the leaves weight decay applies to and counted as weights. */
export const isWeight = (path: string): boolean => path === "weight" || path.endsWith(".weight");
/** True for a leaf named "bias". */
export const isBias = (path: string): boolean => path === "bias" || path.endsWith(".bias");

/** The Tensor leaves keyed by dotted path: { "dense1.weight": Tensor, "dense1.bias": Tensor, ... }. */
export const flattenTree = (tree: Tree): Record<string, Tensor> => {
  const out: Record<string, Tensor> = {};
  for (const { path, leaf } of treeLeaves(tree)) out[path] = leaf;
  return out;
};

/** The inverse of flattenTree: nested objects from dotted paths (frozen). */
export const unflattenTree = (flat: Readonly<Record<string, Tensor>>): Params => {
  const root: Record<string, unknown> = {};
  for (const [path, leaf] of Object.entries(flat)) {
    const keys = path.split(".");
    let node = root;
    keys.slice(0, -1).forEach((k, i) => {
      const next = node[k];
      if (next instanceof Tensor) throw new ShapeError(`unflattenTree: "${keys.slice(0, i + 1).join(".")}" is both a leaf and a branch`);
      node = (node[k] ??= {}) as Record<string, unknown>;
    });
    const last = keys[keys.length - 1]!;
    if (node[last] !== undefined) throw new ShapeError(`unflattenTree: "${path}" is both a leaf and a branch`);
    node[last] = leaf;
  }
  return freezeTree(root as Params);
};

/**
 * The leaves of `tree` keyed by path, checked against `like`: the same paths, each leaf of the same
 * shape. Used to line gradients and optimizer state up with the parameters.
 */
export const leavesLike = (who: string, what: string, tree: Tree, like: Tree): Map<string, Tensor> => {
  const leaves = new Map(treeLeaves(tree).map(({ path, leaf }) => [path, leaf] as const));
  const expected = treeLeaves(like);
  for (const { path, leaf } of expected) {
    const t = leaves.get(path);
    if (t === undefined) throw new ShapeError(`${who}: ${what} has no leaf "${path}" (it must be shaped like the parameters)`);
    if (t.shape.length !== leaf.shape.length || t.shape.some((d, i) => d !== leaf.shape[i])) {
      throw new ShapeError(`${who}: ${what} "${path}" has shape ${shapeStr(t.shape)} but the parameter has ${shapeStr(leaf.shape)}`);
    }
  }
  if (leaves.size !== expected.length) {
    const extra = [...leaves.keys()].filter((p) => !expected.some((e) => e.path === p));
    throw new ShapeError(`${who}: ${what} has leaves the parameters lack: ${extra.join(", ")}`);
  }
  return leaves;
};

/** Set the leaf at a dotted path inside an immer draft (or any plain mutable object). */
export const assignAt = (draft: object, path: string, leaf: Tensor): void => {
  const keys = path.split(".");
  let node = draft as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[keys[keys.length - 1]!] = leaf;
};

/** A new tree with the leaves at the given paths replaced; untouched branches are shared. */
export const setLeaves = <T extends Params>(tree: T, updates: Iterable<readonly [string, Tensor]>): T =>
  produce(tree, (draft) => {
    for (const [path, leaf] of updates) assignAt(draft, path, leaf);
  });

export interface ParamCount {
  /** Every scalar in the tree. */
  readonly total: number;
  /** Scalars in leaves named "weight". */
  readonly weights: number;
  /** Scalars in leaves named "bias". */
  readonly biases: number;
}

/** How many numbers the parameters hold: [784, 128, 64, 10] has 109,386 in all, 109,184 of them weights. */
export const countParams = (params: Tree): ParamCount => {
  let total = 0, weights = 0, biases = 0;
  for (const { path, leaf } of treeLeaves(params)) {
    total += leaf.size;
    if (isWeight(path)) weights += leaf.size;
    else if (isBias(path)) biases += leaf.size;
  }
  return { total, weights, biases };
};

const kindOf = (v: unknown): string =>
  v instanceof Tensor ? `a tensor of shape ${shapeStr(v.shape)}`
  : v === undefined ? "missing"
  : v === null ? "null"
  : Array.isArray(v) ? `a list of ${v.length}`
  : typeof v === "object" ? "an object"
  : `a ${typeof v}`;

/**
 * Where `tree` differs in structure from `like`, or null where it does not: the same keys and list
 * lengths; where `like` has a Tensor, one of the same shape and dtype; elsewhere a leaf of the same
 * kind (number, string, boolean, null). Used to check a loaded tree (a checkpoint's optimizer state)
 * against the one the code makes (optimizer.init(params)), whatever its layout. Paths are dotted.
 */
export const treeMismatch = (like: Tree, tree: Tree, path = ""): string | null => {
  const at = path === "" ? "the tree" : `"${path}"`;
  const inner = (k: string | number) => (path === "" ? String(k) : `${path}.${k}`);
  if (like instanceof Tensor) {
    if (!(tree instanceof Tensor)) return `${at} is ${kindOf(tree)}, expected ${kindOf(like)}`;
    if (tree.shape.length !== like.shape.length || tree.shape.some((d, i) => d !== like.shape[i])) return `${at} has shape ${shapeStr(tree.shape)}, expected ${shapeStr(like.shape)}`;
    return tree.dtype === like.dtype ? null : `${at} is ${tree.dtype}, expected ${like.dtype}`;
  }
  if (Array.isArray(like)) {
    if (!Array.isArray(tree) || tree.length !== like.length) return `${at} is ${kindOf(tree)}, expected ${kindOf(like)}`;
    for (let i = 0; i < like.length; i++) {
      const m = treeMismatch(like[i] as Tree, tree[i] as Tree, inner(i));
      if (m !== null) return m;
    }
    return null;
  }
  if (like !== null && typeof like === "object") {
    if (tree === null || typeof tree !== "object" || Array.isArray(tree) || tree instanceof Tensor) return `${at} is ${kindOf(tree)}, expected an object`;
    const l = like as { readonly [key: string]: Tree };
    const t = tree as { readonly [key: string]: Tree };
    for (const k of Object.keys(t)) if (!Object.hasOwn(l, k)) return `${at} has "${k}", which is not expected (expected ${Object.keys(l).join(", ") || "no keys"})`;
    for (const k of Object.keys(l)) {
      const m = treeMismatch(l[k], t[k], inner(k));
      if (m !== null) return m;
    }
    return null;
  }
  const leafKind = (v: unknown) => (v === null ? "null" : typeof v);
  return leafKind(like) === leafKind(tree) ? null : `${at} is ${kindOf(tree)}, expected ${kindOf(like)}`;
};
