import { defineConfig } from 'vitest/config';

// Worker-thread tests start pools (tsx is registered in each worker): allow for a loaded machine.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
