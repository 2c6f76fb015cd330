import { tf } from "../../pipeline/backend/tfjs.ts";
await tf.setBackend(Deno.args[0] ?? "cpu");
console.warn = () => {};
for (const f of [8, 16, 32, 64]) {
  const t = performance.now();
  const x = tf.initializers.orthogonal({ seed: 1 }).apply([3, 3, f, 4 * f]);
  await x.data();
  console.log(f, ((performance.now() - t) / 1000).toFixed(2), "s");
}
