/**
 * The one TensorFlow.js runtime every stage shares. Plugins receive it as
 * `context.tf`; importing a second copy would give a second kernel registry.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// PROD silences tfjs's console banners ("looks like you are running in Node")
// and skips debug-only checks.
tf.env().set("PROD", true);

export { tf };

/** The TensorFlow.js namespace type. */
export type Tf = typeof tf;

/** What a backend is used for: training, or predicting during evaluation. */
export type BackendRole = "train" | "inference";
