import { assertEquals } from "../../../tests/assert.ts";
import { trainingOutOfMemory } from "./memory_advice.ts";

Deno.test("trainingOutOfMemory: drive-full.yaml's step on wasm, and what to make smaller", () => {
  const cause = new Error("Aborted(). Build with -sASSERTIONS for more info.");
  const error = trainingOutOfMemory(cause, {
    batchSize: 64,
    patchSize: 48,
    workers: 1,
    parameters: 8_869_643,
    backend: "wasm",
  });
  assertEquals(error.code, "E_OUT_OF_MEMORY");
  assertEquals(error.cause, cause);
  assertEquals(
    error.message,
    "Training a batch of 64 patches of 48 × 48 (8,869,643 parameters) ran out of memory on wasm " +
      "(Aborted(). Build with -sASSERTIONS for more info.; WebAssembly gives a process at most 4 GiB). " +
      "Train a smaller batch (train.batchSize: 32), smaller patches (train.patches.size) or a narrower " +
      "network (model.width), or on a GPU backend.",
  );
});

Deno.test("trainingOutOfMemory: shards, a batch of one, tiny patches, a GPU", () => {
  const shared = trainingOutOfMemory(new Error("memory access out of bounds"), {
    batchSize: 16,
    patchSize: 48,
    workers: 2,
    parameters: 140_363,
    backend: "wasm",
  });
  assertEquals(
    shared.message.startsWith(
      "Training a batch of 16 patches of 48 × 48, shared by 2 processes (8 patches each) (140,363",
    ),
    true,
    shared.message,
  );
  const least = trainingOutOfMemory(new Error("out of GPU memory"), {
    batchSize: 1,
    patchSize: 16,
    workers: 1,
    parameters: 10,
    backend: "webgpu",
  });
  assertEquals(
    least.message.endsWith(
      "(out of GPU memory; the GPU's memory, and the adapter's buffer limits). Train a narrower network (model.width).",
    ),
    true,
    least.message,
  );
});
