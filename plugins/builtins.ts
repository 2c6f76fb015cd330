/**
 * The plugins every recipe has without listing them: the core plugin (the
 * reference method) and the synthetic data set.
 *
 * @module
 */
import type { Plugin } from "../mod.ts";
import core from "./core/mod.ts";
import synthetic from "./synthetic/mod.ts";

/** The built-in plugins, in registration order. */
export const BUILTIN_PLUGINS: readonly Plugin[] = [core, synthetic];
