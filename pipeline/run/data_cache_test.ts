import { assertEquals } from "../../tests/assert.ts";
import type { SegmentationData } from "../data.ts";
import { dataCacheKey, decodeData, encodeData } from "./data_cache.ts";

const raster = (w: number, h: number, c: number, seed: number) => ({
  width: w,
  height: h,
  channels: c,
  data: Float32Array.from({ length: w * h * c }, (_, i) => Math.sin(seed + i)),
});

Deno.test("encodeData and decodeData round-trip every raster, id and source exactly", () => {
  const data: SegmentationData = {
    name: "tiny",
    train: [{
      id: "a",
      source: "a.tif",
      image: raster(3, 2, 3, 1),
      mask: raster(3, 2, 1, 2),
      roi: raster(3, 2, 1, 3),
    }],
    test: [{
      id: "b",
      image: raster(1, 5, 1, 4),
      mask: raster(1, 5, 1, 5),
      roi: raster(1, 5, 1, 6),
      extra: { "2nd_manual": raster(1, 5, 1, 7) },
    }],
  };
  const back = decodeData(encodeData(data));
  assertEquals(back.name, "tiny");
  assertEquals(back.train[0].source, "a.tif");
  assertEquals(back.test[0].source, undefined);
  for (const [s, t] of [[data.train[0], back.train[0]], [data.test[0], back.test[0]]]) {
    assertEquals(t.id, s.id);
    for (const key of ["image", "mask", "roi"] as const) {
      assertEquals([t[key].width, t[key].height, t[key].channels], [
        s[key].width,
        s[key].height,
        s[key].channels,
      ]);
      assertEquals(Array.from(t[key].data), Array.from(s[key].data), `${s.id} ${key}`);
    }
  }
  assertEquals(
    Array.from(back.test[0].extra!["2nd_manual"].data),
    Array.from(data.test[0].extra!["2nd_manual"].data),
  );
});

Deno.test("dataCacheKey changes with a file's content and with an option, not otherwise", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/image.tif`;
    await Deno.writeFile(file, new Uint8Array([1, 2, 3]));
    const stage = (options: Record<string, unknown>) =>
      ({
        id: "p/load",
        options,
        registered: { plugin: { version: "1.0.0" } },
      }) as unknown as import("../recipe/validate.ts").ResolvedStage;
    const key = await dataCacheKey([stage({ limit: 2 })], [file]);
    assertEquals(await dataCacheKey([stage({ limit: 2 })], [file]), key);
    assertEquals(key === await dataCacheKey([stage({ limit: 3 })], [file]), false);
    await Deno.writeFile(file, new Uint8Array([1, 2, 4]));
    assertEquals(key === await dataCacheKey([stage({ limit: 2 })], [file]), false);
    // A file gone: no key, so the load stage runs and names the file in its own words.
    assertEquals(
      await dataCacheKey([stage({ limit: 2 })], [file, `${dir}/missing.png`]),
      undefined,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
