import { assertEquals, assertRejects } from "../tests/assert.ts";
import { withCleanup } from "./cleanup.ts";

Deno.test("withCleanup: cleans up after work that succeeds, and returns its result", async () => {
  const order: string[] = [];
  const result = await withCleanup(
    () => {
      order.push("work");
      return Promise.resolve(42);
    },
    () => {
      order.push("cleanup");
    },
  );
  assertEquals([result, order], [42, ["work", "cleanup"]]);
});

Deno.test("withCleanup: a failing cleanup after successful work is an error", async () => {
  await assertRejects(
    () => withCleanup(() => Promise.resolve(1), () => Promise.reject(new Error("leak"))),
    Error,
    "leak",
  );
});

Deno.test("withCleanup: work's error wins over the cleanup's, and cleanup still runs", async () => {
  let cleaned = 0;
  const error = await assertRejects(
    () =>
      withCleanup(
        () => Promise.reject(new RangeError("Invalid typed array length: 67108864")),
        () => {
          cleaned++;
          throw new Error("memory access out of bounds");
        },
      ),
    RangeError,
  );
  assertEquals([error.message, cleaned], ["Invalid typed array length: 67108864", 1]);
});
