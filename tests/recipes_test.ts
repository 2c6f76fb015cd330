/**
 * Every recipe shipped in `recipes/` loads and validates (nothing is
 * trained), and its resolved rendering loads back to the same recipe.
 */
import { assertEquals } from "./assert.ts";
import { loadRecipe, renderResolvedRecipe, VERSION } from "../mod.ts";
import { resolvedRecipeObject } from "../pipeline/recipe/render.ts";
import { BUILTIN_PLUGINS } from "../plugins/builtins.ts";

const folder = new URL("../recipes/", import.meta.url);
const files: string[] = [];
for await (const entry of Deno.readDir(folder)) {
  if (entry.isFile && /\.ya?ml$/.test(entry.name)) files.push(entry.name);
}
files.sort();

Deno.test("recipes/ holds at least the smoke recipe", () => {
  assertEquals(files.includes("drive-smoke.yaml"), true, files.join(", "));
});

for (const name of files) {
  Deno.test(`loadRecipe() loads recipes/${name} and its rendering round-trips`, async () => {
    const file = new URL(name, folder).pathname;
    const { recipe } = await loadRecipe(file, { builtins: BUILTIN_PLUGINS });
    assertEquals(recipe.file, file);
    for (const kind of ["load", "model", "train", "evaluate"] as const) {
      assertEquals(recipe.stages.get(kind)?.length, 1, `${name}: ${kind}`);
    }
    const rendered = renderResolvedRecipe(recipe, VERSION);
    assertEquals(rendered.startsWith(`# Resolved from ${file} by Capillary ${VERSION}\n`), true);
    const dir = await Deno.makeTempDir();
    try {
      const copy = `${dir}/${name}`;
      await Deno.writeTextFile(copy, rendered);
      const again = (await loadRecipe(copy, { builtins: BUILTIN_PLUGINS })).recipe;
      assertEquals(resolvedRecipeObject(again), resolvedRecipeObject(recipe), name);
      for (const [kind, stages] of recipe.stages) {
        assertEquals(
          again.stages.get(kind)!.map((s) => s.registered),
          stages.map((s) => s.registered),
          `${name}: ${kind}`,
        );
      }
      // A fixed point: rendering the reloaded recipe changes nothing but the source line.
      const body = (text: string) => text.split("\n").slice(1).join("\n");
      assertEquals(body(renderResolvedRecipe(again, VERSION)), body(rendered), name);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
