import { chooseBackend, installHint, loadBackend } from "./select.ts";
import { tf } from "./tfjs.ts";
import { BackendError } from "../errors.ts";
import { assertEquals, assertRejects } from "../../tests/assert.ts";

const REPO = new URL("../..", import.meta.url).pathname;

function installed(specifier: string): boolean {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/** What a backend gives when loaded, or the error it fails with. */
async function probe(name: Parameters<typeof loadBackend>[0]) {
  try {
    return await loadBackend(name);
  } catch (error) {
    return error as Error;
  }
}

Deno.test('chooseBackend("auto", "train") picks a backend that can train and says why', async () => {
  const choice = await chooseBackend("auto", "train");
  assertEquals(choice.info.canTrain, true, choice.reason);
  assertEquals(choice.reason.startsWith(`auto: ${choice.info.name} (${choice.info.detail})`), true);
  const order = ["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"];
  // Every backend ahead of the choice in the preference order was passed over, with a reason.
  for (const name of order.slice(0, order.indexOf(choice.info.name))) {
    const info = await probe(name as "cpu");
    if (info instanceof Error) {
      assertEquals(choice.reason.includes(`${name}: `), true, `${name} in ${choice.reason}`);
    } else if (!info.canTrain) {
      // tfjs-backend-wasm 4.22 alone has no Conv2DBackpropFilter.
      assertEquals(
        choice.reason.includes(
          `${name} cannot train convolutions (no Conv2DBackpropFilter kernel)`,
        ),
        true,
        choice.reason,
      );
    } else {
      // Only a software WebGPU adapter is put behind wasm.
      assertEquals([name, info.accelerated, choice.info.name], ["webgpu", false, "wasm"]);
      assertEquals(
        choice.reason.includes("wasm trains faster than a software WebGPU adapter"),
        true,
        choice.reason,
      );
    }
  }
  if (!installed("@tensorflow/tfjs-node-gpu")) {
    assertEquals(
      choice.reason.includes("tensorflow-gpu: @tensorflow/tfjs-node-gpu is not installed"),
      true,
      choice.reason,
    );
  }
});

Deno.test('chooseBackend("wasm", "train") rejects when wasm lacks Conv2DBackpropFilter, naming the kernel', async () => {
  const wasm = await loadBackend("wasm");
  const hasFilterGradient = tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined;
  const hasInputGradient = tf.getKernel("Conv2DBackpropInput", "wasm") !== undefined;
  assertEquals(wasm.canTrain, hasFilterGradient && hasInputGradient);
  if (wasm.canTrain) {
    assertEquals((await chooseBackend("wasm", "train")).info.name, "wasm");
  } else {
    await assertRejects(
      () => chooseBackend("wasm", "train"),
      BackendError,
      `Cannot train on backend "wasm": it lacks Conv2DBackpropFilter`,
    );
  }
  // Inference needs no gradients.
  assertEquals((await chooseBackend("wasm", "inference")).info.name, "wasm");
});

Deno.test("chooseBackend() without WebGPU falls back to wasm or cpu and says why it passed wasm", async () => {
  // DENO_WEBGPU_BACKEND=dx12 leaves Deno (on Linux) without a WebGPU adapter.
  const code = `
    import { chooseBackend } from "./pipeline/backend/select.ts";
    const { info, reason } = await chooseBackend("auto", "train");
    console.log(JSON.stringify({ name: info.name, canTrain: info.canTrain, reason }));
    Deno.exit(0);`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: REPO,
    env: { DENO_WEBGPU_BACKEND: "dx12", XDG_RUNTIME_DIR: "/tmp" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  const { name, canTrain, reason } = JSON.parse(text.split("\n").pop()!);
  assertEquals(canTrain, true);
  assertEquals(reason.includes("webgpu: no WebGPU adapter found"), true, reason);
  if (name === "cpu") {
    assertEquals(
      reason.includes("wasm cannot train convolutions (no Conv2DBackpropFilter kernel)"),
      true,
      reason,
    );
  } else {
    assertEquals(name, "wasm", reason);
  }
});

Deno.test({
  name:
    'chooseBackend("tensorflow-gpu") rejects with a BackendError that gives the install command',
  ignore: installed("@tensorflow/tfjs-node-gpu"),
  async fn() {
    for (const role of ["train", "inference"] as const) {
      const error = await assertRejects(
        () => chooseBackend("tensorflow-gpu", role),
        BackendError,
        "deno add npm:@tensorflow/tfjs-node-gpu",
      );
      assertEquals(error.code, "E_BACKEND");
      assertEquals(
        error.message.startsWith(
          `Cannot use backend "tensorflow-gpu": @tensorflow/tfjs-node-gpu is not installed; `,
        ),
        true,
        error.message,
      );
      assertEquals(error.message.includes("for CUDA"), true, error.message);
    }
    assertEquals(
      installHint("tensorflow").includes("deno add npm:@tensorflow/tfjs-node@4.22.0 "),
      true,
    );
  },
});

Deno.test('chooseBackend("cpu") always works, for training and inference', async () => {
  for (const role of ["train", "inference"] as const) {
    const choice = await chooseBackend("cpu", role);
    assertEquals(choice.info, {
      name: "cpu",
      tfName: "cpu",
      canTrain: true,
      accelerated: false,
      detail: "plain JavaScript",
    });
    assertEquals(choice.reason, "asked for by the recipe (plain JavaScript)");
  }
  assertEquals(await tf.setBackend("cpu"), true);
  assertEquals(Array.from(await tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).data()), [4, 6]);
});

Deno.test('chooseBackend("auto", "inference") prefers wasm to a software WebGPU adapter', async () => {
  const webgpu = await probe("webgpu");
  const choice = await chooseBackend("auto", "inference");
  if (!(webgpu instanceof Error) && webgpu.accelerated) {
    assertEquals(choice.info.name, "webgpu", choice.reason);
    return;
  }
  // No hardware WebGPU here (lavapipe is a software adapter): wasm wins.
  assertEquals(choice.info.name, "wasm", choice.reason);
  if (!(webgpu instanceof Error)) {
    assertEquals(webgpu.detail.endsWith("(software, runs on the CPU)"), true, webgpu.detail);
    assertEquals(
      choice.reason.includes("wasm predicts faster than a software WebGPU adapter"),
      true,
      choice.reason,
    );
  }
});
