// gradcheck: compare the engine's Jacobian with central differences, element by element, in
// float64, with PyTorch's default tolerances (eps 1e-6, atol 1e-5, rtol 1e-3). For every output
// element j the engine's vjp with a one-hot cotangent gives row j of the Jacobian; for every input
// element p, (f(x + eps e_p) - f(x - eps e_p)) / 2 eps gives column p.

import { vjp } from "./grad.ts";
import { ShapeError } from "./shape.ts";
import { Tensor } from "./tensor.ts";

export interface GradcheckOptions {
  readonly eps?: number;
  readonly atol?: number;
  readonly rtol?: number;
}

export interface GradcheckResult {
  /** True when every entry satisfies |analytic - numeric| <= atol + rtol * |numeric|. */
  readonly ok: boolean;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** The worst entry: input number, flat index in that input, output index, and both values. */
  readonly worst: { input: number; index: number; output: number; analytic: number; numeric: number } | null;
  readonly message: string;
}

export const gradcheck = (f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult => {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3 } = options;
  inputs.forEach((x, i) => {
    if (x.dtype !== "float64") throw new ShapeError(`gradcheck: input ${i} is ${x.dtype}; gradients are checked in float64 (cast it first)`);
  });
  const { out, backward } = vjp(f, ...inputs);
  if (out.dtype !== "float64") throw new ShapeError(`gradcheck: f returned ${out.dtype}; it must compute in float64`);

  // Analytic Jacobian, one row per output element.
  const analytic: Float64Array[][] = [];
  for (let j = 0; j < out.size; j++) {
    const seed = new Float64Array(out.size);
    seed[j] = 1;
    analytic.push(backward(new Tensor(seed, out.shape)).map((g) => g.data as Float64Array));
  }

  let maxAbsError = 0;
  let maxRelError = 0;
  let worstRatio = -1;
  let worst: GradcheckResult["worst"] = null;
  let ok = true;
  inputs.forEach((x, i) => {
    for (let p = 0; p < x.size; p++) {
      const shifted = (delta: number) => {
        const data = Float64Array.from(x.data);
        data[p] = data[p]! + delta;
        const args = inputs.map((y, k) => (k === i ? new Tensor(data, x.shape) : y));
        return f(...args).data;
      };
      const plus = shifted(eps);
      const minus = shifted(-eps);
      for (let j = 0; j < out.size; j++) {
        const numeric = (plus[j]! - minus[j]!) / (2 * eps);
        const a = analytic[j]![i]![p]!;
        const abs = Math.abs(a - numeric);
        const rel = abs / Math.max(Math.abs(numeric), 1e-12);
        maxAbsError = Math.max(maxAbsError, abs);
        if (abs > atol) maxRelError = Math.max(maxRelError, rel);
        const ratio = abs / (atol + rtol * Math.abs(numeric));
        if (!(ratio <= 1)) ok = false; // NaN fails too
        if (ratio > worstRatio || Number.isNaN(ratio)) {
          worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
          worst = { input: i, index: p, output: j, analytic: a, numeric };
        }
      }
    }
  });
  const w = worst as GradcheckResult["worst"];
  const message = ok
    ? `gradcheck passed: max abs error ${maxAbsError.toExponential(2)}`
    : `gradcheck failed: input ${w!.input}, element ${w!.index}, output ${w!.output}: analytic ${w!.analytic} vs numeric ${w!.numeric} (atol ${atol}, rtol ${rtol})`;
  return { ok, maxAbsError, maxRelError, worst: w, message };
};
