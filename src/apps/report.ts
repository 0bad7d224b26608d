// The training report: one self-contained HTML page (no other files, no scripts) with the loss and
// accuracy curves, the confusion matrix, every hyperparameter and the per-epoch numbers. The charts
// are src/viz's, inlined as SVG; the page reads on a phone (they scale down to its width).

import { classLabel, hasNames } from "../data/dataset.ts";
import { writeFileAtomic } from "../data/files.ts";
import { heatmap, lineChart } from "../viz/charts.ts";
import { esc, toInlineSvg } from "../viz/svg.ts";
import { formatTick } from "../viz/ticks.ts";

export interface ReportEpoch {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly validationLoss: number | null;
  readonly validationAccuracy: number | null;
  readonly testAccuracy: number;
  readonly seconds: number;
}

export interface ReportInput {
  readonly title: string;
  readonly history: readonly ReportEpoch[];
  readonly matrix: readonly (readonly number[])[];
  /** One name per class, in label order (the matrix's rows and columns). */
  readonly classNames: readonly string[];
  readonly testAccuracy: number;
  readonly correct: number;
  readonly total: number;
  /** Every setting that decides the run's numbers, in the order shown (seed included). */
  readonly hyperparameters: readonly (readonly [string, string])[];
}

const pct = (v: number, digits = 1) => `${(100 * v).toFixed(digits)}%`;
/** Accuracy ticks as percentages with the decimals the step needs: 90%, 92%, ... or 97.5%. */
const percentTick = (v: number, step: number) => `${formatTick(100 * v, 100 * step)}%`;

/** A confusion matrix's labels: rows "0 T-shirt/top" (or "7"), columns numbered as the rows. */
export const confusionLabels = (classNames: readonly string[]) => ({
  rowLabels: classNames.map((_, i) => classLabel(classNames, i)),
  xLabel: hasNames(classNames) ? "predicted class (numbered as the rows)" : "predicted class",
  yLabel: "true class",
  barLabel: "count (log scale)",
});

export const reportHtml = (r: ReportInput): string => {
  const epochs = r.history.map((h) => h.epoch);
  const loss = lineChart([
    { name: "training (running mean)", color: "#d62728", values: r.history.map((h) => h.trainLoss), xs: epochs, dots: true },
    { name: "validation", color: "#2ca02c", values: r.history.map((h) => h.validationLoss), xs: epochs, dots: true, dashed: true },
  ], { title: "Loss (cross-entropy)", xLabel: "epoch", yLabel: "loss", width: 440, height: 300 });
  const accuracy = lineChart([
    { name: "training (running)", color: "#1f77b4", values: r.history.map((h) => h.trainAccuracy), xs: epochs, dots: true },
    { name: "validation", color: "#2ca02c", values: r.history.map((h) => h.validationAccuracy), xs: epochs, dots: true, dashed: true },
    { name: "test", color: "#ff7f0e", values: r.history.map((h) => h.testAccuracy), xs: epochs, dots: true },
  ], { title: "Accuracy", xLabel: "epoch", yLabel: "accuracy", yMax: 1, yFormat: percentTick, width: 440, height: 300 });
  const confusion = heatmap(r.matrix, { cellSize: 36, ...confusionLabels(r.classNames) });
  const cell = (v: number | null, f: (v: number) => string) => (v === null ? "n/a" : f(v));
  const rows = r.history
    .map((h) => `<tr><td>${h.epoch}</td><td>${h.trainLoss.toFixed(4)}</td><td>${cell(h.validationLoss, (v) => v.toFixed(4))}</td><td>${pct(h.trainAccuracy)}</td><td>${cell(h.validationAccuracy, pct)}</td><td>${pct(h.testAccuracy)}</td><td>${h.seconds.toFixed(2)} s</td></tr>`)
    .join("\n");
  const settings = r.hyperparameters.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1180px;margin:1.5em auto;padding:0 14px;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:3px 10px;border-bottom:1px solid #ddd}td{text-align:right;font-variant-numeric:tabular-nums}
th{text-align:left;font-weight:600}.settings td{text-align:left}.scroll{overflow-x:auto}
.charts{display:flex;flex-wrap:wrap;gap:12px 24px}.charts svg,svg{max-width:100%;height:auto}
</style>
</head><body>
<h1>Training report</h1>
<p>${esc(r.title)}</p>
<p><strong>Final test accuracy: ${(100 * r.testAccuracy).toFixed(2)}% (${r.correct.toLocaleString("en-US")}/${r.total.toLocaleString("en-US")} correct)</strong></p>
<div class="charts">${toInlineSvg(loss, "Training and validation loss per epoch")}${toInlineSvg(accuracy, "Training, validation and test accuracy per epoch")}</div>
<h2>Confusion matrix (test set)</h2>
${toInlineSvg(confusion, `Confusion matrix of the test set: rows true class, columns predicted class (${r.classNames.map((_, i) => classLabel(r.classNames, i)).join(", ")})`)}
<h2>Hyperparameters</h2>
<table class="settings">
${settings}
</table>
<h2>Per epoch</h2>
<p>Training loss and accuracy are running means over the epoch's batches, each scored before its update; validation and test are scored after the epoch.</p>
<div class="scroll"><table><tr><th>epoch</th><th>train loss</th><th>val loss</th><th>train acc</th><th>val acc</th><th>test acc</th><th>time</th></tr>
${rows}
</table></div>
</body></html>
`;
};

export const writeReport = (path: string, r: ReportInput): void => writeFileAtomic(path, reportHtml(r));
