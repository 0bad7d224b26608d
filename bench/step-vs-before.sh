#!/usr/bin/env bash
# The training step now (eager and compiled, bench/step.ts) against the engine before the two layers
# (commit d24cbad, eager with weights kept in WebAssembly memory by array identity), back to back,
# in rounds. Makes a temporary worktree of that commit and removes it after.
#   bash bench/step-vs-before.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
before="$(mktemp -d)/before"
git worktree add --quiet --detach "$before" d24cbad
trap 'git worktree remove --force "$before"' EXIT
ln -s "$PWD/node_modules" "$before/node_modules"
cat > "$before/step-before.ts" <<'TS'
import { random, valueAndGradAux, type Tensor } from "./src/autograd/index.ts";
import { batches, loadMnist } from "./src/data/index.ts";
import { mlp, sgd, softmaxCrossEntropy, type Params } from "./src/nn/index.ts";
const mnist = loadMnist();
const net = mlp([784, 128, 64, 10]);
const optimizer = sgd({ learningRate: 0.1 });
const batch = batches(mnist.train, { batchSize: 64, key: random.key(1) }).next().value!;
const step = valueAndGradAux((p: Params, x: Tensor, labels: Uint8Array) => { const logits = net.apply(p, x); return [softmaxCrossEntropy(logits, labels), logits] as const; });
let params = net.init(random.key(42)).params;
let state = optimizer.init(params);
const one = () => { const { grads } = step(params, batch.x, batch.labels); ({ params, state } = optimizer.update(grads, state, params, { donate: true })); };
for (let i = 0; i < 200; i++) one();
let best = Infinity;
for (let r = 0; r < 60; r++) { const t0 = performance.now(); for (let i = 0; i < 20; i++) one(); best = Math.min(best, (performance.now() - t0) / 20); }
console.log(JSON.stringify({ engine: "before (d24cbad)", stepMs: best }));
TS
for ((r = 1; r <= rounds; r++)); do
  (cd "$before" && npx tsx step-before.ts)
  npx tsx bench/step.ts
done
