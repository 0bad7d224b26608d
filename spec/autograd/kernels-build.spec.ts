import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileKernels, modulePath, renderModule } from "../../src/autograd/kernels/wasm/build.ts";
import { kernelsWasm } from "../../src/autograd/kernels/wasm/kernels.wasm.ts";
import { decodeBase64 } from "../../src/autograd/kernels/wasm/index.ts";

describe("the committed WebAssembly kernels", () => {
  const committed = decodeBase64(kernelsWasm);

  it("are exactly what the AssemblyScript source compiles to", async () => {
    const compiled = await compileKernels();
    const same = compiled.length === committed.length && compiled.every((byte, i) => byte === committed[i]);
    if (!same) {
      expect.fail(
        `src/autograd/kernels/wasm/kernels.wasm.ts (${committed.length} bytes) does not match assembly/matmul.ts ` +
          `(compiles to ${compiled.length} bytes): run \`npx tsx src/autograd/kernels/wasm/build.ts\` and commit`,
      );
    }
  });

  it("sit in the generated module as the build script writes it, unedited", () => {
    expect(readFileSync(modulePath, "utf8")).toBe(renderModule(committed));
  });

  it("are under 4 KB, so a browser page may compile them synchronously", () => {
    expect(committed.length).toBeLessThan(4096);
  });
});
