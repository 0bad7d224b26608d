// The checkpoint reader trusts nothing: each edit below is refused naming the file and the field,
// before any training; the untouched checkpoint is read back exactly.

import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/index.ts";
import { CheckpointError, checkCheckpointFits, readCheckpoint } from "../../src/apps/checkpoint.ts";
import { CONFIG_RULES, configFromJson, differingFlags } from "../../src/apps/run-config.ts";
import { thrownBy } from "../thrown.ts";
import { DATA, editCheckpoint, FILE, runShapeFor, smallConfig, validCheckpoint, validParts, withTensor } from "./checkpoint-fixture.ts";

const valid = validCheckpoint("adam");
/** The message of the CheckpointError that reading `bytes` (and fitting it to its run) throws. */
const refusal = (bytes: Uint8Array): string =>
  thrownBy(() => {
    const c = readCheckpoint(bytes, FILE);
    checkCheckpointFits(c, FILE, runShapeFor(c.info.config));
  }, CheckpointError).message;

describe("readCheckpoint and checkCheckpointFits", () => {
  it("read a valid checkpoint back exactly, for each optimizer", () => {
    for (const optimizer of ["sgd", "momentum", "adam"] as const) {
      const { params, state, info } = validParts(optimizer);
      const c = readCheckpoint(validCheckpoint(optimizer), FILE);
      expect(c.info).toEqual(info);
      expect(c.params).toEqual(params);
      expect(c.optimizerState).toEqual(state);
      checkCheckpointFits(c, FILE, runShapeFor(c.info.config));
    }
  });

  const edits: [string, (m: { info: Record<string, unknown>; paramsTree: unknown; stateTree: unknown }) => void, string][] = [
    ["info null", (m) => void (m.info = null as never), "info is null: expected an object"],
    ["history not a list", (m) => void (m.info.history = "nope"), 'info.history is "nope": expected a list of one record per finished epoch'],
    ["history of the wrong length", (m) => void (m.info.history = []), "info.history holds 0 epoch records, but position.epoch says 1 epochs are finished"],
    ["position.epoch a string", (m) => void ((m.info.position as Record<string, unknown>).epoch = "x"), 'info.position.epoch is "x": expected an integer from 0 to 3'],
    ["position.seen beyond its batches", (m) => void ((m.info.position as Record<string, unknown>).seen = 80), "info.position.seen is 80: expected an integer from 1 to 8"],
    ["config.hidden edited", (m) => void ((m.info.config as Record<string, unknown>).hidden = [5]), 'the parameters do not match the network of info.config (hidden [5], 16 inputs): "dense1.weight" has shape [16, 3], expected [16, 5]'],
    ["config.hidden refused by --hidden's rule", (m) => void ((m.info.config as Record<string, unknown>).hidden = [0]), "info.config.hidden is [0], which --hidden refuses: expected comma-separated positive layer sizes such as 128,64"],
    ["config.lr out of --lr's range", (m) => void ((m.info.config as Record<string, unknown>).lr = -1), "info.config.lr is -1, which --lr refuses: expected a number > 0 and <= 1000000"],
    ["config.optimizer a stranger", (m) => void ((m.info.config as Record<string, unknown>).optimizer = "rmsprop"), 'info.config.optimizer is "rmsprop", which --optimizer refuses: expected one of sgd, momentum, adam'],
    ["config.seed a string", (m) => void ((m.info.config as Record<string, unknown>).seed = "5"), 'info.config.seed is "5": expected a number'],
    ["config with a typo", (m) => void ((m.info.config as Record<string, unknown>).hiden = [3]), "info.config.hiden is not a setting of a run"],
    ["optimizer changed to one with other slots", (m) => void ((m.info.config as Record<string, unknown>).optimizer = "momentum"), 'the optimizer state does not match what momentum keeps for these parameters: the tree has "m", which is not expected (expected step, velocity)'],
    ["rngKey not the seed's", (m) => void (m.info.rngKey = [1, 2, 3, 4]), "info.rngKey is [1,2,3,4]: expected"],
    ["out with a folder", (m) => void (m.info.out = "../elsewhere/m.safetensors"), 'info.out is "../elsewhere/m.safetensors": expected the model file\'s name'],
    ["data of another size", (m) => void ((m.info.data as Record<string, unknown>).rows = 5), "the data does not match the checkpoint: its run trained on 20 training examples of 5x4 pixels"],
    ["data of other classes", (m) => void ((m.info.data as Record<string, unknown>).classNames = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]), "the data does not match the checkpoint: its run trained on 20 training examples of 4x4 pixels in 10 classes (a, b, c, ...)"],
    ["class names that repeat", (m) => void ((m.info.data as Record<string, unknown>).classNames = ["a", "a"]), 'info.data.classNames names "a" twice (entries 0 and 1)'],
    ["a dataset --dataset does not know", (m) => void ((m.info.data as Record<string, unknown>).dataset = "cifar"), 'info.data.dataset is "cifar": expected null or one of mnist, fashion'],
    ["a partial parameter tree", (m) => void delete (m.paramsTree as Record<string, unknown>).dense2, 'the tensor "params.dense2.weight" belongs to no part of the checkpoint'],
    ["a position's seen examples that do not fit its batches", (m) => void ((m.info.position as Record<string, unknown>).batch = 2), "info.position.seen is 8: expected an integer from 9 to 16"],
    ["a position beyond an epoch of this data", (m) => void Object.assign(m.info.position as object, { batch: 5, seen: 40, correct: 3 }), "info.position is batch 5 with 40 examples seen, which is not a place in an epoch of 3 batches of this data"],
  ];
  for (const [what, edit, message] of edits) {
    it(`refuse ${what}, naming the file and the field`, () => {
      const m = refusal(editCheckpoint(valid, edit));
      expect(m.startsWith(`${FILE}: `)).toBe(true);
      expect(m).toContain(message);
    });
  }

  it("refuse optimizer state whose step disagrees with the position, and a tensor of the wrong shape", () => {
    const earlier = editCheckpoint(valid, (m) => {
      (m.info.position as Record<string, unknown>).epoch = 0;
      m.info.history = [];
    });
    expect(refusal(earlier)).toContain(
      "the optimizer state's step is 4, but info.position says 1 updates were done",
    );
    expect(refusal(withTensor(valid, "state.m.dense1.bias", tensor([1, 2])))).toContain('the optimizer state does not match what adam keeps for these parameters: "m.dense1.bias" has shape [2], expected [3]');
  });

  it("refuse a non-finite tensor and an unreadable header, naming the file", () => {
    expect(refusal(withTensor(valid, "state.v.dense2.bias", tensor(Array.from({ length: 10 }, (_, i) => (i === 3 ? NaN : 0)))))).toBe(
      `${FILE}: tensor "state.v.dense2.bias" holds a non-finite value (NaN) at index 3: the model is corrupt or training diverged`,
    );
    expect(refusal(valid.subarray(0, 100))).toMatch(new RegExp(`^${FILE}: not a safetensors file or truncated`));
  });
});

describe("a run's configuration, from flags and from a checkpoint", () => {
  it("is read from JSON by the flags' own rules, so what the flags accept a checkpoint may hold, and nothing else", () => {
    const config = smallConfig("sgd");
    expect(configFromJson(JSON.parse(JSON.stringify(config)), (f, w) => {
      throw new Error(`${f} ${w}`);
    })).toEqual(config);
    expect(Object.values(CONFIG_RULES).map((r) => r.flag)).toEqual(["model", "filters", "epochs", "batch-size", "lr", "optimizer", "schedule", "hidden", "activation", "dropout", "weight-decay", "seed", "val-split", "limit", "shift", "rotate"]);
  });

  it("reads a checkpoint written before --model, --filters, --shift and --rotate existed as the unaugmented MLP run it was", () => {
    const { model: _model, filters: _filters, shift: _shift, rotate: _rotate, ...before } = smallConfig("sgd");
    expect(configFromJson(JSON.parse(JSON.stringify(before)), (f, w) => {
      throw new Error(`${f} ${w}`);
    })).toEqual(smallConfig("sgd"));
  });

  it("names the flags a resume would change, with the run's values", () => {
    const run = smallConfig("adam");
    const given = { ...run, lr: 0.5, seed: 2, epochs: 10 };
    expect(differingFlags(given, run, new Set(["lr", "seed", "epochs", "hidden"]))).toEqual(["--lr 0.5 (the run's: 0.05)", "--seed 2 (the run's: 5)"]);
    expect(DATA.count).toBe(20);
  });
});
