import { describe } from 'vitest';
import { useTier } from '../src/index.ts';
import { contract } from './contract.ts';

useTier('typescript');

describe('typescript tier', () => {
  contract();
});
