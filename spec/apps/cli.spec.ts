// The command-line helpers every app shares: flag parsing with suggestions, and a progress line that
// fits the terminal.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { closestFlag, duration, parseFlags, progressLine, UsageError, type FlagSpec } from "../../src/apps/cli.ts";
import { thrownBy } from "../thrown.ts";

const FLAGS: Record<string, FlagSpec> = {
  epochs: { type: "string", help: "" },
  "batch-size": { type: "string", help: "" },
  lr: { type: "string", help: "" },
  help: { type: "boolean", short: "h", help: "" },
};

describe("closestFlag", () => {
  it("names the flag a typo most likely meant: a swap, a missing letter, a missing hyphen", () => {
    const known = Object.keys(FLAGS);
    expect(closestFlag("ephocs", known)).toBe("epochs");
    expect(closestFlag("epoch", known)).toBe("epochs");
    expect(closestFlag("batchsize", known)).toBe("batch-size");
    expect(closestFlag("batch", known)).toBe("batch-size"); // a prefix
  });

  it("suggests nothing for a name far from every flag", () => {
    expect(closestFlag("colour", Object.keys(FLAGS))).toBeNull();
    expect(closestFlag("x", Object.keys(FLAGS))).toBeNull();
  });
});

describe("parseFlags", () => {
  it("refuses an unknown flag with a suggestion, before parsing values", () => {
    expect(thrownBy(() => parseFlags(["--ephocs", "3"], FLAGS), UsageError).message).toBe("unknown flag --ephocs (did you mean --epochs?)");
    expect(thrownBy(() => parseFlags(["--lr=0.1", "--bogus=1"], FLAGS), UsageError).message).toBe("unknown flag --bogus");
    expect(thrownBy(() => parseFlags(["-x"], FLAGS), UsageError).message).toBe("unknown flag -x");
  });

  it("accepts --version on every app, and a negative number as a flag's value", () => {
    expect(parseFlags(["--version"], FLAGS).values.version).toBe(true);
    expect(parseFlags(["--lr", "-1"], FLAGS).values.lr).toBe("-1");
  });
});

describe("progressLine", () => {
  const fields = ["loss 0.1234", "ETA 12s", "23,456 ex/s"];

  it("is never wider than the terminal less one column, for any width and fraction", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (columns, fraction) => {
        expect(progressLine("Epoch 10/10", fraction, columns, fields).length).toBeLessThanOrEqual(Math.max(10, columns - 1));
      }),
    );
  });

  it("keeps every number in 80 columns, and drops the least important first when narrower", () => {
    const wide = progressLine("Epoch 1/10", 0.5, 80, fields);
    for (const f of fields) expect(wide).toContain(f);
    expect(wide).toMatch(/^Epoch 1\/10 \[#+\.+\]  50%/);
    const narrow = progressLine("Epoch 1/10", 0.5, 50, fields);
    expect(narrow).toContain("loss 0.1234");
    expect(narrow).not.toContain("ex/s");
  });

  it("fills the bar in proportion to the fraction done", () => {
    const bar = (f: number) => /\[(#*)(\.*)\]/.exec(progressLine("E", f, 100, []))!;
    expect(bar(0)[1]).toBe("");
    expect(bar(1)[2]).toBe("");
    const half = bar(0.5);
    expect(half[1]!.length).toBe(half[2]!.length);
  });
});

describe("duration", () => {
  it("writes seconds, minutes and hours as a person reads an ETA", () => {
    expect(duration(4.4)).toBe("4s");
    expect(duration(185)).toBe("3m05s");
    expect(duration(3720)).toBe("1h02m");
  });
});
