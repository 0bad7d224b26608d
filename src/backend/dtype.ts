// Element types and the typed arrays that hold them.

export type DType = "float32" | "float64" | "int32" | "uint32" | "uint8";
export type FloatDType = "float32" | "float64";
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "uint32", "uint8"];

export const isFloat = (dtype: DType): dtype is FloatDType => dtype === "float32" || dtype === "float64";

/** Bytes per element. */
export const bytesOf = (dtype: DType): number => (dtype === "float64" ? 8 : dtype === "uint8" ? 1 : 4);

/** A zero-filled array of n elements of `dtype`. */
export const arrayOf = (dtype: DType, n: number): TypedArray => {
  switch (dtype) {
    case "float32": return new Float32Array(n);
    case "float64": return new Float64Array(n);
    case "int32": return new Int32Array(n);
    case "uint32": return new Uint32Array(n);
    case "uint8": return new Uint8Array(n);
  }
};

/** A view of `length` elements of `dtype` at byte `offset` of `buffer`. */
export const viewOf = (dtype: DType, buffer: ArrayBufferLike, offset: number, length: number): TypedArray => {
  switch (dtype) {
    case "float32": return new Float32Array(buffer, offset, length);
    case "float64": return new Float64Array(buffer, offset, length);
    case "int32": return new Int32Array(buffer, offset, length);
    case "uint32": return new Uint32Array(buffer, offset, length);
    case "uint8": return new Uint8Array(buffer, offset, length);
  }
};

/** The dtype a typed array holds, or null for other arrays. */
export const dtypeOf = (a: unknown): DType | null =>
  a instanceof Float32Array ? "float32"
    : a instanceof Float64Array ? "float64"
      : a instanceof Int32Array ? "int32"
        : a instanceof Uint32Array ? "uint32"
          : a instanceof Uint8Array ? "uint8"
            : null;

/** Short names for printing: f32, f64, i32, u32, u8. */
export const shortName = (dtype: DType): string =>
  ({ float32: "f32", float64: "f64", int32: "i32", uint32: "u32", uint8: "u8" })[dtype];
