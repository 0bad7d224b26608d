// predict.ts on photo-like pictures: MNIST test digits (chosen by a seeded permutation) drawn as a
// phone photo of a digit on paper might show them: dark ink on light paper, enlarged 6-14 times,
// rotated up to 15 degrees, off-centre; half of them with a thin pen (the strokes' centre lines,
// redrawn 1-2% of the digit's size wide); lit unevenly (light from one side, a vignette, or both, the darkest
// paper at 35-60% of the brightest); blurred (a 3x3 or 5x5 box) and with Gaussian noise (sigma
// 0.01-0.04). Each picture is preprocessed as predict.ts does, with and without the lighting and
// stroke steps, and classified. Reported: how often each finds a digit at all, and how often the
// prediction equals the true label and the prediction on the raw 28x28 array.
//
//   npx tsx bench/predict-photos.ts [--model FILE] [--count 300] [--seed 1] [--save DIR]

import { argmax, tensor } from "../src/autograd/index.ts";
import { createImage, type Image } from "../src/data/image.ts";
import { encodePng } from "../src/data/image-io.ts";
import { writeFileAtomic } from "../src/data/files.ts";
import { preprocess, PreprocessError } from "../src/data/preprocess.ts";
import { chosenTestDigits } from "./test-digits.ts";

const { flags, seed, model, net, n, rng, chosen, uniform, raw, labels, digit: digitAt } = chosenTestDigits({ save: { type: "string" } });
const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat());

/** The digit's value at a point of its 28x28 grid (bilinear between pixel centres, 0 outside). */
const sample = (digit: Float32Array, x: number, y: number): number => {
  const [x0, y0] = [Math.floor(x - 0.5), Math.floor(y - 0.5)];
  const [fx, fy] = [x - 0.5 - x0, y - 0.5 - y0];
  const at = (cx: number, cy: number) => (cx < 0 || cy < 0 || cx > 27 || cy > 27 ? 0 : digit[cy * 28 + cx]!);
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
};

/** Zhang-Suen thinning: a binary stroke map reduced to lines one pixel wide, staying connected. */
const skeleton = (ink: Uint8Array, w: number, h: number): Uint8Array => {
  const img = Uint8Array.from(ink);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : img[y * w + x]!);
  for (let changed = true; changed; ) {
    changed = false;
    for (const pass of [0, 1]) {
      const remove: number[] = [];
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          if (!img[y * w + x]) continue;
          // Neighbours P2..P9, clockwise from north.
          const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
          const b = p.reduce((s, v) => s + v, 0);
          let a = 0;
          for (let k = 0; k < 8; k++) if (p[k] === 0 && p[(k + 1) % 8] === 1) a++;
          const [p2, p4, p6, p8] = [p[0]!, p[2]!, p[4]!, p[6]!];
          const ok = pass === 0 ? p2 * p4 * p6 === 0 && p4 * p6 * p8 === 0 : p2 * p4 * p8 === 0 && p2 * p6 * p8 === 0;
          if (b >= 2 && b <= 6 && a === 1 && ok) remove.push(y * w + x);
        }
      }
      for (const i of remove) img[i] = 0;
      if (remove.length > 0) changed = true;
    }
  }
  return img;
};

/** Max filter over a (2r+1) square, separable: lines widened to 2r+1 pixels. */
const dilate = (v: Float32Array, w: number, h: number, r: number): Float32Array => {
  const rows = new Float32Array(v.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = 0;
    for (let sx = Math.max(0, x - r); sx <= Math.min(w - 1, x + r); sx++) m = Math.max(m, v[y * w + sx]!);
    rows[y * w + x] = m;
  }
  const out = new Float32Array(v.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = 0;
    for (let sy = Math.max(0, y - r); sy <= Math.min(h - 1, y + r); sy++) m = Math.max(m, rows[sy * w + x]!);
    out[y * w + x] = m;
  }
  return out;
};

/** Mean over a (2r+1) square (a lens slightly out of focus). */
const boxBlur = (v: Float32Array, w: number, h: number, r: number): Float32Array => {
  const out = new Float32Array(v.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let [s, c] = [0, 0];
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
        const [sx, sy] = [x + dx, y + dy];
        if (sx >= 0 && sy >= 0 && sx < w && sy < h) [s, c] = [s + v[sy * w + sx]!, c + 1];
      }
      out[y * w + x] = s / c;
    }
  }
  return out;
};

interface Photo {
  readonly image: Image;
  readonly thin: boolean;
  readonly lighting: string;
}

const photo = (digit: Float32Array): Photo => {
  const scale = uniform(6, 14);
  const side = 28 * scale;
  const [w, h] = [Math.round(side * uniform(1.3, 1.9)), Math.round(side * uniform(1.3, 1.9))];
  const [ox, oy] = [uniform(0, w - side), uniform(0, h - side)];
  const angle = (uniform(-15, 15) * Math.PI) / 180;
  const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
  const thin = rng.nextFloat() < 0.5;
  let ink: Float32Array = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Into the digit's frame: undo the offset and the rotation about the digit's centre.
      const [dx, dy] = [x + 0.5 - ox - side / 2, y + 0.5 - oy - side / 2];
      const v = sample(digit, (cos * dx + sin * dy) / scale + 14, (-sin * dx + cos * dy) / scale + 14);
      ink[y * w + x] = thin ? (v > 0.5 ? 1 : 0) : v;
    }
  }
  if (thin) {
    // A thin pen: the strokes' centre lines, redrawn 1-2% of the digit's size wide.
    const lines = skeleton(Uint8Array.from(ink), w, h);
    ink = dilate(Float32Array.from(lines), w, h, Math.max(1, Math.round(uniform(0.005, 0.01) * side)));
  }
  const kind = Math.floor(rng.nextFloat() * 3);
  const darkest = uniform(0.35, 0.6);
  const [gx, gy] = [gaussian(), gaussian()];
  const norm = Math.hypot(gx, gy) || 1;
  const light = (x: number, y: number): number => {
    const [u, v] = [(x / w) * 2 - 1, (y / h) * 2 - 1];
    const side = 0.5 + 0.5 * ((u * gx + v * gy) / norm) / Math.SQRT2; // 0 on the dark side, 1 on the lit one
    const vignette = 1 - (u * u + v * v) / 2; // 1 in the centre, 0 in the corners
    const t = kind === 0 ? side : kind === 1 ? vignette : (side + vignette) / 2;
    return darkest + (1 - darkest) * Math.max(0, Math.min(1, t));
  };
  const sigma = uniform(0.01, 0.04);
  let grey: Float32Array = Float32Array.from(ink, (v, i) => light(i % w, Math.floor(i / w)) * (0.92 - 0.8 * v));
  grey = boxBlur(grey, w, h, rng.nextFloat() < 0.5 ? 1 : 2);
  const image = createImage(w, h);
  for (let i = 0; i < w * h; i++) {
    const g = Math.round(255 * Math.max(0, Math.min(1, grey[i]! + sigma * gaussian())));
    image.rgba.set([g, g, Math.max(0, g - 8)], 4 * i);
  }
  return { image, thin, lighting: ["light from one side", "a vignette", "both"][kind]! };
};

const variants = { before: { flatten: false, thicken: false }, lighting: { thicken: false }, after: {} } as const;
const names = Object.keys(variants) as (keyof typeof variants)[];
const seen = Object.fromEntries(names.map((v) => [v, new Float32Array(n * 784)])) as Record<keyof typeof variants, Float32Array>;
const found = Object.fromEntries(names.map((v) => [v, new Uint8Array(n)])) as Record<keyof typeof variants, Uint8Array>;
const kinds: Photo[] = [];
const t0 = performance.now();
for (let k = 0; k < n; k++) {
  const digit = digitAt(k);
  const p = photo(digit);
  kinds.push(p);
  if (flags.save !== undefined && k < 12) writeFileAtomic(`${flags.save}/photo-${k}-label-${labels[k]}.png`, encodePng(p.image.width, p.image.height, p.image.rgba));
  for (const which of names) {
    try {
      seen[which].set(preprocess(p.image.rgba, p.image.width, p.image.height, variants[which]).pixels, k * 784);
      found[which][k] = 1;
    } catch (e) {
      if (!(e instanceof PreprocessError)) throw e;
    }
  }
}
const seconds = (performance.now() - t0) / 1000;

const predictRaw = argmax(net.apply(model.params, tensor(raw, [n, 784])), -1).data;
const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(1)}% (${a}/${b})`;
console.log(`model ${flags.model} [${model.config.architecture.join(", ")}], ${n} MNIST test digits (seed ${seed}); rendering and preprocessing took ${seconds.toFixed(1)} s`);
let rawRight = 0;
for (let k = 0; k < n; k++) if (predictRaw[k] === labels[k]) rawRight++;
console.log(`raw 28x28 arrays: correct ${pct(rawRight, n)}`);
const titles = { before: "before (no lighting or stroke steps)", lighting: "lighting evened out only", after: "after (lighting evened out, thin strokes thickened)" };
for (const which of names) {
  const predicted = argmax(net.apply(model.params, tensor(seen[which], [n, 784])), -1).data;
  const rate = (keep: (k: number) => boolean) => {
    let [total, digits, right, agree] = [0, 0, 0, 0];
    for (let k = 0; k < n; k++) {
      if (!keep(k)) continue;
      total++;
      if (!found[which][k]) continue;
      digits++;
      if (predicted[k] === labels[k]) right++;
      if (predicted[k] === predictRaw[k]) agree++;
    }
    return `digit found ${pct(digits, total)}, correct ${pct(right, total)}, same as the raw array ${pct(agree, total)}`;
  };
  console.log(`${titles[which]}:`);
  console.log(`  all:        ${rate(() => true)}`);
  console.log(`  thin pen:   ${rate((k) => kinds[k]!.thin)}`);
  console.log(`  normal pen: ${rate((k) => !kinds[k]!.thin)}`);
}
