import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileKernels, modulePath, renderModule } from "../../src/autograd/kernels/wasm/build.ts";
import { kernelsWasm } from "../../src/autograd/kernels/wasm/kernels.wasm.ts";
import { decodeBase64, loadSimdKernelsAsync, simd, simdReady } from "../../src/autograd/kernels/wasm/index.ts";

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

  it("are ready at once where they compile synchronously (Node); compiled asynchronously, as a page must where browsers limit synchronous compiles to 4 KB, they compute the same", async () => {
    expect(simd).not.toBeNull();
    expect(await simdReady).toBe(simd);
    const later = (await loadSimdKernelsAsync())!;
    const a = Float32Array.from({ length: 6 * 10 }, (_, i) => (i % 3 === 0 ? 0 : Math.sin(i)));
    const b = Float32Array.from({ length: 10 * 7 }, (_, i) => Math.cos(i));
    expect(Array.from(later.matmulNN(a, b, 6, 10, 7))).toEqual(Array.from(simd!.matmulNN(a, b, 6, 10, 7)));
  });
});
