/**
 * Imported for its effect, first, by every module that loads onnxruntime-node (and by the package entry).
 *
 * onnxruntime-node 1.30 keeps telemetry on Linux by default: each run appends events (a persistent device id,
 * OS, CPU, RAM, the model's file name, run counts) to ~/.cache/Microsoft/DeveloperTools/.onnxruntime/. earshot
 * writes nothing about its users anywhere, so the runtime is told not to. It reads ORT_DISABLE_TELEMETRY when its
 * environment is created (the first session), and Node passes process.env on to native getenv(); setting it
 * here, before the runtime is even imported, leaves no window. Always '1': this is a promise of the product,
 * not a default to inherit from the shell.
 */
process.env.ORT_DISABLE_TELEMETRY = '1';

export {};
