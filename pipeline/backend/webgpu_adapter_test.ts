import { type Environment, prepareWebGpuEnvironment } from "./webgpu_adapter.ts";
import { assertEquals } from "../../tests/assert.ts";
import { noWebgpu, webgpuTestName } from "../../tests/webgpu_adapter.ts";

const REPO = new URL("../..", import.meta.url).pathname;

/** An environment held in a map, as `Deno.env` would hold it. */
function environment(vars: Record<string, string>): Environment & { vars: Map<string, string> } {
  const map = new Map(Object.entries(vars));
  return {
    vars: map,
    get: (name) => map.get(name),
    set: (name, value) => void map.set(name, value),
  };
}

Deno.test("prepareWebGpuEnvironment() never overrides what the user set", () => {
  const env = environment({ XDG_RUNTIME_DIR: "/run/user/1000", DENO_WEBGPU_BACKEND: "gl" });
  assertEquals(prepareWebGpuEnvironment(env, "linux"), {});
  assertEquals(env.vars.get("DENO_WEBGPU_BACKEND"), "gl");
  assertEquals(env.vars.get("XDG_RUNTIME_DIR"), "/run/user/1000");
});

Deno.test("prepareWebGpuEnvironment() leaves the backend to Deno off Linux (Metal, DX12)", () => {
  const env = environment({});
  assertEquals(prepareWebGpuEnvironment(env, "darwin"), { XDG_RUNTIME_DIR: "/tmp" });
  assertEquals(env.vars.has("DENO_WEBGPU_BACKEND"), false);
});

Deno.test("prepareWebGpuEnvironment() counts an empty variable as unset", () => {
  const env = environment({ DENO_WEBGPU_BACKEND: "", XDG_RUNTIME_DIR: "/x" });
  assertEquals(prepareWebGpuEnvironment(env, "linux"), { DENO_WEBGPU_BACKEND: "vulkan" });
});

Deno.test({
  // The default would also start OpenGL through EGL: a second LLVM software driver beside
  // lavapipe, which offers no adapter; with it, 4 of 107 test processes aborted at exit.
  name: webgpuTestName("requestWebGpuAdapter() on Linux finds the adapter without loading EGL"),
  ignore: noWebgpu || Deno.build.os !== "linux",
  async fn() {
    const code = `
      import { requestWebGpuAdapter } from "./pipeline/backend/webgpu_adapter.ts";
      const adapter = await requestWebGpuAdapter();
      const maps = Deno.readTextFileSync("/proc/self/maps");
      console.log(JSON.stringify({
        adapter: adapter?.info?.description ?? null,
        backend: Deno.env.get("DENO_WEBGPU_BACKEND"),
        egl: /libEGL/.test(maps),
      }));`;
    // A clean environment: this test process may already have the variable set.
    const keep = ["HOME", "PATH", "DENO_DIR", "TMPDIR"].filter((name) => Deno.env.get(name));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      cwd: REPO,
      clearEnv: true,
      env: Object.fromEntries(keep.map((name) => [name, Deno.env.get(name)!])),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
    const seen = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").pop()!);
    assertEquals(typeof seen.adapter, "string", "an adapter with a description");
    assertEquals(seen.backend, "vulkan");
    assertEquals(seen.egl, false, "libEGL is not mapped");
  },
});
