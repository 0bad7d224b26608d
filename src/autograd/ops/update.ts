// The optimizers' update rules, one kernel pass over a parameter and its slots (as PyTorch's fused
// optimizers and optax's updates are). Not differentiable: an update is the end of a step.
// learningRate is a scalar tensor (a schedule's value at this step), so a compiled training step
// reads a new rate each call without being traced again.

import * as k from "../../backend/kernels.ts";
import { run } from "../define-op.ts";
import { sameShape, ShapeError, shapeStr } from "../shape.ts";
import { detach, type Tensor } from "../tensor.ts";

const check = (who: string, p: Tensor, others: readonly Tensor[], learningRate: Tensor): void => {
  for (const t of others) {
    if (!sameShape(t.shape, p.shape) || t.dtype !== p.dtype) {
      throw new ShapeError(`${who}: a ${t.dtype} ${shapeStr(t.shape)} tensor does not match the parameter's ${p.dtype} ${shapeStr(p.shape)}`);
    }
  }
  if (learningRate.size !== 1) throw new ShapeError(`${who}: learningRate must be a scalar tensor, got shape ${shapeStr(learningRate.shape)}`);
};

/** p - lr (g + decay p). */
export const sgdUpdate = (p: Tensor, g: Tensor, learningRate: Tensor, { decay = 0 } = {}): Tensor => {
  check("sgdUpdate", p, [g], learningRate);
  return run(k.sgdUpdate, [p, g, learningRate].map(detach), { decay }, [p.shape])[0]!;
};

/** [p', v'] of heavy-ball momentum (see the kernel for the rule). */
export const momentumUpdate = (p: Tensor, g: Tensor, velocity: Tensor, learningRate: Tensor, options: { mu: number; nesterov: boolean; decay: number }): [Tensor, Tensor] => {
  check("momentumUpdate", p, [g, velocity], learningRate);
  const [pOut, vOut] = run(k.momentumUpdate, [p, g, velocity, learningRate].map(detach), options, [p.shape, p.shape]);
  return [pOut!, vOut!];
};

/** [p', m', v'] of Adam at step t (1 for the first update; an integer scalar tensor). */
export const adamUpdate = (
  p: Tensor, g: Tensor, m: Tensor, v: Tensor, learningRate: Tensor, t: Tensor,
  options: { beta1: number; beta2: number; eps: number; decay: number },
): [Tensor, Tensor, Tensor] => {
  check("adamUpdate", p, [g, m, v], learningRate);
  const [pOut, mOut, vOut] = run(k.adamUpdate, [p, g, m, v, learningRate, t].map(detach), options, [p.shape, p.shape, p.shape]);
  return [pOut!, mOut!, vOut!];
};
