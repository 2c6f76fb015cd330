/**
 * Where the tests read DRIVE: `$CAPILLARY_DRIVE`, else `../shared/data/DRIVE`
 * beside the checkout, the places `core/drive` looks too. One definition, so a
 * clone elsewhere runs the DRIVE tests with `CAPILLARY_DRIVE=/path/to/DRIVE`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The DRIVE folder (holding `training/` and `test/`), without a trailing slash. */
export const DRIVE_ROOT: string = Deno.env.get("CAPILLARY_DRIVE") ??
  fileURLToPath(new URL("../../shared/data/DRIVE", import.meta.url));
