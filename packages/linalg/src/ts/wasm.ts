/**
 * The TypeScript tier's inner product kernel in WebAssembly SIMD (f64x2), assembled here from
 * its instructions (no toolchain, no binary file): Node has run WebAssembly SIMD since v16.4, so
 * the tier still needs nothing but Node. When the module does not validate, `wasmKernel()` is
 * null and the plain TypeScript loops run instead.
 *
 * The kernel updates a 4 x 4 tile of C by the product of a packed 4-row micro-panel of A and a
 * packed 4-column micro-panel of B over kc terms: for each entry, s = 0, then s += a_ip b_jp for
 * p = 0..kc-1 in order, then c += s (or c -= s). Each f64x2 lane is one entry of C, and f64x2.mul
 * and f64x2.add round exactly like scalar `*` and `+` (WebAssembly never fuses them), so every
 * entry gets the same bits as the scalar loops that sum in the same order.
 */

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const I32 = 0x7f;
const V128 = 0x7b;
const F64 = 0x7c;

// instructions
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const I32_ADD = [0x6a];
const I32_SUB = [0x6b];
const I32_MUL = [0x6c];
const I32_SHL = [0x74];
const I32_EQZ = [0x45];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const memarg = (align: number, offset: number) => [...uleb(align), ...uleb(offset)];
const v128Load = (offset: number) => simd(0x00, ...memarg(3, offset));
const v128Store = (offset: number) => simd(0x0b, ...memarg(3, offset));
const load64Splat = (offset: number) => simd(0x0a, ...memarg(3, offset));
const V128_ZERO = simd(0x0c, ...new Array(16).fill(0));
const F64X2_ADD = simd(0xf0);
const F64X2_SUB = simd(0xf1);
const F64X2_MUL = simd(0xf2);
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const IF = [0x04, 0x40];
const ELSE = [0x05];
const END = [0x0b];
const BR_IF = (depth: number) => [0x0d, ...uleb(depth)];
const BR = (depth: number) => [0x0c, ...uleb(depth)];

/**
 * tiles(ap, bp, kc, c, ldc, count, subtract): for q = 0..count-1, the 4 x 4 tile of C at byte
 * address c + 32 q (row stride ldc doubles) gets += (or -= when subtract) A_micro B_micro^T,
 * A_micro at byte address ap (kc x 4, interleaved: the 4 rows' values of term p at ap + 32 p),
 * B_micro at bp + q kc 32 (the same layout for 4 columns).
 */
/** MR rows per A micro-panel (4: 2, 3, 5 and 6 measured slower on this machine, 6 by 20%). */
function tilesFunction(MR = 4): number[] {
  // params: 0 ap, 1 bp, 2 kc, 3 c, 4 ldc, 5 count, 6 subtract
  // locals: 7 q, 8 t, 9 pa, 10 pb, 11 cp, 12 rowBytes, 13..20 acc, 21 b0, 22 b1, 23 s
  const Q = 7, T = 8, PA = 9, PB = 10, CP = 11, RB = 12, ACC = 13, B0 = ACC + 2 * MR, B1 = B0 + 1, S = B1 + 1;
  const body: number[] = [];
  const emit = (...xs: number[][]) => xs.forEach((x) => body.push(...x));
  emit(get(4), i32c(3), I32_SHL, set(RB));
  emit(i32c(0), set(Q));
  emit(get(1), set(PB));
  emit(BLOCK, get(5), I32_EQZ, BR_IF(0), LOOP);
  // acc = 0
  for (let r = 0; r < 2 * MR; r++) emit(V128_ZERO, set(ACC + r));
  emit(get(0), set(PA), get(2), set(T));
  emit(LOOP);
  emit(get(PB), v128Load(0), set(B0), get(PB), v128Load(16), set(B1));
  for (let r = 0; r < MR; r++) {
    emit(get(PA), load64Splat(8 * r), set(S));
    emit(get(ACC + 2 * r), get(S), get(B0), F64X2_MUL, F64X2_ADD, set(ACC + 2 * r));
    emit(get(ACC + 2 * r + 1), get(S), get(B1), F64X2_MUL, F64X2_ADD, set(ACC + 2 * r + 1));
  }
  emit(get(PA), i32c(8 * MR), I32_ADD, set(PA));
  emit(get(PB), i32c(32), I32_ADD, set(PB));
  emit(get(T), i32c(1), I32_SUB, [0x22, ...uleb(T)] /* local.tee */, BR_IF(0));
  emit(END);
  // C tile update: row r at cp + r * rowBytes
  emit(get(3), get(Q), i32c(5), I32_SHL, I32_ADD, set(CP));
  for (let r = 0; r < MR; r++) {
    const op = (sub: boolean) => {
      const f = sub ? F64X2_SUB : F64X2_ADD;
      emit(get(CP), get(CP), v128Load(0), get(ACC + 2 * r), f, v128Store(0));
      emit(get(CP), get(CP), v128Load(16), get(ACC + 2 * r + 1), f, v128Store(16));
    };
    emit(get(6), IF);
    op(true);
    emit(ELSE);
    op(false);
    emit(END);
    emit(get(CP), get(RB), I32_ADD, set(CP));
  }
  emit(get(Q), i32c(1), I32_ADD, [0x22, ...uleb(Q)], get(5), [0x49] /* i32.lt_u */, BR_IF(0));
  emit(END, END); // loop, block
  void BR;
  void I32_MUL;
  const locals = [...uleb(2), ...uleb(6), I32, ...uleb(2 * MR + 3), V128];
  const code = [...locals, ...body, ...END];
  return [...uleb(code.length), ...code];
}

/**
 * column(pp, count, jb, tj, lj, inv): one column of a Cholesky panel for `count` 4-row
 * micro-panels (kc = jb, the layout of `tiles`) from byte address pp: for each row i,
 *   x = P(i, tj); x -= P(i, t) L(t) for t = 0..tj-1 in order; P(i, tj) = x * inv,
 * with L(t) at byte address lj + 32 t (row j of the same packed panel).
 */
function columnFunction(): number[] {
  // params: 0 pp, 1 count, 2 jb, 3 tj, 4 lj, 5 inv (f64)
  // locals: 6 base, 7 xa, 8 pa, 9 pl, 10 t, 11 stride, 12 x0, 13 x1, 14 l, 15 vinv
  const BASE = 6, XA = 7, PA = 8, PL = 9, T = 10, STRIDE = 11, X0 = 12, X1 = 13, L = 14, VINV = 15;
  const body: number[] = [];
  const emit = (...xs: number[][]) => xs.forEach((x) => body.push(...x));
  emit(get(2), i32c(5), I32_SHL, set(STRIDE));
  emit([0x20, 5], simd(0x14), set(VINV)); // f64x2.splat(inv)
  emit(get(0), set(BASE));
  emit(BLOCK, get(1), I32_EQZ, BR_IF(0), LOOP);
  emit(get(BASE), get(3), i32c(5), I32_SHL, I32_ADD, set(XA));
  emit(get(XA), v128Load(0), set(X0), get(XA), v128Load(16), set(X1));
  emit(get(BASE), set(PA), get(4), set(PL), get(3), set(T));
  emit(BLOCK, get(T), I32_EQZ, BR_IF(0), LOOP);
  emit(get(PL), load64Splat(0), set(L));
  emit(get(X0), get(PA), v128Load(0), get(L), F64X2_MUL, F64X2_SUB, set(X0));
  emit(get(X1), get(PA), v128Load(16), get(L), F64X2_MUL, F64X2_SUB, set(X1));
  emit(get(PA), i32c(32), I32_ADD, set(PA), get(PL), i32c(32), I32_ADD, set(PL));
  emit(get(T), i32c(1), I32_SUB, [0x22, ...uleb(T)], BR_IF(0));
  emit(END, END);
  emit(get(XA), get(X0), get(VINV), F64X2_MUL, v128Store(0));
  emit(get(XA), get(X1), get(VINV), F64X2_MUL, v128Store(16));
  emit(get(BASE), get(STRIDE), I32_ADD, set(BASE));
  emit(get(1), i32c(1), I32_SUB, [0x22, 1], BR_IF(0));
  emit(END, END);
  const locals = [...uleb(2), ...uleb(6), I32, ...uleb(4), V128];
  const code = [...locals, ...body, ...END];
  return [...uleb(code.length), ...code];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

function moduleBytes(): Uint8Array {
  const type = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])];
  const columnType = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [F64]]), ...vec([])];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type, columnType])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([uleb(0), uleb(1)])),
    ...section(7, vec([[...name('tiles'), 0x00, ...uleb(0)], [...name('column'), 0x00, ...uleb(1)]])),
    ...section(10, vec([tilesFunction(), columnFunction()])),
  ];
  return new Uint8Array(bytes);
}

/** The kernel and its memory, one per thread (a module instance is per thread). */
export interface WasmKernel {
  /** Float64 view of the whole memory (renewed by `reserve`). */
  f64: Float64Array;
  /** Makes the memory at least `doubles` long; returns the (possibly new) view. */
  reserve(doubles: number): Float64Array;
  /** After a call: drops this instance when its memory grew past RETAINED_BYTES (WebAssembly memory never shrinks; the next call makes a new one). */
  release(): void;
  tiles(ap: number, bp: number, kc: number, c: number, ldc: number, count: number, subtract: number): void;
  column(pp: number, count: number, jb: number, tj: number, lj: number, inv: number): void;
}

let kernel: WasmKernel | null | undefined;
/** Memory kept between calls (64 MiB: a 2800 x 2800 product); larger instances are dropped after their call. */
const RETAINED_BYTES = 64 * 2 ** 20;
let enabled = true;

/** The part of the WebAssembly JS API used here (the tsconfig's libs do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

function instantiate(): WasmKernel | null {
  try {
    const WebAssembly = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (typeof WebAssembly !== 'object') return null;
    const bytes = moduleBytes();
    if (!WebAssembly.validate(bytes)) return null;
    const memory = new WebAssembly.Memory({ initial: 16 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const tiles = instance.exports.tiles as WasmKernel['tiles'];
    const column = instance.exports.column as WasmKernel['column'];
    const k: WasmKernel = {
      f64: new Float64Array(memory.buffer),
      reserve(doubles) {
        const bytesNeeded = doubles * 8;
        if (memory.buffer.byteLength < bytesNeeded) {
          memory.grow(Math.ceil((bytesNeeded - memory.buffer.byteLength) / 65536));
        }
        if (k.f64.buffer !== memory.buffer) k.f64 = new Float64Array(memory.buffer);
        return k.f64;
      },
      release() {
        if (memory.buffer.byteLength > RETAINED_BYTES && kernel === k) kernel = undefined;
      },
      tiles,
      column,
    };
    return k;
  } catch {
    return null;
  }
}

/** The WebAssembly kernel of this thread, or null when WebAssembly SIMD is unavailable (or switched off). */
export function wasmKernel(): WasmKernel | null {
  if (!enabled) return null;
  if (kernel === undefined) kernel = instantiate();
  return kernel;
}

/**
 * Switches the WebAssembly kernels on or off in this thread (tests: both paths must give the same
 * bits; `NNID_LINALG_WASM=0` switches them off at load). Returns the previous setting.
 */
export function useWasmKernels(on: boolean): boolean {
  const before = enabled;
  enabled = on;
  return before;
}

if (typeof process !== 'undefined' && process.env?.NNID_LINALG_WASM === '0') enabled = false;
