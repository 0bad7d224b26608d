import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatTick, niceDomain, niceTicks, ticksEvery } from "../../src/viz/ticks.ts";

const isRound = (step: number): boolean => {
  const m = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
  return [1, 2, 5, 10].some((r) => Math.abs(m - r) < 1e-9);
};

describe("niceTicks", () => {
  it("chooses steps of 1, 2 or 5 times a power of ten, not the range cut in equal parts", () => {
    expect(niceTicks(0.007, 0.365, 4)).toEqual({ ticks: [0.1, 0.2, 0.3], step: 0.1 });
    expect(niceTicks(0, 1, 5).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 10, 5).ticks).toEqual([2, 4, 6, 8, 10]);
  });

  it("gives round ticks inside the range, about as many as asked, for any finite range", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.integer({ min: 2, max: 10 }), (lo, w, target) => {
        const hi = lo + Math.max(w, 1e-6 * Math.abs(lo)); // a range float64 can tell from a point
        fc.pre(hi > lo);
        const { ticks, step } = niceTicks(lo, hi, target);
        expect(isRound(step)).toBe(true);
        expect(ticks.length).toBeGreaterThanOrEqual(1);
        expect(ticks.length).toBeLessThanOrEqual(2 * target + 1);
        for (const t of ticks) {
          expect(t).toBeGreaterThanOrEqual(lo - step * 1e-6);
          expect(t).toBeLessThanOrEqual(hi + step * 1e-6);
        }
      }),
    );
  });
});

describe("niceDomain", () => {
  it("widens a range outwards to whole steps, so the axis starts and ends on a labelled tick", () => {
    expect(niceDomain(0.031, 0.34, 5)).toEqual({ lo: 0, hi: 0.4, step: 0.1, ticks: [0, 0.1, 0.2, 0.3, 0.4] });
    expect(niceDomain(0.031, 0.34, 8)).toEqual({ lo: 0, hi: 0.35, step: 0.05, ticks: [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35] });
    const d = niceDomain(0.9, 0.987, 5);
    expect(d.ticks[0]).toBe(d.lo);
    expect(d.ticks.at(-1)).toBe(d.hi);
    expect(d.lo).toBeLessThanOrEqual(0.9);
    expect(d.hi).toBeGreaterThanOrEqual(0.987);
  });

  it("makes an empty or one-value range into a usable one", () => {
    expect(niceDomain(0, 0).hi).toBeGreaterThan(0);
    const one = niceDomain(2, 2);
    expect(one.lo).toBeLessThan(2);
    expect(one.hi).toBeGreaterThan(2);
  });
});

describe("ticksEvery and formatTick", () => {
  it("list the multiples of the step without float noise, and write them with the decimals the step needs", () => {
    expect(ticksEvery(0, 0.3, 0.1)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(ticksEvery(0, 0.3, 0.1).map((v) => formatTick(v, 0.1))).toEqual(["0", "0.1", "0.2", "0.3"]);
    expect(formatTick(0.25, 0.05)).toBe("0.25");
    expect(formatTick(-0.1, 0.1)).toBe("\u22120.1"); // a typographic minus
    expect(formatTick(20000, 5000)).toBe("20,000");
    expect(formatTick(2.5e-7, 5e-8)).toBe("2.5e-7");
  });
});
