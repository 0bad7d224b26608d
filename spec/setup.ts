// A fixed fast-check seed, so a failing property reproduces run after run (the counterexample is
// printed with the seed and path). Change the seed here to explore new cases.
import fc from "fast-check";
import { expect } from "vitest";
import { Tensor } from "../src/autograd/index.ts";

fc.configureGlobal({ seed: 20261125, numRuns: 100, endOnFailure: true });

// A counterexample prints its tensors with their values (on the prototype: tensors are frozen).
Object.defineProperty(Tensor.prototype, fc.toStringMethod, {
  value(this: Tensor) {
    return `tensor(${JSON.stringify(this.toArray())}, ${JSON.stringify(this.shape)}, "${this.dtype}")`;
  },
});

// Tensors compare by value in toEqual: shape, dtype and every element of data. (Their values are
// behind a handle, read through a getter, so toEqual's walk over own properties would not see them.)
expect.addEqualityTesters([
  function tensorsEqual(a: unknown, b: unknown) {
    if (!(a instanceof Tensor) && !(b instanceof Tensor)) return undefined;
    if (!(a instanceof Tensor) || !(b instanceof Tensor)) return false;
    return a.dtype === b.dtype && this.equals(a.shape, b.shape) && this.equals(Array.from(a.data), Array.from(b.data));
  },
]);
