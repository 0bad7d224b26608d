// defineOp: the one way to make a differentiable op. Forward and vector-Jacobian product are
// written side by side; the engine records the node only when some input is tracked, so
// inference on constants pays nothing for the graph.

import { isDonated } from "./donation.ts";
import { ShapeError } from "./shape.ts";
import { Tensor, unsettledData, type Cotangents } from "./tensor.ts";

export interface VjpContext<A> {
  readonly inputs: readonly Tensor[];
  /** The forward result, as a constant (handy: d/dx e^x = e^x reuses it). */
  readonly out: Tensor;
  readonly attrs: A;
  /** needs[i]: whether input i leads to a requested gradient; return null for the others. */
  readonly needs: readonly boolean[];
}

export interface OpDefinition<A> {
  readonly name: string;
  /** Computes the result from constant inputs. Must not write into any input's data. */
  readonly forward: (inputs: readonly Tensor[], attrs: A) => Tensor;
  /** Maps the output's cotangent g to one cotangent per input (same shape as that input), or null. */
  readonly vjp: (g: Tensor, ctx: VjpContext<A>) => Cotangents;
  /** Set for ops whose inputs may differ in dtype on purpose (none of the built-ins). */
  readonly mixedDtypes?: boolean;
}

export type Op<A> = (inputs: readonly Tensor[], attrs: A) => Tensor;

export const defineOp = <A = undefined>(def: OpDefinition<A>): Op<A> => {
  const { name, forward, vjp } = def;
  return (inputs, attrs) => {
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i]!;
      if (isDonated(unsettledData(t))) {
        throw new Error(`${name}: input ${i} (${t}) was donated (e.g. optimizer.update with donate: true): its memory now holds other values, and it must not be used again`);
      }
    }
    if (!def.mixedDtypes) {
      for (let i = 1; i < inputs.length; i++) {
        if (inputs[i]!.dtype !== inputs[0]!.dtype) {
          throw new ShapeError(`${name}: mismatched dtypes ${inputs[0]!.dtype} and ${inputs[i]!.dtype} (cast one input first)`);
        }
      }
    }
    const out = forward(inputs, attrs);
    let tracked = false;
    for (const t of inputs) if (t.node !== null) tracked = true;
    if (!tracked) return out;
    return new Tensor(unsettledData(out), out.shape, {
      op: name,
      parents: inputs,
      // The vjp sees its inputs as constants: a vjp written with ops (mul(g, sigmoid(x))) must not
      // record a graph of its own that nobody will differentiate.
      vjp: (g, needs) => vjp(g, { inputs: inputs.map((t) => (t.node === null ? t : new Tensor(unsettledData(t), t.shape))), out, attrs, needs }),
    });
  };
};
