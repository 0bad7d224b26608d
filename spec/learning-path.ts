// The order in which `npm test` runs and prints the specs: a course, from values to the apps, with
// the engine's machinery (jit, the backends' conformance) last. vitest.config.ts runs the files in
// this order and prints each one, under its chapter, as soon as every file before it has finished.
//
// A spec file belongs to the chapter that lists it by name; a file no chapter names goes to the
// chapter whose folder (an entry ending in "/") holds it, after the files named before that entry.
// A spec file in no chapter prints last, and spec/learning-path.spec.ts fails until it is placed.

export interface Chapter {
  readonly title: string;
  /** Spec files by path from the project root, in reading order, and folders ("spec/data/") for the rest. */
  readonly files: readonly string[];
}

export const learningPath: readonly Chapter[] = [
  {
    title: "Values and broadcasting",
    files: [
      "spec/autograd/values.spec.ts",
      "spec/autograd/properties.spec.ts",
      "spec/autograd/errors.spec.ts",
      "spec/autograd/immutability.spec.ts",
      "spec/autograd/random.spec.ts",
    ],
  },
  {
    title: "The graph and its backward walk",
    files: ["spec/autograd/graph.spec.ts", "spec/autograd/backward-walk.spec.ts", "spec/autograd/gradcheck.spec.ts", "spec/autograd/higher-order.spec.ts"],
  },
  {
    title: "Softmax, log-softmax and cross-entropy",
    files: ["spec/nn/losses.spec.ts", "spec/nn/log-sum-exp.spec.ts", "spec/nn/cross-entropy-gradient.spec.ts"],
  },
  {
    title: "The worked example, and the dense layer's gradients",
    files: ["spec/nn/worked-example.spec.ts", "spec/nn/dense-gradients.spec.ts", "spec/autograd/linear.spec.ts"],
  },
  {
    title: "Layers",
    files: ["spec/nn/init.spec.ts", "spec/nn/layers.spec.ts", "spec/nn/tree.spec.ts", "spec/nn/inspect.spec.ts", "spec/nn/metrics.spec.ts", "spec/nn/"],
  },
  {
    title: "Convolution and pooling",
    files: ["spec/autograd/conv.spec.ts", "spec/nn/conv-layers.spec.ts"],
  },
  {
    title: "Optimizers",
    files: ["spec/nn/optim.spec.ts", "spec/nn/schedule.spec.ts", "spec/nn/learning.spec.ts"],
  },
  {
    title: "Data",
    files: ["spec/data/idx.spec.ts", "spec/data/idx-parse.spec.ts", "spec/data/idx-fuzz.spec.ts", "spec/data/mnist.spec.ts", "spec/data/batches.spec.ts", "spec/data/augment.spec.ts", "spec/data/"],
  },
  {
    title: "Questions, answered by measurement",
    files: [
      "spec/questions/logistic-regression.spec.ts",
      "spec/questions/hidden-units.spec.ts",
      "spec/questions/activations.spec.ts",
      "spec/questions/initialization.spec.ts",
      "spec/questions/cross-entropy-or-mse.spec.ts",
      "spec/questions/learning-rate.spec.ts",
      "spec/questions/optimizers.spec.ts",
      "spec/questions/batch-size.spec.ts",
      "spec/questions/overfitting.spec.ts",
      "spec/questions/",
    ],
  },
  {
    title: "The apps",
    files: [
      "spec/apps/train.spec.ts",
      "spec/apps/checkpoint.spec.ts",
      "spec/apps/predict.spec.ts",
      "spec/apps/visualize.spec.ts",
      "spec/apps/cnn.spec.ts",
      "spec/nn/activation-max.spec.ts",
      "spec/apps/",
      "spec/viz/",
      "spec/playground/",
    ],
  },
  {
    title: "Extending the engine",
    files: ["examples/softplus-and-swish.spec.ts", "examples/", "spec/testing/check-op.spec.ts", "spec/autograd/op-table.spec.ts", "spec/autograd/"],
  },
  {
    title: "Underneath: jit and the backends",
    files: ["spec/autograd/jit.spec.ts", "spec/backend/conformance.spec.ts", "spec/backend/", "spec/learning-path.spec.ts"],
  },
];

/** Where a spec file (path from the project root) sits in the course: [chapter, position in it]. */
export const placeOf = (path: string): readonly [number, number] => {
  for (const [c, chapter] of learningPath.entries()) {
    const i = chapter.files.indexOf(path);
    if (i >= 0) return [c, i];
  }
  for (const [c, chapter] of learningPath.entries()) {
    const i = chapter.files.findIndex((entry) => entry.endsWith("/") && path.startsWith(entry));
    if (i >= 0) return [c, i];
  }
  return [learningPath.length, 0];
};

/** Spec files in course order (ties within a folder pattern by name). */
export const inCourseOrder = <T>(items: readonly T[], pathOf: (item: T) => string): T[] =>
  [...items].sort((a, b) => {
    const [pa, pb] = [placeOf(pathOf(a)), placeOf(pathOf(b))];
    return pa[0] - pb[0] || pa[1] - pb[1] || (pathOf(a) < pathOf(b) ? -1 : pathOf(a) > pathOf(b) ? 1 : 0);
  });
