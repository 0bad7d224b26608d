// Neural-network building blocks made of plain functions over src/autograd.
// NOTE: relu, sigmoid, tanh, reshape, conv2d, maxPool2d and avgPool2d here are layers, and zeros is an initializer (key, shape, dtype);
// the same names in src/autograd are the tensor functions.

export {
  treeMap,
  treeLeaves,
  freezeTree,
  flattenTree,
  unflattenTree,
  setLeaves,
  countParams,
  treeMismatch,
  isWeight,
  isBias,
  type Tree,
  type Params,
  type ParamTree,
  type ParamCount,
} from "./tree.ts";
export { zeros, heNormal, glorotNormal, glorotUniform, fans, convFanAxes, type Initializer, type Key, type FanAxes } from "./init.ts";
export { dense, relu, sigmoid, tanh, flatten, dropout, reshape, conv2d, maxPool2d, avgPool2d, evaluation, type ConvParams, type ConvOptions, type Layer, type Context, type DenseParams, type DenseOptions, type DenseActivation } from "./layers.ts";
export { networkFromList, mlpLayerList, cnnLayerList, listSize, layerRows, describeLayer, LayerListError, type LayerRow, type LayerSpec } from "./layer-list.ts";
export { serial, mlp, type Mlp, type MlpOptions, type Activation } from "./combinators.ts";
export { softmax, logSoftmax, crossEntropy, softmaxCrossEntropy, oneHot, checkLabels, labelTensor } from "./losses.ts";
export {
  sgd,
  momentum,
  adam,
  type Optimizer,
  type OptimizerState,
  type SgdState,
  type MomentumState,
  type AdamState,
  type LearningRate,
  type SgdOptions,
  type MomentumOptions,
  type AdamOptions,
} from "./optim.ts";
export {
  constant,
  stepDecay,
  exponentialDecay,
  cosineDecay,
  linearWarmup,
  rateAt,
  type Schedule,
  type StepDecayOptions,
  type ExponentialDecayOptions,
  type CosineDecayOptions,
} from "./schedule.ts";
export { accuracy, confusionMatrix, precisionRecall, predictions, type ClassReport } from "./metrics.ts";
