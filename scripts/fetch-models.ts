import { fetchModelsCommand } from '../src/cli/fetch-models.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
process.exitCode = await fetchModelsCommand(process.argv.slice(2), { signal: controller.signal });
