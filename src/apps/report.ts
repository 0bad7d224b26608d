// The training report: a small self-contained HTML page with the loss and accuracy curves and the
// confusion matrix drawn as inline SVG, so it opens in any browser with no other files.

import { writeFileAtomic } from "../data/files.ts";

export interface ReportEpoch {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly validationAccuracy: number | null;
  readonly testAccuracy: number;
  readonly seconds: number;
}

export interface ReportInput {
  readonly title: string;
  readonly history: readonly ReportEpoch[];
  readonly matrix: readonly (readonly number[])[];
  readonly testAccuracy: number;
  readonly correct: number;
  readonly total: number;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot" }[c]};`);

interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
}

/** A line chart of per-epoch series, with axes, ticks and a legend. */
export const lineChartSvg = (title: string, series: readonly Series[], yLabel: string, format: (v: number) => string): string => {
  const W = 520, H = 300, left = 60, right = 130, top = 30, bottom = 40;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const n = Math.max(1, ...series.map((s) => s.values.length));
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.08;
  lo -= pad; hi += pad;
  const x = (i: number) => left + (n === 1 ? (W - left - right) / 2 : (i * (W - left - right)) / (n - 1));
  const y = (v: number) => top + ((hi - v) * (H - top - bottom)) / (hi - lo);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${W / 2 - right / 2 + left / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${esc(format(v))}</text>`);
  }
  for (let i = 0; i < n; i++) parts.push(`<text x="${x(i)}" y="${H - bottom + 16}" text-anchor="middle">${i + 1}</text>`);
  parts.push(`<text x="${left + (W - left - right) / 2}" y="${H - 6}" text-anchor="middle">epoch</text>`);
  parts.push(`<text transform="translate(14 ${top + (H - top - bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  parts.push(`<rect x="${left}" y="${top}" width="${W - left - right}" height="${H - top - bottom}" fill="none" stroke="#999"/>`);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter((p): p is string => p !== null);
    if (pts.length > 0) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(" ")}"/>`);
    for (const p of pts) {
      const [px, py] = p.split(",");
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.color}"/>`);
    }
    parts.push(`<rect x="${W - right + 12}" y="${top + 8 + k * 18}" width="12" height="3" fill="${s.color}"/><text x="${W - right + 30}" y="${top + 13 + k * 18}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
};

/** A confusion matrix heat map: rows are true classes, columns predictions, counts in every cell. */
export const confusionSvg = (matrix: readonly (readonly number[])[]): string => {
  const k = matrix.length, cell = 40, left = 60, top = 50;
  const W = left + k * cell + 20, H = top + k * cell + 20;
  // Colour by the share of the row, so off-diagonal mistakes stand out next to the large diagonal.
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${left + (k * cell) / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">predicted digit</text>`);
  parts.push(`<text transform="translate(16 ${top + (k * cell) / 2}) rotate(-90)" text-anchor="middle" font-size="13" font-weight="bold">true digit</text>`);
  matrix.forEach((row, i) => {
    const rowSum = row.reduce((a, b) => a + b, 0) || 1;
    parts.push(`<text x="${left - 8}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${i}</text>`);
    row.forEach((count, j) => {
      if (i === 0) parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${j}</text>`);
      const share = count / rowSum;
      const strength = i === j ? share : Math.min(1, share * 10); // mistakes are rare: amplify them
      const [r, g, b] = i === j ? [255 - 200 * strength, 255 - 120 * strength, 255 - 200 * strength] : [255, 255 - 200 * strength, 255 - 200 * strength];
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${r | 0},${g | 0},${b | 0})" stroke="#fff"/>`);
      parts.push(`<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${strength > 0.6 ? "#fff" : "#222"}">${count}</text>`);
    });
  });
  parts.push("</svg>");
  return parts.join("");
};

export const reportHtml = (r: ReportInput): string => {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const loss = lineChartSvg("Training loss (running mean per epoch)", [{ name: "train loss", color: "#d62728", values: r.history.map((h) => h.trainLoss) }], "cross-entropy", (v) => v.toFixed(3));
  const acc = lineChartSvg("Accuracy", [
    { name: "train (running)", color: "#1f77b4", values: r.history.map((h) => h.trainAccuracy) },
    { name: "validation", color: "#2ca02c", values: r.history.map((h) => h.validationAccuracy) },
    { name: "test", color: "#ff7f0e", values: r.history.map((h) => h.testAccuracy) },
  ], "accuracy", pct);
  const rows = r.history
    .map((h) => `<tr><td>${h.epoch}</td><td>${h.trainLoss.toFixed(4)}</td><td>${pct(h.trainAccuracy)}</td><td>${h.validationAccuracy === null ? "n/a" : pct(h.validationAccuracy)}</td><td>${pct(h.testAccuracy)}</td><td>${h.seconds.toFixed(2)}s</td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #ddd}.charts{display:flex;flex-wrap:wrap;gap:16px}</style>
</head><body>
<h1>Training report</h1>
<p>${esc(r.title)}</p>
<p><strong>Final test accuracy: ${(100 * r.testAccuracy).toFixed(2)}% (${r.correct}/${r.total} correct)</strong></p>
<div class="charts">${loss}${acc}</div>
<h2>Confusion matrix (test set)</h2>
${confusionSvg(r.matrix)}
<h2>Per epoch</h2>
<table><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>val acc</th><th>test acc</th><th>time</th></tr>
${rows}
</table>
</body></html>
`;
};

export const writeReport = (path: string, r: ReportInput): void => writeFileAtomic(path, reportHtml(r));
