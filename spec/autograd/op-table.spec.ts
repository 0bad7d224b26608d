// Every row of the op table (op-table.ts) is checked by checkOp, one property at a time across all
// the ops, so each sentence below says which ops it held for. A failure names the op and prints the
// shrunk counterexample.

import { describe, expect, it } from "vitest";
import { checkOp, opChecks, type OpCheck } from "../../src/testing/index.ts";
import { opTable } from "./op-table.ts";

const names = (rows: readonly { name: string }[]): string => rows.map((row) => row.name).join(", ");

describe(`every op of the engine, checked by checkOp on random small shapes: ${names(opTable)}`, () => {
  for (const check of Object.keys(opChecks) as OpCheck[]) {
    const rows = opTable.filter((row) => check !== "broadcasting" || row.broadcasts === true);
    it(`${opChecks[check]} (${rows.length === opTable.length ? `all ${rows.length}` : names(rows)})`, () => {
      for (const row of rows) expect(checkOp(row, { checks: [check] }).passed).toEqual([{ check, runs: expect.any(Number) }]);
    });
  }
});
