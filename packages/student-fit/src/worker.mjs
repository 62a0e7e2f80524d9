// Piscina worker entry. The sources are TypeScript: register tsx inside this worker thread
// (loader hooks registered in the parent do not reach worker threads), then load the task.
import { register } from 'tsx/esm/api';

register();
const { default: startTask } = await import('./worker-task.ts');

export default startTask;
