import { rng, type Network } from '@nnid/core';
import { layoutOf, packParameters, unpackParameters } from '@nnid/refine';

/** The network with eps * N(0, 1) added to every parameter, in refine's packing order. */
export function perturb(net: Network, eps: number, seed: number): Network {
  const layout = layoutOf(net);
  const p = packParameters(net, layout);
  const s = rng(seed);
  for (let k = 0; k < p.length; k++) p[k] += eps * s.normal();
  return unpackParameters(p, layout);
}
