// Placeholder until the WebAssembly backend is ported: none here yet.
import type { Backend } from "../backend.ts";
export const wasmBackend = (): Backend | null => null;
