// The playground's Vite configuration: `npm run playground` serves it, `npm run playground:build`
// writes a static copy to dist/playground (relative URLs: it works from any folder of any host).

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { playgroundFiles } from "./files-plugin.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../..");

export default defineConfig({
  root: here,
  base: "./",
  appType: "mpa", // no index.html fallback: a missing model is a 404, not a page
  publicDir: false,
  clearScreen: false,
  plugins: [playgroundFiles({ repoRoot })],
  // Pre-bundled at start-up, so the page never reloads mid-session to optimize a dependency found late.
  optimizeDeps: { entries: ["index.html"], include: ["immer"] },
  worker: { format: "es" },
  server: {
    host: "localhost",
    port: 5173,
    // Only the page and the engine's source it imports; not the rest of the repository (models/, data/,
    // .git, package files), which Vite's /@fs/ would otherwise serve to anyone who can reach --host.
    fs: { strict: true, allow: [here, ...["autograd", "backend", "data", "nn", "viz"].map((dir) => resolve(repoRoot, "src", dir))] },
  },
  preview: { host: "localhost", port: 4173 },
  build: {
    outDir: resolve(repoRoot, "dist/playground"),
    emptyOutDir: true,
    target: "es2022",
    // The engine is small; one chunk for the page and one for the worker is the right size.
    chunkSizeWarningLimit: 1024,
  },
});
