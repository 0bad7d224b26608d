// Parameter trees: nested plain objects and arrays whose leaves are Tensors (other leaves, such as
// numbers or strings, are carried along unchanged). Gradients and optimizer state have the same shape.

import { Tensor } from "./tensor.ts";

export type Tree = Tensor | number | string | boolean | null | undefined | readonly Tree[] | { readonly [key: string]: Tree };

/** Replace every Tensor leaf by f(leaf, path); the result has the same structure. */
export const treeMap = <T extends Tree>(tree: T, f: (leaf: Tensor, path: string) => Tensor, path = ""): T => {
  if (tree instanceof Tensor) return f(tree, path) as T;
  if (Array.isArray(tree)) return tree.map((t, i) => treeMap(t as Tree, f, path ? `${path}.${i}` : String(i))) as unknown as T;
  if (tree !== null && typeof tree === "object") {
    const out: Record<string, Tree> = {};
    for (const [key, value] of Object.entries(tree)) out[key] = treeMap(value as Tree, f, path ? `${path}.${key}` : key);
    return out as T;
  }
  return tree;
};

/** The Tensor leaves with their dotted paths, in a fixed order (keys as written, arrays by index). */
export const treeLeaves = (tree: Tree): { path: string; leaf: Tensor }[] => {
  const out: { path: string; leaf: Tensor }[] = [];
  treeMap(tree, (leaf, path) => {
    out.push({ path, leaf });
    return leaf;
  });
  return out;
};
