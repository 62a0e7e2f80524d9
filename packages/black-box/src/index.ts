/**
 * @nnid/black-box — real black boxes behind the one BlackBox interface: ONNX models, HTTP
 * endpoints (and a server for them), the ONNX export of a network, a persistent query store,
 * and `openOracleFromSpec`, which picks among them.
 */
export { onnxBlackBox, DEFAULT_ONNX_BATCH_SIZE } from './onnx.ts';
export type { OnnxBlackBox, OnnxBlackBoxOptions } from './onnx.ts';
export { exportOnnx, onnxModelBytes, onnxGeneralModelBytes, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx-export.ts';
export type { OnnxExportOptions } from './onnx-export.ts';
export { importOnnx, importOnnxBytes, OnnxImportError } from './onnx-import.ts';
export type { ImportedOnnx } from './onnx-import.ts';
export { parseSafetensors, readSafetensors, safetensorsBytes, writeSafetensors, SAFETENSORS_ACTIVATION_KEY } from './safetensors.ts';
export type { SafetensorsReadOptions } from './safetensors.ts';
export { httpBlackBox, BLACK_BOX_PROTOCOL } from './http.ts';
export { OracleHttpError, HTTP_DEFAULTS, redactUrl } from './request.ts';
export type { HttpBlackBox, HttpBlackBoxOptions, ServerDescription } from './http.ts';
export type { RetryEvent } from './request.ts';
export { serveNetwork, DEFAULT_MAX_BATCH } from './serve.ts';
export type { ServeOptions, ServedNetwork, RequestEvent } from './serve.ts';
export { openQueryStore, QueryStoreError, STORE_FILE, STORE_FORMAT } from './store.ts';
export type { QueryStore } from './store.ts';
export { openOracleFromSpec, oracleKind, findAdapter, specKinds, ORACLE_ADAPTERS, TOKEN_ENV } from './spec.ts';
export type { OracleSpecOptions, SpecOracle, OracleAdapter, AdapterContext } from './spec.ts';
export { checkStoredAnswers, STORE_CHECK_DEFAULTS } from './store-check.ts';
export type { OutputsSource, StoreCheckOptions, StoreCheckReport } from './store-check.ts';
export type { BatchListener } from './batches.ts';
