// Optimizers as pairs of pure functions over parameter trees (as in JAX's optax):
//   init(params)                  -> state    { step: 0, ...one zero tensor per parameter and slot }
//   update(grads, state, params)  -> { params, state }
// Nothing is stored anywhere else, so a checkpoint of { params, state } restores training exactly.
// Each leaf is updated by one kernel pass (the engine's sgdUpdate, momentumUpdate, adamUpdate) into
// new tensors; immer then sets the new leaves into new trees. The step counter is an int32 tensor
// and the learning rate a schedule of it, so a compiled training step (jit) updates them itself.
//
// Weight decay is decoupled (Loshchilov & Hutter, "Decoupled weight decay regularization", 2019):
// the step adds lr * weightDecay * w for leaves named "weight" (never biases), outside the
// gradient, so momentum's velocity and Adam's moments never see it. For plain SGD this is the same
// as adding (weightDecay / 2) |w|^2 to the loss (L2); for Adam it is AdamW.

import { produce } from "immer";
import {
  add, adamUpdate, cast, momentumUpdate, scalar, sgdUpdate, ShapeError, Tensor, treeLeaves, treeMap, zerosLike,
} from "../autograd/index.ts";
import { constant, type Schedule } from "./schedule.ts";
import { assignAt, freezeTree, isWeight, leavesLike, setLeaves, type Params } from "./tree.ts";

/** A fixed rate, or a schedule giving the rate for each step (0 for the first update). */
export type LearningRate = number | Schedule;

export interface OptimizerState {
  /** Updates done so far, an int32 scalar tensor: 0 after init. The schedule is read at this step; Adam's t is step + 1. */
  readonly step: Tensor;
}
export type SgdState = OptimizerState;
export interface MomentumState extends OptimizerState {
  /** v, shaped like the parameters. */
  readonly velocity: Params;
}
export interface AdamState extends OptimizerState {
  /** The first moment m (moving average of g), shaped like the parameters. */
  readonly m: Params;
  /** The second moment v (moving average of g^2), shaped like the parameters. */
  readonly v: Params;
}

export interface Optimizer<S extends OptimizerState = OptimizerState> {
  init(params: Params): S;
  update<P extends Params>(grads: P, state: S, params: P): { readonly params: P; readonly state: S };
  /** The learning rate at a step (for reports). */
  rateAt(step: number): number;
}

interface LeafStep {
  readonly p: Tensor; // the parameter
  readonly g: Tensor; // its gradient
  readonly slots: readonly Tensor[]; // its optimizer slots (velocity; m, v)
  readonly lr: Tensor; // the rate at this step, a float64 scalar
  readonly t: Tensor; // this update's number, 1 for the first (int32 scalar)
  readonly decay: number; // weightDecay for weights, 0 for the rest
}

const checkRange = (who: string, name: string, v: number, ok: boolean, what: string) => {
  if (!ok) throw new RangeError(`${who}: ${name} must be ${what}, got ${v}`);
};

/** The shared skeleton: validate, line the trees up by path, run `rule` once per leaf, rebuild the trees. */
const optimizer = <S extends OptimizerState>(
  who: string,
  slots: readonly string[],
  learningRate: LearningRate,
  weightDecay: number,
  rule: (leaf: LeafStep) => readonly Tensor[], // [p', ...slots']
): Optimizer<S> => {
  if (typeof learningRate === "number") {
    checkRange(who, "learningRate", learningRate, Number.isFinite(learningRate) && learningRate >= 0, "a finite number >= 0 or a schedule");
  }
  checkRange(who, "weightDecay", weightDecay, Number.isFinite(weightDecay) && weightDecay >= 0, "a finite number >= 0");
  const schedule = typeof learningRate === "number" ? constant(learningRate) : learningRate;
  return {
    rateAt: (step) => schedule(scalar(step, "float64")).item(),
    init: (params) => {
      const state: Record<string, unknown> = { step: scalar(0, "int32") };
      for (const s of slots) state[s] = treeMap(params, zerosLike);
      return freezeTree(state as unknown as S & Params);
    },
    update: (grads, state, params) => {
      const step = state.step;
      if (!(step instanceof Tensor) || step.dtype !== "int32" || step.size !== 1) {
        throw new ShapeError(`${who}: state.step must be an int32 scalar tensor (from init), got ${step}`);
      }
      const lr = schedule(cast(step, "float64"));
      const t = add(step, 1);
      const g = leavesLike(who, "grads", grads, params);
      const slotLeaves = slots.map((s) => leavesLike(who, `state.${s}`, (state as unknown as Record<string, Params>)[s]!, params));
      const newParams: [string, Tensor][] = [];
      const newSlots: [string, Tensor][][] = slots.map(() => []);
      for (const { path, leaf: p } of treeLeaves(params)) {
        const [pOut, ...slotsOut] = rule({ p, g: g.get(path)!, slots: slotLeaves.map((m) => m.get(path)!), lr, t, decay: isWeight(path) ? weightDecay : 0 });
        newParams.push([path, pOut!]);
        slotsOut.forEach((leaf, k) => newSlots[k]!.push([path, leaf]));
      }
      const nextState = produce(state, (draft) => {
        const d = draft as unknown as Record<string, object> & { step: Tensor };
        d.step = t;
        slots.forEach((s, k) => newSlots[k]!.forEach(([path, leaf]) => assignAt(d[s]!, path, leaf)));
      });
      return { params: setLeaves(params, newParams), state: nextState as S };
    },
  };
};

export interface SgdOptions {
  readonly learningRate: LearningRate;
  /** Decoupled weight decay on leaves named "weight" (0 by default). */
  readonly weightDecay?: number;
}

/** Gradient descent: w <- w - lr * (g + weightDecay * w), in the parameters' precision. */
export const sgd = ({ learningRate, weightDecay = 0 }: SgdOptions): Optimizer<SgdState> =>
  optimizer<SgdState>("sgd", [], learningRate, weightDecay, ({ p, g, lr, decay }) => [sgdUpdate(p, g, lr, { decay })]);

export interface MomentumOptions extends SgdOptions {
  /** mu in [0, 1): how much of the previous velocity is kept (0.9 by default). */
  readonly momentum?: number;
  /** Look ahead along the new velocity (Sutskever et al., 2013), as PyTorch does (false by default). */
  readonly nesterov?: boolean;
}

/**
 * Heavy-ball momentum, in PyTorch's form:
 *   v <- mu * v + g
 *   w <- w - lr * (v + weightDecay * w)              (classical)
 *   w <- w - lr * (g + mu * v + weightDecay * w)     (nesterov, with the new v)
 */
export const momentum = ({ learningRate, momentum: mu = 0.9, nesterov = false, weightDecay = 0 }: MomentumOptions): Optimizer<MomentumState> => {
  checkRange("momentum", "momentum", mu, mu >= 0 && mu < 1, "in [0, 1)");
  return optimizer<MomentumState>("momentum", ["velocity"], learningRate, weightDecay, ({ p, g, slots: [v], lr, decay }) =>
    momentumUpdate(p, g, v!, lr, { mu, nesterov, decay }));
};

export interface AdamOptions extends SgdOptions {
  /** Decay of the first-moment average (0.9 by default). */
  readonly beta1?: number;
  /** Decay of the second-moment average (0.999 by default). */
  readonly beta2?: number;
  /** Added to sqrt(v^) so the step stays finite where v^ is 0 (1e-8 by default). */
  readonly eps?: number;
}

/**
 * Adam (Kingma & Ba, 2015), bias-corrected, with t = step + 1:
 *   m <- beta1 m + (1 - beta1) g          m^ = m / (1 - beta1^t)
 *   v <- beta2 v + (1 - beta2) g^2        v^ = v / (1 - beta2^t)
 *   w <- w - lr * (m^ / (sqrt(v^) + eps) + weightDecay * w)
 * The correction undoes the averages' start at zero: on the first step m^ = g and v^ = g^2, so every
 * coordinate moves by about lr, whatever the gradient's scale.
 */
export const adam = ({ learningRate, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 }: AdamOptions): Optimizer<AdamState> => {
  checkRange("adam", "beta1", beta1, beta1 >= 0 && beta1 < 1, "in [0, 1)");
  checkRange("adam", "beta2", beta2, beta2 >= 0 && beta2 < 1, "in [0, 1)");
  checkRange("adam", "eps", eps, Number.isFinite(eps) && eps > 0, "a finite number > 0");
  return optimizer<AdamState>("adam", ["m", "v"], learningRate, weightDecay, ({ p, g, slots: [m, v], lr, t, decay }) =>
    adamUpdate(p, g, m!, v!, lr, t, { beta1, beta2, eps, decay }));
};
