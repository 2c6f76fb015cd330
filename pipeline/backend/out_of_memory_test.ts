import { assertEquals } from "../../tests/assert.ts";
import { isOutOfMemory, memoryBound } from "./out_of_memory.ts";

Deno.test("isOutOfMemory: what wasm said when a 4096 × 4096 prediction ran out (2026-12-07)", () => {
  // On this thread, and relayed by a prediction worker.
  assertEquals(isOutOfMemory(new RangeError("Invalid typed array length: 67108864")), true);
  assertEquals(
    isOutOfMemory(
      new Error("A prediction worker failed: RuntimeError: memory access out of bounds"),
    ),
    true,
  );
});

Deno.test("isOutOfMemory: wasm's bare abort, as drive-full.yaml's first step at batch 64 ended", () => {
  assertEquals(isOutOfMemory(new Error("Aborted(). Build with -sASSERTIONS for more info.")), true);
  assertEquals(isOutOfMemory(new Error("Aborted(assertion failed: x > 0)")), false); // a reason given
});

Deno.test("isOutOfMemory: V8, Emscripten and WebGPU's words, and causes", () => {
  for (
    const message of [
      "Array buffer allocation failed",
      "Cannot enlarge memory arrays to size 4294967296 bytes",
      "WebAssembly.Memory.grow(): Maximum memory size exceeded",
      "Aborted(OOM)",
      "WebGPU (NVIDIA H100) ran out of GPU memory, so results from then on would be wrong",
    ]
  ) assertEquals(isOutOfMemory(new Error(message)), true, message);
  const wrapped = new Error("Stage failed", {
    cause: new Error("x", { cause: new RangeError("Invalid typed array length: 8") }),
  });
  assertEquals(isOutOfMemory(wrapped), true);
});

Deno.test("isOutOfMemory: other errors, and things that are not errors", () => {
  for (
    const message of [
      'Cannot find DRIVE: no training/images folder under "/data"',
      "Room for improvement", // "oom" inside a word
      "Invalid array length", // not a typed array's
    ]
  ) assertEquals(isOutOfMemory(new Error(message)), false, message);
  assertEquals(isOutOfMemory("memory access out of bounds"), false); // a string, not an error
  assertEquals(isOutOfMemory(undefined), false);
});

Deno.test("memoryBound: names each backend's bound", () => {
  assertEquals(memoryBound("wasm"), "WebAssembly gives a process at most 4 GiB");
  assertEquals(memoryBound("webgpu"), "the GPU's memory, and the adapter's buffer limits");
  assertEquals(memoryBound("tensorflow"), "the device's memory");
  assertEquals(memoryBound("cpu"), "JavaScript's heap");
});
