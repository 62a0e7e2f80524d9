// Piscina worker entry: registers tsx so the TypeScript sources run inside the worker thread.
import { register } from 'tsx/esm/api';

register();
const task = await import('./task.ts');
export default task.default;
