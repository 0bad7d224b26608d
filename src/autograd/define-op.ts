// defineOp: the one way to make a differentiable op. Forward and vector-Jacobian product are written
// side by side; the engine records the node only when some input is tracked, so inference on
// constants pays nothing for the graph. A forward computes with kernels (run) or with other ops; a
// vjp computes with ops, so that it can itself be differentiated (grad of grad) and traced by jit.

import type { DType, Kernel } from "../backend/index.ts";
import { currentInterpreter, currentOp, withOp } from "./backend.ts";
import { ShapeError, shapeStr, type Shape } from "./shape.ts";
import { detach, guardReads, handleOf, Tensor, type Cotangents } from "./tensor.ts";

/** Apply a kernel to tensors: the outputs, of the given shapes. */
export const run = <P>(kernel: Kernel<P>, inputs: readonly Tensor[], params: P, shapes: readonly Shape[]): Tensor[] => {
  const handles = currentInterpreter().apply(kernel, inputs.map(handleOf), params, shapes, currentOp() || kernel.name);
  return handles.map((h, i) => new Tensor(h, shapes[i]!));
};

/** run for a kernel with one output. */
export const run1 = <P>(kernel: Kernel<P>, inputs: readonly Tensor[], params: P, shape: Shape): Tensor => run(kernel, inputs, params, [shape])[0]!;

export interface VjpContext<A> {
  /** The forward's inputs: constants, or (for a higher-order gradient) the tracked tensors themselves. */
  readonly inputs: readonly Tensor[];
  /** The forward result (handy: d/dx e^x = e^x reuses it); tracked like the inputs. */
  readonly out: Tensor;
  readonly attrs: A;
  /** Values the forward kept for the vjp (its `saved`), as constants. */
  readonly saved: readonly Tensor[];
  /** needs[i]: whether input i leads to a requested gradient; return null for the others. */
  readonly needs: readonly boolean[];
}

export interface OpDefinition<A> {
  readonly name: string;
  /**
   * Computes the result from the inputs (as constants). May return values to keep for the vjp
   * (residuals, as in JAX's custom_vjp): { out, saved }.
   */
  readonly forward: (inputs: readonly Tensor[], attrs: A) => Tensor | { readonly out: Tensor; readonly saved: readonly Tensor[] };
  /** Maps the output's cotangent g to one cotangent per input (same shape and dtype as that input), or null. */
  readonly vjp: (g: Tensor, ctx: VjpContext<A>) => Cotangents;
  /** The result's dtype when it is not the first input's (a cast). */
  readonly outputDtype?: (inputs: readonly Tensor[], attrs: A) => DType;
  /** Set for ops whose inputs differ in dtype on purpose (integer labels beside float logits). */
  readonly mixedDtypes?: boolean;
}

export type Op<A> = (inputs: readonly Tensor[], attrs: A) => Tensor;

export const defineOp = <A = undefined>(def: OpDefinition<A>): Op<A> => {
  const { name, forward, vjp } = def;
  return (inputs, attrs) => {
    if (!def.mixedDtypes) {
      for (let i = 1; i < inputs.length; i++) {
        if (inputs[i]!.dtype !== inputs[0]!.dtype) {
          throw new ShapeError(`${name}: mismatched dtypes ${inputs[0]!.dtype} and ${inputs[i]!.dtype} (cast one input first)`);
        }
      }
    }
    const result = withOp(name, () => forward(inputs.map(detach), attrs));
    const out = result instanceof Tensor ? result : result.out;
    const saved = result instanceof Tensor ? [] : result.saved;
    const expected = def.outputDtype?.(inputs, attrs) ?? inputs[0]?.dtype ?? out.dtype;
    if (out.dtype !== expected) throw new ShapeError(`${name}: the forward returned a ${out.dtype} result for ${expected} inputs`);
    if (!inputs.some((t) => t.node !== null)) return out;
    return new Tensor(handleOf(out), out.shape, {
      op: name,
      parents: inputs,
      vjp: (g, needs, self, createGraph) => {
        const ctx: VjpContext<A> = createGraph
          ? { inputs, out: self, attrs, saved, needs }
          : { inputs: inputs.map(detach), out: detach(self), attrs, saved, needs };
        return withOp(`${name} (vjp)`, () => (createGraph ? guardReads(name, () => vjp(g, ctx)) : vjp(g, ctx)));
      },
    });
  };
};

/** Throw a ShapeError naming the op unless `ok`. */
export const expectShape = (ok: boolean, op: string, what: () => string): void => {
  if (!ok) throw new ShapeError(`${op}: ${what()}`);
};

export { shapeStr };
