// Round tick values for axes and colour bars: steps of 1, 2 or 5 times a power of ten, as
// matplotlib's and d3's default locators choose them, written with the decimals the step needs.

/** The multiples of `step` in [lo, hi] (ends included up to rounding). */
export const ticksEvery = (lo: number, hi: number, step: number): number[] => {
  const ticks: number[] = [];
  const eps = step * 1e-9;
  for (let k = Math.ceil((lo - eps) / step); k * step <= hi + eps; k++) ticks.push(Number((k * step).toPrecision(12)) + 0); // + 0: no "-0"
  return ticks;
};

/** The round step for about `target` intervals over [lo, hi]: 1, 2 or 5 times a power of ten. */
export const niceStep = (lo: number, hi: number, target = 5): number => {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return 1;
  const raw = (hi - lo) / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const tol = 1e-9; // raw = 0.02 may come out as 2.0000000000000004 * 0.01
  return (f <= 1 + tol ? 1 : f <= 2 + tol ? 2 : f <= 5 + tol ? 5 : 10) * power;
};

/** Round ticks covering [lo, hi], about `target` of them (fewer where the range is short). */
export const niceTicks = (lo: number, hi: number, target = 5): { ticks: number[]; step: number } => {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return { ticks: Number.isFinite(lo) ? [lo] : [], step: 1 };
  const step = niceStep(lo, hi, target);
  return { ticks: ticksEvery(lo, hi, step), step };
};

/** [lo, hi] widened outwards to whole steps, with the ticks of that range: an axis that starts and ends on a label. */
export const niceDomain = (lo: number, hi: number, target = 5): { lo: number; hi: number; step: number; ticks: number[] } => {
  let [a, b] = [lo, hi];
  if (!Number.isFinite(a) || !Number.isFinite(b)) [a, b] = [0, 1];
  if (b <= a) [a, b] = a === 0 ? [0, 1] : [a - Math.abs(a) * 0.1, b + Math.abs(b) * 0.1];
  const step = niceStep(a, b, target);
  const from = Number((Math.floor(a / step + 1e-9) * step).toPrecision(12));
  const to = Number((Math.ceil(b / step - 1e-9) * step).toPrecision(12));
  return { lo: from, hi: to, step, ticks: ticksEvery(from, to, step) };
};

/** A tick value with as many decimals as its step needs ("0.25", "1500", "1e-6"); minus as U+2212. */
export const formatTick = (v: number, step: number): string => {
  if (v === 0) return "0";
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  let s: string;
  if (decimals > 5 || Math.abs(v) >= 1e7) {
    // Mantissa digits: as many as separate v's leading digit from the step's (2.5e-7 with step 5e-8: one).
    const digits = Math.floor(Math.log10(Math.abs(v)) + 1e-9) - Math.floor(Math.log10(step) + 1e-9);
    s = v.toExponential(Math.max(0, Math.min(3, digits))).replace("e+", "e");
  } else s = Math.abs(v) >= 1e4 && decimals === 0 ? v.toLocaleString("en-US") : v.toFixed(decimals);
  return s.replace(/^-/, "\u2212");
};
