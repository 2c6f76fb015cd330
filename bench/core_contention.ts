/**
 * How much two cores give a width-8 BCDU-Net step, and whether
 * `train.workers: 2` loses anything of it: in interleaved rounds, each in
 * fresh processes, one training step of 8 random 48×48 patches on one wasm
 * thread (with drive.yaml's fused momentum) timed in one process alone, then
 * in two such processes at once, then core/train's data-parallel step of
 * 2 × 8 patches (this thread and one gradient worker) in one process. If the
 * data-parallel step takes as long as the pair of processes, what it lacks
 * of 2× is the cores' contention (shared cache, memory or host), not its
 * own overhead.
 *
 * ```sh
 * deno run -A bench/core_contention.ts [--steps 30] [--rounds 2]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadBackend, tf } from "../mod.ts";
import { buildBcduNet } from "../plugins/core/_bcdunet.ts";
import { randomBatches, startBcduNetWorkers } from "./data_parallel_setup.ts";
import { dataParallelStep } from "../plugins/core/train/data_parallel.ts";
import { fusedMomentum } from "../plugins/core/train/fused_momentum.ts";
import { weightedBinaryCrossentropy } from "../plugins/core/train/weighted_bce.ts";
import { stopWasmThreads } from "../pipeline/backend/wasm_threads.ts";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "30" },
    rounds: { type: "string", default: "2" },
    child: { type: "string" },
  },
});
const steps = Number(values.steps);
const PATCHES = 8;

/** Milliseconds per step of `mode` in this process, after 3 warm-up steps. */
async function timeSteps(mode: "single" | "parallel"): Promise<number> {
  await loadBackend("wasm");
  await tf.setBackend("wasm");
  await stopWasmThreads();
  const { batches, halves } = randomBatches(PATCHES);
  const config = { width: 8, dense: 1 as const, dropout: 0.5, seed: 1, batchNorm: true };
  const net = buildBcduNet(tf, config, 48, 1);
  const optimizer = fusedMomentum(tf, 0.01, 0.9, true);
  let step: (i: number) => Promise<unknown>;
  let close = () => Promise.resolve();
  if (mode === "single") {
    net.compile({ optimizer, loss: "binaryCrossentropy" });
    step = (i) => net.trainOnBatch(halves[i % 4].x, halves[i % 4].y);
  } else {
    const loss = weightedBinaryCrossentropy(tf, 1);
    const workers = await startBcduNetWorkers(net);
    step = (i) => dataParallelStep(tf, net, optimizer, loss, workers, batches[i % 4]);
    close = () => workers.close();
  }
  for (let i = 0; i < 3; i++) await step(i);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step(i);
  const ms = (performance.now() - t0) / steps;
  await close();
  return ms;
}

/** Runs `count` child processes of `mode` at once; their ms per step. */
async function children(mode: "single" | "parallel", count: number): Promise<number[]> {
  const runs = Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", import.meta.filename!, "--child", mode, "--steps", String(steps)],
      stdout: "piped",
      stderr: "inherit",
    }).output());
  return (await Promise.all(runs)).map(({ stdout, success }) => {
    if (!success) throw new Error(`a ${mode} child process failed`);
    return Number(new TextDecoder().decode(stdout).trim().split("\n").at(-1));
  });
}

if (values.child) {
  console.log(await timeSteps(values.child as "single" | "parallel"));
  Deno.exit(0);
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const alone: number[] = [], paired: number[] = [], parallel: number[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  alone.push(...await children("single", 1));
  paired.push(...await children("single", 2));
  parallel.push(...await children("parallel", 1));
  console.log(
    `round ${round + 1}: one process alone ${alone.at(-1)!.toFixed(1)} ms a step of ${PATCHES}; ` +
      `two at once ${paired.slice(-2).map((v) => v.toFixed(1)).join(" and ")} ms; ` +
      `data parallel ${parallel.at(-1)!.toFixed(1)} ms a step of ${2 * PATCHES}`,
  );
}
const rate = (ms: number, patches: number) => (patches * 1000) / ms;
console.log(
  `medians: alone ${median(alone).toFixed(1)} ms (${rate(median(alone), PATCHES).toFixed(1)} ` +
    `patches/s); two at once ${median(paired).toFixed(1)} ms each (${
      rate(median(paired), 2 * PATCHES).toFixed(1)
    } patches/s together, ${(median(alone) / median(paired) * 2).toFixed(2)}× alone); ` +
    `data parallel ${median(parallel).toFixed(1)} ms (${
      rate(median(parallel), 2 * PATCHES).toFixed(1)
    } patches/s, ${(median(alone) / median(parallel) * 2).toFixed(2)}× alone)`,
);
