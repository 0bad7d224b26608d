// The playground's end-to-end test, in a real browser (npm run test:browser). Kept out of `npm test`,
// whose include is spec/**/*.spec.ts: it needs Chromium (apt-get install chromium) and about half a minute.

import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["spec/playground/**/*.e2e.ts"],
    reporters: ["tree"],
    testTimeout: 45_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    fileParallelism: false,
    coverage: { enabled: false },
  },
});
