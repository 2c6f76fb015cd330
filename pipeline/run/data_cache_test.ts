import { assertEquals } from "../../tests/assert.ts";
import type { SegmentationData } from "../data.ts";
import { toFileUrl } from "../path.ts";
import { Random, RecordingRandom, stageRandom } from "../random.ts";
import { BUILT_IN } from "../registry.ts";
import { pluginSource } from "./plugin_source.ts";
import {
  dataCacheKey,
  decodeData,
  encodeData,
  readCachedEntry,
  readCachedWarnings,
  seededKey,
  writeCachedData,
} from "./data_cache.ts";

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

/** A stage of a plugin loaded from `origin`, as validation resolves it. */
const stageFrom = (origin: string, options: Record<string, unknown> = {}) =>
  ({
    id: "p/load",
    options,
    registered: { plugin: { version: "1.0.0" }, origin },
  }) as unknown as import("../recipe/validate.ts").ResolvedStage;

Deno.test("pluginSource digests a local plugin's modules, following its local imports", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/mod.ts`,
      'import { scale } from "./scale.ts";\nexport * from "./lib/more.ts";\n' +
        '// import "./gone.ts" (in a comment: not there, no matter)\nexport default scale;\n',
    );
    await Deno.writeTextFile(`${dir}/scale.ts`, "export const scale = (v: number) => v * 0.5;\n");
    await Deno.mkdir(`${dir}/lib`);
    await Deno.writeTextFile(`${dir}/lib/more.ts`, 'export { z } from "zod";\n');
    const before = await pluginSource("./mod.ts", dir);
    assertEquals(before?.specifier, toFileUrl(`${dir}/mod.ts`).href);
    assertEquals(typeof before?.digest, "string");
    // As loaded by absolute path or file: URL: the same record.
    assertEquals(await pluginSource(`${dir}/mod.ts`, "/elsewhere"), before);
    assertEquals(await pluginSource(toFileUrl(`${dir}/mod.ts`).href, "/elsewhere"), before);
    for (const [file, edit] of [["scale.ts", "v * 0.05"], ["lib/more.ts", "// more"]]) {
      const text = await Deno.readTextFile(`${dir}/${file}`);
      await Deno.writeTextFile(`${dir}/${file}`, text + `\n// ${edit}\n`);
      const after = await pluginSource("./mod.ts", dir);
      assertEquals(after!.digest === before!.digest, false, `${file} edited`);
      await Deno.writeTextFile(`${dir}/${file}`, text);
      assertEquals(await pluginSource("./mod.ts", dir), before, `${file} restored`);
    }
    // The key of data made by the plugin's stages changes with them.
    const key = await dataCacheKey([stageFrom("./mod.ts")], [], `${dir}/recipe.yaml`);
    await Deno.writeTextFile(`${dir}/scale.ts`, "export const scale = (v: number) => v * 0.05;\n");
    assertEquals(
      key === await dataCacheKey([stageFrom("./mod.ts")], [], `${dir}/recipe.yaml`),
      false,
    );
    // A module gone: no key (no cached data for a plugin whose code cannot be read).
    assertEquals(await pluginSource("./missing.ts", dir), undefined);
    assertEquals(await dataCacheKey([stageFrom("./missing.ts")], [], `${dir}/r.yaml`), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dataCacheKey records a remote plugin by its specifier and a built-in one by nothing", async () => {
  assertEquals(await pluginSource("npm:capillary-noise@1.2.0", "/r"), {
    specifier: "npm:capillary-noise@1.2.0",
  });
  const one = await dataCacheKey([stageFrom("npm:capillary-noise@1.2.0")], []);
  assertEquals(one === await dataCacheKey([stageFrom("npm:capillary-noise@1.3.0")], []), false);
  assertEquals(one === await dataCacheKey([stageFrom(BUILT_IN)], []), false);
  // Built-in stages' keys do not depend on where the recipe is.
  assertEquals(
    await dataCacheKey([stageFrom(BUILT_IN)], [], "/a/recipe.yaml"),
    await dataCacheKey([stageFrom(BUILT_IN)], [], "/b/recipe.yaml"),
  );
});

Deno.test("RecordingRandom draws as the generator it wraps and records any use", () => {
  const uses: [string, (r: Random) => unknown][] = [
    ["next", (r) => r.next()],
    ["int", (r) => r.int(10)],
    ["normal", (r) => r.normal()],
    ["fork", (r) => r.fork().next()],
    ["shuffle", (r) => r.shuffle([1, 2, 3])],
    ["state", (r) => new Random(r.state).next()],
    ["restore", (r) => r.restore(5)],
  ];
  for (const [name, use] of uses) {
    const random = RecordingRandom.of(stageRandom(3, "load"));
    assertEquals(random.used, false, name);
    const plain = stageRandom(3, "load");
    assertEquals(use(random), use(plain), name);
    assertEquals(random.used, true, name);
    assertEquals(random.next(), plain.next(), `${name}: then the same stream`);
  }
});

Deno.test("readCachedEntry serves data made without randomness to any seed, other data to its own", async () => {
  const dir = await Deno.makeTempDir();
  const cache = Deno.env.get("CAPILLARY_CACHE");
  Deno.env.set("CAPILLARY_CACHE", dir);
  try {
    const data = (v: number): SegmentationData => ({
      name: `v${v}`,
      train: [],
      test: [{
        id: "a",
        image: raster(1, 1, 1, v),
        mask: raster(1, 1, 1, 0),
        roi: raster(1, 1, 1, 0),
      }],
    });
    await writeCachedData("plain", data(1));
    assertEquals((await readCachedEntry("plain", 1))?.key, "plain");
    assertEquals((await readCachedEntry("plain", 2))?.data.name, "v1");
    await writeCachedData(await seededKey("drawn", 1), data(1), ["warning: one"]);
    await writeCachedData(await seededKey("drawn", 2), data(2));
    const one = await readCachedEntry("drawn", 1);
    assertEquals([one?.data.name, one?.key], ["v1", await seededKey("drawn", 1)]);
    assertEquals(await readCachedWarnings(one!.key), ["warning: one"]);
    assertEquals((await readCachedEntry("drawn", 2))?.data.name, "v2");
    assertEquals(await readCachedEntry("drawn", 3), undefined);
  } finally {
    if (cache === undefined) Deno.env.delete("CAPILLARY_CACHE");
    else Deno.env.set("CAPILLARY_CACHE", cache);
    await Deno.remove(dir, { recursive: true });
  }
});
