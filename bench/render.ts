// Time to render SVG to PNG with resvg (WebAssembly): the first call (compiling the module, reading
// the fonts) and the median of five renders of each SVG in a folder.
//
//   npx tsx src/apps/visualize.ts --format svg --out /tmp/svg && npx tsx bench/render.ts /tmp/svg

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { svgToPng } from "../src/viz/render.ts";

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write("usage: npx tsx bench/render.ts DIR   (a folder of .svg files, e.g. from visualize.ts --format svg)\n");
  process.exit(2);
}
const start = performance.now();
await svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
process.stdout.write(`first call (compile the WebAssembly module, read the fonts): ${(performance.now() - start).toFixed(0)} ms\n`);
for (const name of readdirSync(dir).filter((f) => f.endsWith(".svg")).sort()) {
  const svg = readFileSync(join(dir, name), "utf8");
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await svgToPng(svg);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(`${name.padEnd(24)} ${(svg.length / 1024).toFixed(0).padStart(5)} KB of SVG  median ${times[2]!.toFixed(0).padStart(4)} ms\n`);
}
