// Does predict.ts's preprocessing undo the ways people hand us digits? For MNIST test digits chosen
// by a seeded permutation, each is drawn the way a person might: black ink on white paper, enlarged
// 3 to 8 times (bilinear), somewhere off-centre on a larger canvas (renderDigit). The picture is
// encoded as PNG, decoded, preprocessed exactly as predict.ts does, and classified. Reported: how
// often that prediction equals the prediction on the raw 28x28 array, and how often each equals the
// true label.
//
//   npx tsx bench/predict-robustness.ts [--model FILE] [--count 300] [--seed 1]

import { argmax, tensor } from "../src/autograd/index.ts";
import { decodeImage, encodePng } from "../src/data/image-io.ts";
import { preprocess, renderDigit } from "../src/data/preprocess.ts";
import { chosenTestDigits } from "./test-digits.ts";

const { flags, seed, model, net, n, rng, chosen, uniform, raw, labels, digit: digitAt } = chosenTestDigits();

const seen = new Float32Array(n * 784);
const scales = new Float64Array(n);
let pixelsTotal = 0;
const t0 = performance.now();
for (let k = 0; k < n; k++) {
  const digit = digitAt(k);
  // Enlarged 3-8x on a canvas 1.2-2.5 times the enlarged digit in each direction, placed anywhere
  // on it (the whole 28x28 square stays on the canvas), black ink on white.
  const scale = uniform(3, 8);
  const side = 28 * scale;
  const canvasW = Math.round(side * uniform(1.2, 2.5));
  const canvasH = Math.round(side * uniform(1.2, 2.5));
  const picture = renderDigit(digit, { scale, invert: true, canvasW, canvasH, offsetX: uniform(0, canvasW - side), offsetY: uniform(0, canvasH - side) });
  const decoded = decodeImage(encodePng(picture.width, picture.height, picture.rgba), `test digit ${chosen[k]}`);
  seen.set(preprocess(decoded.rgba, decoded.width, decoded.height).pixels, k * 784);
  scales[k] = scale;
  pixelsTotal += canvasW * canvasH;
}
const seconds = (performance.now() - t0) / 1000;

const predictRaw = argmax(net.apply(model.params, tensor(raw, [n, 784])), -1).data;
const predictSeen = argmax(net.apply(model.params, tensor(seen, [n, 784])), -1).data;

const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(1)}% (${a}/${b})`;
const tally = (keep: (k: number) => boolean) => {
  let total = 0, agree = 0, rawRight = 0, seenRight = 0;
  for (let k = 0; k < n; k++) {
    if (!keep(k)) continue;
    total++;
    if (predictSeen[k] === predictRaw[k]) agree++;
    if (predictRaw[k] === labels[k]) rawRight++;
    if (predictSeen[k] === labels[k]) seenRight++;
  }
  return { total, agree, rawRight, seenRight };
};

console.log(`model ${flags.model} [${model.config.architecture.join(", ")}], ${n} MNIST test digits (seed ${seed})`);
console.log(`drawn black on white, scale 3-8, off-centre on canvases averaging ${Math.round(pixelsTotal / n).toLocaleString("en-US")} pixels; PNG round trip + preprocess took ${seconds.toFixed(1)} s`);
const all = tally(() => true);
console.log(`prediction on the picture = prediction on the raw array: ${pct(all.agree, all.total)}`);
console.log(`prediction on the raw array = true label:                ${pct(all.rawRight, all.total)}`);
console.log(`prediction on the picture = true label:                  ${pct(all.seenRight, all.total)}`);
console.log("by scale:");
for (let lo = 3; lo < 8; lo++) {
  const t = tally((k) => scales[k]! >= lo && scales[k]! < lo + 1);
  if (t.total > 0) console.log(`  ${lo}-${lo + 1}x: agree ${pct(t.agree, t.total)}, raw correct ${pct(t.rawRight, t.total)}, picture correct ${pct(t.seenRight, t.total)}`);
}
const disagreements = Array.from({ length: n }, (_, k) => k).filter((k) => predictSeen[k] !== predictRaw[k]);
for (const k of disagreements) {
  console.log(`  differs: test digit ${chosen[k]} (label ${labels[k]}) at scale ${scales[k]!.toFixed(1)}: raw array -> ${predictRaw[k]}, picture -> ${predictSeen[k]}`);
}
