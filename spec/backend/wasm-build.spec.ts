import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileKernels, modulePath, renderModule } from "../../src/backend/wasm/build.ts";
import { decodeBase64 } from "../../src/backend/wasm/index.ts";
import { kernelsWasm } from "../../src/backend/wasm/kernels.wasm.ts";

describe("the committed WebAssembly kernels", () => {
  const committed = decodeBase64(kernelsWasm);

  it("are exactly what the AssemblyScript source compiles to", async () => {
    const compiled = await compileKernels();
    const same = compiled.length === committed.length && compiled.every((byte, i) => byte === committed[i]);
    if (!same) {
      expect.fail(
        `src/backend/wasm/kernels.wasm.ts (${committed.length} bytes) does not match assembly/kernels.ts ` +
          `(compiles to ${compiled.length} bytes): run \`npx tsx src/backend/wasm/build.ts\` and commit`,
      );
    }
  });

  it("sit in the generated module as the build script writes it, unedited", () => {
    expect(readFileSync(modulePath, "utf8")).toBe(renderModule(committed));
  });
});
