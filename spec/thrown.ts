// The error a function throws, checked to be of the expected class (specs then read its message).

export const thrownBy = <E extends Error>(f: () => unknown, kind: new (...args: never[]) => E): E => {
  try {
    f();
  } catch (e) {
    if (e instanceof kind) return e;
    throw e;
  }
  throw new Error(`expected a ${kind.name}, nothing was thrown`);
};
