import { BackendError } from "../errors.ts";
import { loadBackend } from "./select.ts";
import { tf } from "./tfjs.ts";
import { explainDeviceErrors } from "./webgpu_errors.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { noWebgpu as ignore, webgpuTestName as named } from "../../tests/webgpu_adapter.ts";

// wgpu's message for a buffer bound past the limit, as Deno 2.9 reported it on lavapipe.
const PAST_LIMIT = {
  kind: "GPUValidationError",
  message: "Buffer binding 0 range 160000000 exceeds `max_*_buffer_binding_size` limit 134217728",
};
const THEN_INVALID = {
  kind: "GPUValidationError",
  message: "In a set_bind_group command: BindGroup with '' label is invalid",
};

Deno.test("explainDeviceErrors: a tensor past the binding limit, in MiB, with what to do", () => {
  const message = explainDeviceErrors([PAST_LIMIT, THEN_INVALID, THEN_INVALID], "llvmpipe");
  // 160,000,000 B = 152.6 MiB; 134,217,728 B = 128 MiB.
  assert(
    message.startsWith(
      "WebGPU (llvmpipe) refused a tensor of 153 MiB: this adapter binds at most 128 MiB",
    ),
    message,
  );
  assert(message.includes("`evaluate.window: 96`"), message);
  assert(message.includes("`train.batchSize`"), message);
  assert(message.includes("`backend: wasm`"), message);
  assert(
    message.endsWith(`(GPUValidationError: ${PAST_LIMIT.message} (2 more errors followed))`),
    message,
  );
});

Deno.test("explainDeviceErrors: out of memory wins over the validation errors it causes", () => {
  const message = explainDeviceErrors(
    [THEN_INVALID, { kind: "GPUOutOfMemoryError", message: "Not enough memory left" }],
    "NVIDIA H100",
  );
  assert(message.startsWith("WebGPU (NVIDIA H100) ran out of GPU memory"), message);
  assert(message.endsWith("(GPUOutOfMemoryError: Not enough memory left)"), message);
});

Deno.test("explainDeviceErrors: a lost device, and an error it cannot explain", () => {
  const lost = explainDeviceErrors([{ kind: "device lost", message: "" }], "gpu");
  assert(lost.startsWith("The WebGPU device (gpu) was lost"), lost);
  assert(lost.includes("(no reason given)"), lost);
  const other = explainDeviceErrors([THEN_INVALID], "gpu");
  assert(other.startsWith("WebGPU (gpu) refused work"), other);
  assert(other.endsWith(`(GPUValidationError: ${THEN_INVALID.message})`), other);
});

Deno.test("explainDeviceErrors: needs an error", () => {
  assertThrows(() => explainDeviceErrors([], "gpu"), RangeError, "at least one error");
});

Deno.test({
  // Without the guard this read returned zeros and no message (lavapipe binds 128 MiB at most).
  name: named("webgpu backend: a tensor past the adapter's binding limit fails its read"),
  ignore,
  async fn() {
    const previous = tf.getBackend();
    await loadBackend("webgpu");
    await tf.setBackend("webgpu");
    // deno-lint-ignore no-explicit-any
    const device = (tf.backend() as any).device as GPUDevice;
    const limit = device.limits.maxStorageBufferBindingSize;
    try {
      const values = limit / 4 + 1_024; // float32: just past the limit
      if (values > 64 * 1024 * 1024) return; // a real GPU's limit: too large to test cheaply
      const ones = tf.ones([values]);
      const doubled = tf.mul(ones, 2);
      const error = await assertRejects(() => doubled.data(), BackendError);
      assert(error.message.includes("refused a tensor of"), error.message);
      assert(error.message.includes(`at most ${Math.round(limit / 2 ** 20)} MiB`), error.message);
      tf.dispose([ones, doubled]);
      // Reported once: work within the limit reads back right afterwards.
      const small = tf.mul(tf.ones([4]), 2);
      assertEquals(Array.from(await small.data()), [2, 2, 2, 2]);
      small.dispose();
    } finally {
      if (previous) await tf.setBackend(previous);
    }
  },
});
