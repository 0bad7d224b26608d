import { defineConfig } from "vitest/config";
import { LearningPathReporter, LearningPathSequencer } from "./spec/learning-path-reporter.ts";

// `npm test` is the documentation: every describe/it prints as a sentence, file by file in the order
// of the course in spec/learning-path.ts (values first, the backends' conformance last).
// In CI a JSON report is written too, so .ci/run can print one plain "N passed, N failed" line.
const reporters: (string | LearningPathReporter)[] = [new LearningPathReporter()];
if (process.env.CI) reporters.push("json");

export default defineConfig({
  test: {
    include: ["spec/**/*.spec.ts", "examples/**/*.spec.ts"],
    setupFiles: ["spec/setup.ts"],
    reporters,
    sequence: { sequencer: LearningPathSequencer },
    outputFile: { json: ".vitest-results.json" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: ["src/apps/playground/**", "src/backend/wasm/assembly/**"],
      reporter: ["text-summary"],
      thresholds: {
        "src/autograd/**": { lines: 90 },
        "src/nn/**": { lines: 90 },
        "src/backend/**": { lines: 85 },
      },
    },
  },
});
