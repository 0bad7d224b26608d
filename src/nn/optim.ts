// Optimizers as pairs of pure functions over parameter trees (as in JAX's optax):
//   init(params)                  -> state    { step: 0, ...one zero tensor per parameter and slot }
//   update(grads, state, params)  -> { params, state }
// Nothing is stored anywhere else, so a checkpoint of { params, state } restores training exactly.
// Each leaf is updated by one plain loop over typed arrays into fresh arrays (inputs are never
// written); immer then sets the new leaves into new trees, sharing nothing mutable.
//
// Donation (opt-in, as JAX's donate_argnums): update(grads, state, params, { donate: true }) promises
// that the caller will never use these grads, state and params again. The new parameters and slots
// are then written into the old ones' buffers (the old tensors are marked donated: any op given them
// throws), and the gradients' buffers go to the kernels' free-list for the next
// step's products. The values are bit for bit those of the default update; only the memory is
// reused, which spares the page faults of fresh large arrays on every step. Leaves that do not own
// their whole buffer (views into a loaded file) or that share one with another leaf get fresh arrays.
//
// Weight decay is decoupled (Loshchilov & Hutter, "Decoupled weight decay regularization", 2019):
// the step adds lr * weightDecay * w for leaves named "weight" (never biases), outside the
// gradient, so momentum's velocity and Adam's moments never see it. For plain SGD this is the same
// as adding (weightDecay / 2) |w|^2 to the loss (L2); for Adam it is AdamW.

import { produce } from "immer";
import { recycle, takeOver, Tensor, treeLeaves, treeMap, unsettledData, zerosLike, type TypedArray } from "../autograd/index.ts";
import { sgdStep } from "../autograd/kernels/update.ts";
import type { Schedule } from "./schedule.ts";
import { assignAt, freezeTree, isWeight, leavesLike, setLeaves, type Params } from "./tree.ts";

/** A fixed rate, or a schedule giving the rate for each step (0 for the first update). */
export type LearningRate = number | Schedule;

export interface OptimizerState {
  /** Updates done so far: 0 after init. The schedule is read at this step; Adam's t is step + 1. */
  readonly step: number;
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

export interface UpdateOptions {
  /**
   * Hand over grads, state and params: they must not be used after the call (their data is
   * detached, and ops given them throw). The result is the same; its memory is theirs. Default false.
   */
  readonly donate?: boolean;
}

export interface Optimizer<S extends OptimizerState = OptimizerState> {
  init(params: Params): S;
  update<P extends Params>(grads: P, state: S, params: P, options?: UpdateOptions): { readonly params: P; readonly state: S };
}

interface LeafStep {
  readonly p: TypedArray; // the parameter
  readonly g: TypedArray; // its gradient
  readonly slots: readonly TypedArray[]; // its optimizer slots (velocity; m, v)
  readonly pOut: TypedArray; // where the new parameter goes
  readonly slotsOut: readonly TypedArray[]; // where the new slots go
  readonly lr: number;
  readonly decay: number; // weightDecay for weights, 0 for the rest
  readonly t: number; // 1 for the first update
}

const like = (t: Tensor): TypedArray => (t.dtype === "float64" ? new Float64Array(t.size) : new Float32Array(t.size));

const checkRange = (who: string, name: string, v: number, ok: boolean, what: string) => {
  if (!ok) throw new RangeError(`${who}: ${name} must be ${what}, got ${v}`);
};

const checkRate = (who: string, learningRate: LearningRate): void => {
  if (typeof learningRate !== "function") {
    checkRange(who, "learningRate", learningRate, Number.isFinite(learningRate) && learningRate >= 0, "a finite number >= 0 or a schedule");
  }
};

/**
 * The shared skeleton: validate, line the trees up by path, run `rule` once per leaf, rebuild the trees.
 * inKernel: the rule hands p and g to the engine's kernels, which find values a kernel left in its
 * own memory (../autograd/kernels/deferred.ts), so they are passed unsettled; a rule that reads them
 * in JavaScript gets them settled.
 */
const optimizer = <S extends OptimizerState>(
  who: string,
  slots: readonly string[],
  learningRate: LearningRate,
  weightDecay: number,
  inKernel: boolean,
  rule: (leaf: LeafStep) => void,
): Optimizer<S> => {
  const arrayOf = inKernel ? unsettledData : (t: Tensor) => t.data;
  checkRate(who, learningRate);
  checkRange(who, "weightDecay", weightDecay, Number.isFinite(weightDecay) && weightDecay >= 0, "a finite number >= 0");
  return {
    init: (params) => {
      const state: Record<string, unknown> = { step: 0 };
      for (const s of slots) state[s] = treeMap(params, zerosLike);
      return freezeTree(state as unknown as S & Params);
    },
    update: (grads, state, params, { donate = false } = {}) => {
      const step = state.step;
      if (!Number.isInteger(step) || step < 0) throw new RangeError(`${who}: state.step must be a non-negative integer, got ${step}`);
      const lr = typeof learningRate === "number" ? learningRate : learningRate(step);
      if (!(Number.isFinite(lr) && lr >= 0)) throw new RangeError(`${who}: the schedule gave learning rate ${lr} at step ${step}`);
      const g = leavesLike(who, "grads", grads, params);
      const slotLeaves = slots.map((s) => leavesLike(who, `state.${s}`, (state as unknown as Record<string, Params>)[s]!, params));
      const leaves = treeLeaves(params);
      // Donated buffers are written in place only when no other leaf reads the same buffer.
      const shared = donate ? sharedBuffers([...leaves.map(({ leaf }) => leaf), ...g.values(), ...slotLeaves.flatMap((m) => [...m.values()])]) : null;
      const output = (t: Tensor): { data: TypedArray; input: TypedArray } => {
        const input = arrayOf(t);
        const taken = shared !== null && !shared.has(input.buffer) ? takeOver(t) : null;
        // In place: read the old array and write the new one over the same memory (kernels that keep
        // a copy of the old array, such as the WebAssembly SGD step, then read that copy).
        return { data: taken ?? like(t), input };
      };
      const newParams: [string, Tensor][] = [];
      const newSlots: [string, Tensor][][] = slots.map(() => []);
      for (const { path, leaf: p } of leaves) {
        const pOut = output(p);
        const slotsOut = slotLeaves.map((m) => output(m.get(path)!));
        // Each rule reads element i of every input before writing element i of its outputs, so
        // writing into an input's own buffer gives the same values as writing into a fresh one.
        rule({
          p: pOut.input,
          g: arrayOf(g.get(path)!),
          slots: slotsOut.map((o) => o.input),
          pOut: pOut.data,
          slotsOut: slotsOut.map((o) => o.data),
          lr,
          decay: isWeight(path) ? weightDecay : 0,
          t: step + 1,
        });
        newParams.push([path, new Tensor(pOut.data, p.shape)]);
        slotsOut.forEach(({ data }, k) => newSlots[k]!.push([path, new Tensor(data, p.shape)]));
      }
      if (shared !== null) for (const t of g.values()) if (!shared.has(unsettledData(t).buffer)) recycle(t);
      const nextState = produce(state, (draft) => {
        const d = draft as unknown as Record<string, object> & { step: number };
        d.step = step + 1;
        slots.forEach((s, k) => newSlots[k]!.forEach(([path, leaf]) => assignAt(d[s]!, path, leaf)));
      });
      return { params: setLeaves(params, newParams), state: nextState as S };
    },
  };
};

/** The buffers that more than one of these tensors' data lives in. */
const sharedBuffers = (tensors: readonly Tensor[]): Set<ArrayBufferLike> => {
  const seen = new Set<ArrayBufferLike>();
  const shared = new Set<ArrayBufferLike>();
  for (const t of tensors) {
    const buffer = unsettledData(t).buffer;
    if (seen.has(buffer)) shared.add(buffer);
    seen.add(buffer);
  }
  return shared;
};

export interface SgdOptions {
  readonly learningRate: LearningRate;
  /** Decoupled weight decay on leaves named "weight" (0 by default). */
  readonly weightDecay?: number;
}

/**
 * Gradient descent: w <- w - lr * (g + weightDecay * w). The loop is sgdStep (a kernel of the engine,
 * on WebAssembly SIMD for float32, the same bits as the plain loop it is checked against).
 */
export const sgd = ({ learningRate, weightDecay = 0 }: SgdOptions): Optimizer<SgdState> =>
  optimizer<SgdState>("sgd", [], learningRate, weightDecay, true, ({ p, g, pOut, lr, decay }) => sgdStep(p, g, pOut, lr, decay, true));

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
  return optimizer<MomentumState>("momentum", ["velocity"], learningRate, weightDecay, false, ({ p, g, slots: [v], pOut, slotsOut: [vOut], lr, decay }) => {
    for (let i = 0; i < p.length; i++) {
      const vi = mu * v![i]! + g[i]!;
      vOut![i] = vi;
      pOut[i] = p[i]! - lr * ((nesterov ? g[i]! + mu * vi : vi) + decay * p[i]!);
    }
  });
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
  return optimizer<AdamState>("adam", ["m", "v"], learningRate, weightDecay, false, ({ p, g, slots: [m, v], pOut, slotsOut: [mOut, vOut], lr, decay, t }) => {
    const c1 = 1 / (1 - beta1 ** t);
    const c2 = 1 / (1 - beta2 ** t);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      const mi = beta1 * m![i]! + (1 - beta1) * gi;
      const vi = beta2 * v![i]! + (1 - beta2) * gi * gi;
      mOut![i] = mi;
      vOut![i] = vi;
      pOut[i] = p[i]! - lr * ((mi * c1) / (Math.sqrt(vi * c2) + eps) + decay * p[i]!);
    }
  });
};
