// A square of paper to draw a digit on with a mouse, a pen or a finger (pointer events cover all
// three). Dark ink on white, like a pen on paper: preprocess() inverts it to MNIST's white on black.

import { oncePerFrame } from "./views.ts";

export interface DrawPad {
  /** The picture as RGBA bytes at the canvas's backing size. */
  readonly pixels: () => { rgba: Uint8Array; width: number; height: number };
  /** True once anything has been drawn since the last clear. */
  readonly isBlank: () => boolean;
  readonly clear: () => void;
}

const PAPER = "#ffffff";
const INK = "#111827";

/**
 * Makes `canvas` (size x size CSS pixels) a drawing pad. `onChange` is called at most once per
 * animation frame while drawing, and once after a clear.
 */
export const drawPad = (canvas: HTMLCanvasElement, size: number, onChange: () => void): DrawPad => {
  // A fixed backing size, whatever the screen's density: preprocess() then costs the same everywhere.
  const backing = 280;
  canvas.width = backing;
  canvas.height = backing;
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  const pen = backing / 14; // a 20-pixel stroke here is about 2 pixels once the digit is 20 pixels tall, as in MNIST
  let blank = true;
  let last: { x: number; y: number } | null = null;

  const changed = oncePerFrame(onChange);

  const clear = (): void => {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, backing, backing);
    blank = true;
    last = null;
    changed();
  };

  const at = (e: PointerEvent): { x: number; y: number } => {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * backing) / r.width, y: ((e.clientY - r.top) * backing) / r.height };
  };

  const stroke = (to: { x: number; y: number }): void => {
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = pen;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    if (last === null) {
      ctx.beginPath();
      ctx.arc(to.x, to.y, pen / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(to.x, to.y);
      ctx.stroke();
    }
    last = to;
    blank = false;
    changed();
  };

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    last = null;
    stroke(at(e));
  });
  canvas.addEventListener("pointermove", (e) => {
    if (last === null || !canvas.hasPointerCapture(e.pointerId)) return;
    // Coalesced events: every sample the device gave, not one per frame, so fast strokes stay smooth.
    const samples = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const s of samples.length > 0 ? samples : [e]) stroke(at(s));
  });
  const end = (e: PointerEvent): void => {
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    last = null;
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  clear();
  return {
    pixels: () => ({ rgba: new Uint8Array(ctx.getImageData(0, 0, backing, backing).data.buffer), width: backing, height: backing }),
    isBlank: () => blank,
    clear,
  };
};
