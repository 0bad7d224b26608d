// Fuzzing the checkpoint loader as train.ts --resume uses it (readCheckpoint, then checkCheckpointFits
// against what the run builds): random edits of a valid checkpoint's JSON (info, the parameter and
// state trees) and of its bytes. Every result either loads correctly (it trains: a real step runs on
// it, and it writes back to the same checkpoint) or is refused with the loader's own error naming
// the file. Never another exception, never a checkpoint that loads and then fails.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { valueAndGrad } from "../../src/autograd/index.ts";
import { checkpointBytes, CheckpointError, checkCheckpointFits, readCheckpoint, type Checkpoint } from "../../src/apps/checkpoint.ts";
import { makeNetwork } from "../../src/apps/run-config.ts";
import { softmaxCrossEntropy, treeMismatch, type Params, type Tree } from "../../src/nn/index.ts";
import { editCheckpoint, FILE, runShapeFor, smallBatch, validCheckpoint } from "./checkpoint-fixture.ts";

type Outcome = { ok: Checkpoint } | { error: CheckpointError };

/** Loads as a resume does; any exception but the loader's own fails the property. */
const attempt = (bytes: Uint8Array): Outcome => {
  try {
    const c = readCheckpoint(bytes, FILE);
    checkCheckpointFits(c, FILE, runShapeFor(c.info.config));
    return { ok: c };
  } catch (e) {
    if (e instanceof CheckpointError) return { error: e };
    throw e;
  }
};

/** A loaded checkpoint is usable: its trees are the run's, a training step runs on it, and it writes back the same. */
const expectUsable = (c: Checkpoint): void => {
  const shape = runShapeFor(c.info.config);
  expect(treeMismatch(shape.params, c.params)).toBeNull();
  expect(treeMismatch(shape.optimizer.init(c.params) as unknown as Tree, c.optimizerState as unknown as Tree)).toBeNull();
  const { net } = makeNetwork(c.info.config, { rows: 4, cols: 4, classes: 10 });
  const { x, labels } = smallBatch(9);
  const { grads } = valueAndGrad((p: Params) => softmaxCrossEntropy(net.apply(p, x), labels))(c.params);
  const next = shape.optimizer.update(grads, c.optimizerState, c.params);
  expect(treeMismatch(c.params, next.params)).toBeNull();
  expect(readCheckpoint(checkpointBytes(c), FILE).info).toEqual(c.info);
};

const expectFaithful = (outcome: Outcome): void => {
  if ("error" in outcome) expect(outcome.error.message.startsWith(`${FILE}: `)).toBe(true);
  else expectUsable(outcome.ok);
};

/** Every path into a JSON value: [] is the value itself. */
const pathsOf = (v: unknown, at: (string | number)[] = []): (string | number)[][] => {
  const inner = Array.isArray(v) ? v.map((x, i) => pathsOf(x, [...at, i])) : v !== null && typeof v === "object" ? Object.entries(v).map(([k, x]) => pathsOf(x, [...at, k])) : [];
  return [at, ...inner.flat()];
};

type JsonEdit = { doc: "info" | "paramsTree" | "stateTree"; pick: number; action: "replace" | "delete" | "add"; value: unknown };

const jsonEdits: fc.Arbitrary<JsonEdit> = fc.record({
  doc: fc.constantFrom("info" as const, "info" as const, "info" as const, "paramsTree" as const, "stateTree" as const),
  pick: fc.nat(),
  action: fc.constantFrom("replace" as const, "replace" as const, "delete" as const, "add" as const),
  // Plausible values (numbers near the real ones, small lists) as well as any JSON.
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.integer({ min: -3, max: 40 }), fc.double({ noNaN: true, min: -2, max: 2 }), fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }), fc.constant(null)),
});

const applyEdit = (meta: Record<JsonEdit["doc"], unknown>, e: JsonEdit): void => {
  const paths = pathsOf(meta[e.doc]);
  const path = paths[e.pick % paths.length]!;
  if (path.length === 0) {
    if (e.action === "replace") meta[e.doc] = e.value;
    return;
  }
  let parent = meta[e.doc] as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  if (e.action === "replace") parent[key] = e.value;
  else if (e.action === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (Array.isArray(parent)) parent.push(e.value);
  else parent[`${String(key)}x`] = e.value;
};

type ByteEdit = { kind: "truncate"; at: number } | { kind: "set"; at: number; value: number } | { kind: "append"; extra: Uint8Array };
const byteEdits: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("append" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
);
const applyBytes = (bytes: Uint8Array, e: ByteEdit): Uint8Array => {
  const out = new Uint8Array(bytes);
  switch (e.kind) {
    case "truncate":
      return out.subarray(0, e.at % (bytes.length + 1));
    case "set":
      if (bytes.length > 0) out[e.at % bytes.length] = e.value;
      return out;
    case "append":
      return Uint8Array.from([...bytes, ...e.extra]);
  }
};

describe("the checkpoint loader, fuzzed", () => {
  const valid = { sgd: validCheckpoint("sgd"), momentum: validCheckpoint("momentum"), adam: validCheckpoint("adam") };
  const optimizers = fc.constantFrom("sgd" as const, "momentum" as const, "adam" as const);

  it("loads each optimizer's valid checkpoint as a usable one", () => {
    for (const bytes of Object.values(valid)) expectFaithful(attempt(bytes));
  });

  it("loads JSON-edited checkpoints correctly or refuses them naming the file", () => {
    let refused = 0;
    fc.assert(
      fc.property(optimizers, fc.array(jsonEdits, { minLength: 1, maxLength: 3 }), (optimizer, edits) => {
        const bytes = editCheckpoint(valid[optimizer], (meta) => {
          for (const e of edits) applyEdit(meta as Record<JsonEdit["doc"], unknown>, e);
        });
        const outcome = attempt(bytes);
        if ("error" in outcome) refused++;
        expectFaithful(outcome);
      }),
      { numRuns: 400 },
    );
    expect(refused).toBeGreaterThan(200); // most random edits break something, and are caught
  });

  it("loads byte-damaged checkpoints correctly or refuses them naming the file", () => {
    fc.assert(
      fc.property(optimizers, fc.array(byteEdits, { minLength: 1, maxLength: 3 }), (optimizer, edits) => {
        expectFaithful(attempt(edits.reduce(applyBytes, valid[optimizer])));
      }),
      { numRuns: 300 },
    );
  });
});
