// The course `npm test` prints (spec/learning-path.ts) stays whole: every spec file is on it, and
// every file it names exists.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inCourseOrder, learningPath, placeOf } from "./learning-path.ts";

const specFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return specFiles(path);
    return entry.name.endsWith(".spec.ts") ? [path] : [];
  });

const files = [...specFiles("spec"), ...specFiles("examples")];

describe("the learning path of npm test", () => {
  it("places every spec file on a chapter, by name or by its folder", () => {
    const unplaced = files.filter((path) => placeOf(path)[0] === learningPath.length);
    expect(unplaced, "add these to the chapter they teach in spec/learning-path.ts").toEqual([]);
  });

  it("names only spec files that exist", () => {
    const named = learningPath.flatMap((chapter) => chapter.files.filter((entry) => !entry.endsWith("/")));
    expect(named.filter((path) => !files.includes(path))).toEqual([]);
  });

  it("starts with values and broadcasting and ends with the backends, the apps after the data", () => {
    const order = inCourseOrder(files, (path) => path);
    expect(order[0]).toBe("spec/autograd/values.spec.ts");
    expect(placeOf(order.at(-1)!)[0]).toBe(learningPath.length - 1);
    expect(order.indexOf("spec/data/mnist.spec.ts")).toBeLessThan(order.indexOf("spec/apps/train.spec.ts"));
    expect(order.indexOf("spec/nn/losses.spec.ts")).toBeLessThan(order.indexOf("spec/nn/worked-example.spec.ts"));
  });
});
