/*
 * nnid_linalg: the native tier of @nnid/linalg. A thin N-API layer over OpenBLAS (CBLAS) and
 * LAPACKE. Every function takes dense Float64Arrays whose shapes the TypeScript surface has
 * already validated; here we only assert that each array is long enough (a wrong length would
 * corrupt memory) and translate row-major storage into what BLAS/LAPACK want.
 * Functions return LAPACK's info (0 = success).
 */
#include <node_api.h>
#include <cblas.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#define MAX_ARGS 10

typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  bool failed;
} Args;

static void fail(Args *a, const char *message) {
  if (!a->failed) napi_throw_error(a->env, "E_NATIVE_LINALG", message);
  a->failed = true;
}

static bool load(Args *a, napi_env env, napi_callback_info info, size_t expected) {
  a->env = env;
  a->argc = MAX_ARGS;
  a->failed = false;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok || a->argc < expected) {
    fail(a, "nnid_linalg: wrong number of arguments");
    return false;
  }
  return true;
}

static int64_t arg_int(Args *a, size_t i) {
  int64_t v = 0;
  if (a->failed) return 0;
  if (napi_get_value_int64(a->env, a->argv[i], &v) != napi_ok || v < 0) fail(a, "nnid_linalg: expected a nonnegative integer");
  return v;
}

static double arg_double(Args *a, size_t i) {
  double v = 0;
  if (a->failed) return 0;
  if (napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) fail(a, "nnid_linalg: expected a number");
  return v;
}

static bool arg_bool(Args *a, size_t i) {
  bool v = false;
  if (a->failed) return false;
  if (napi_get_value_bool(a->env, a->argv[i], &v) != napi_ok) fail(a, "nnid_linalg: expected a boolean");
  return v;
}

/* The data of a Float64Array that must hold at least `need` numbers. */
static double *arg_f64(Args *a, size_t i, int64_t need) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (a->failed) return NULL;
  if (napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float64_array) {
    fail(a, "nnid_linalg: expected a Float64Array");
    return NULL;
  }
  if ((int64_t)length < need) {
    fail(a, "nnid_linalg: a Float64Array is shorter than its shape requires");
    return NULL;
  }
  return (double *)data;
}

static napi_value ret_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static void mirror_upper(double *c, lapack_int n) {
  for (lapack_int i = 1; i < n; i++)
    for (lapack_int j = 0; j < i; j++) c[(size_t)i * n + j] = c[(size_t)j * n + i];
}

/* gemm(transA, transB, m, n, k, a, lda, b, ldb, c): c (m x n) = op(a) op(b), row-major. */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  Args a;
  if (!load(&a, env, info, 10)) return NULL;
  bool ta = arg_bool(&a, 0), tb = arg_bool(&a, 1);
  int64_t m = arg_int(&a, 2), n = arg_int(&a, 3), k = arg_int(&a, 4), lda = arg_int(&a, 6), ldb = arg_int(&a, 8);
  int64_t arows = ta ? k : m, acols = ta ? m : k, brows = tb ? n : k, bcols = tb ? k : n;
  if (!a.failed && (lda < acols || ldb < bcols || lda < 1 || ldb < 1)) fail(&a, "nnid_linalg: gemm: leading dimension too small");
  double *pa = arg_f64(&a, 5, arows > 0 ? (arows - 1) * lda + acols : 0);
  double *pb = arg_f64(&a, 7, brows > 0 ? (brows - 1) * ldb + bcols : 0);
  double *pc = arg_f64(&a, 9, m * n);
  if (a.failed) return NULL;
  if (m == 0 || n == 0) return ret_int(env, 0);
  if (k == 0) {
    memset(pc, 0, sizeof(double) * (size_t)(m * n));
    return ret_int(env, 0);
  }
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, 1.0, pa,
              (blasint)lda, pb, (blasint)ldb, 0.0, pc, (blasint)n);
  return ret_int(env, 0);
}

/* gram(columns, n, p, x, ldx, out): out = x^T x (p x p) or x x^T (n x n), exactly symmetric. */
static napi_value js_gram(napi_env env, napi_callback_info info) {
  Args a;
  if (!load(&a, env, info, 6)) return NULL;
  bool columns = arg_bool(&a, 0);
  int64_t n = arg_int(&a, 1), p = arg_int(&a, 2), ldx = arg_int(&a, 4);
  if (!a.failed && (ldx < p || ldx < 1)) fail(&a, "nnid_linalg: gram: leading dimension too small");
  double *x = arg_f64(&a, 3, n > 0 ? (n - 1) * ldx + p : 0);
  int64_t size = columns ? p : n;
  double *out = arg_f64(&a, 5, size * size);
  if (a.failed) return NULL;
  if (size == 0) return ret_int(env, 0);
  if ((columns ? n : p) == 0) {
    memset(out, 0, sizeof(double) * (size_t)(size * size));
    return ret_int(env, 0);
  }
  cblas_dsyrk(CblasRowMajor, CblasUpper, columns ? CblasTrans : CblasNoTrans, (blasint)size, (blasint)(columns ? n : p), 1.0, x,
              (blasint)ldx, 0.0, out, (blasint)size);
  mirror_upper(out, (lapack_int)size);
  return ret_int(env, 0);
}

/*
 * The k largest eigenpairs of the symmetric n x n matrix a (destroyed) by dsyevr (MRRR):
 * values descending, vectors as columns of the row-major n x k array.
 */
static int sym_eig_top(lapack_int n, lapack_int k, double *pa, double *values, double *vectors) {
  double *w = malloc(sizeof(double) * (size_t)n);
  double *z = malloc(sizeof(double) * (size_t)n * (size_t)k);
  lapack_int *isuppz = malloc(sizeof(lapack_int) * 2 * (size_t)(k > 0 ? k : 1));
  if (!w || !z || !isuppz) {
    free(w); free(z); free(isuppz);
    return -1000;
  }
  lapack_int found = 0;
  /* a symmetric full-storage matrix is the same in either layout: call column-major, no copies */
  lapack_int info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'V', k == n ? 'A' : 'I', 'L', n, pa, n, 0.0, 0.0, n - k + 1, n, 0.0, &found, w, z, n, isuppz);
  if (info == 0 && found != k) info = -2000;
  if (info == 0) {
    /* ascending -> descending; column-major z -> row-major columns */
    for (lapack_int j = 0; j < k; j++) {
      lapack_int src = k - 1 - j;
      values[j] = w[src];
      const double *col = z + (size_t)src * n;
      for (lapack_int i = 0; i < n; i++) vectors[(size_t)i * k + j] = col[i];
    }
  }
  free(w); free(z); free(isuppz);
  return info;
}

/* symEig(n, a, values, vectors) */
static napi_value js_sym_eig(napi_env env, napi_callback_info info) {
  Args a;
  if (!load(&a, env, info, 4)) return NULL;
  int64_t n = arg_int(&a, 0);
  double *pa = arg_f64(&a, 1, n * n), *values = arg_f64(&a, 2, n), *vectors = arg_f64(&a, 3, n * n);
  if (a.failed) return NULL;
  if (n == 0) return ret_int(env, 0);
  return ret_int(env, sym_eig_top((lapack_int)n, (lapack_int)n, pa, values, vectors));
}

/* symEigTop(n, k, a, values, vectors) */
static napi_value js_sym_eig_top(napi_env env, napi_callback_info info) {
  Args a;
  if (!load(&a, env, info, 5)) return NULL;
  int64_t n = arg_int(&a, 0), k = arg_int(&a, 1);
  if (!a.failed && k > n) fail(&a, "nnid_linalg: symEigTop: k > n");
  double *pa = arg_f64(&a, 2, n * n), *values = arg_f64(&a, 3, k), *vectors = arg_f64(&a, 4, n * k);
  if (a.failed) return NULL;
  if (n == 0 || k == 0) return ret_int(env, 0);
  return ret_int(env, sym_eig_top((lapack_int)n, (lapack_int)k, pa, values, vectors));
}

/*
 * svd(n, p, a, values, left, right): thin SVD by dgesdd. The row-major n x p matrix is the
 * column-major p x n matrix A^T = U' S V'^T, so left = V' (whose column-major transpose vt is
 * exactly the row-major n x r left) and right = U' (transposed on the way out).
 */
static napi_value js_svd(napi_env env, napi_callback_info info) {
  Args a;
  if (!load(&a, env, info, 6)) return NULL;
  int64_t n = arg_int(&a, 0), p = arg_int(&a, 1);
  int64_t r = n < p ? n : p;
  double *pa = arg_f64(&a, 2, n * p), *values = arg_f64(&a, 3, r), *left = arg_f64(&a, 4, n * r), *right = arg_f64(&a, 5, p * r);
  if (a.failed) return NULL;
  if (r == 0) return ret_int(env, 0);
  double *u = malloc(sizeof(double) * (size_t)(p * r));
  if (!u) return ret_int(env, -1000);
  lapack_int info_ = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (lapack_int)p, (lapack_int)n, pa, (lapack_int)p, values, u, (lapack_int)p, left, (lapack_int)r);
  if (info_ == 0) {
    for (int64_t i = 0; i < p; i++)
      for (int64_t j = 0; j < r; j++) right[i * r + j] = u[i + j * p];
  }
  free(u);
  return ret_int(env, info_);
}

/* qr(n, p, a, q, r): thin Householder QR by dgeqrf + dorgqr (row-major through LAPACKE). */
static napi_value js_qr(napi_env env, napi_callback_info info) {
  Args a;
  if (!load(&a, env, info, 5)) return NULL;
  int64_t n = arg_int(&a, 0), p = arg_int(&a, 1);
  int64_t r = n < p ? n : p;
  double *pa = arg_f64(&a, 2, n * p), *q = arg_f64(&a, 3, n * r), *rr = arg_f64(&a, 4, r * p);
  if (a.failed) return NULL;
  if (r == 0) return ret_int(env, 0);
  double *tau = malloc(sizeof(double) * (size_t)r);
  if (!tau) return ret_int(env, -1000);
  lapack_int info_ = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)p, pa, (lapack_int)p, tau);
  if (info_ == 0) {
    for (int64_t i = 0; i < r; i++)
      for (int64_t j = 0; j < p; j++) rr[i * p + j] = j >= i ? pa[i * p + j] : 0.0;
    info_ = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)r, (lapack_int)r, pa, (lapack_int)p, tau);
  }
  if (info_ == 0) {
    for (int64_t i = 0; i < n; i++) memcpy(q + i * r, pa + i * p, sizeof(double) * (size_t)r);
  }
  free(tau);
  return ret_int(env, info_);
}

/*
 * choleskySolve(n, k, a, b, jitter): (A + jitter I) X = B. The row-major lower triangle is the
 * column-major upper one, so dpotrf runs on `a` in place; b is transposed to column-major for
 * dpotrs and back. Returns dpotrf's info (> 0: the leading minor of that order is not PD).
 */
static napi_value js_cholesky_solve(napi_env env, napi_callback_info info) {
  Args a;
  if (!load(&a, env, info, 5)) return NULL;
  int64_t n = arg_int(&a, 0), k = arg_int(&a, 1);
  double *pa = arg_f64(&a, 2, n * n), *pb = arg_f64(&a, 3, n * k);
  double jitter = arg_double(&a, 4);
  if (a.failed) return NULL;
  if (n == 0) return ret_int(env, 0);
  for (int64_t i = 0; i < n; i++) pa[i * n + i] += jitter;
  lapack_int info_ = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, pa, (lapack_int)n);
  if (info_ != 0 || k == 0) return ret_int(env, info_);
  double *bt = malloc(sizeof(double) * (size_t)(n * k));
  if (!bt) return ret_int(env, -1000);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k; j++) bt[j * n + i] = pb[i * k + j];
  info_ = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', (lapack_int)n, (lapack_int)k, pa, (lapack_int)n, bt, (lapack_int)n);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k; j++) pb[i * k + j] = bt[j * n + i];
  free(bt);
  /* dpotrs only fails on bad arguments: report as negative */
  return ret_int(env, info_ > 0 ? -info_ : info_);
}

static napi_value js_threads(napi_env env, napi_callback_info info) {
  (void)info;
  return ret_int(env, openblas_get_num_threads());
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_int32(env, argv[0], &n);
  if (n < 1) n = 1;
  openblas_set_num_threads(n);
  return ret_int(env, openblas_get_num_threads());
}

static napi_value init(napi_env env, napi_value exports) {
  /* OpenBLAS's thread count is process-wide; nnid parallelizes with worker threads instead. */
  openblas_set_num_threads(1);
  napi_property_descriptor props[] = {
      {"gemm", NULL, js_gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gram", NULL, js_gram, NULL, NULL, NULL, napi_enumerable, NULL},
      {"symEig", NULL, js_sym_eig, NULL, NULL, NULL, napi_enumerable, NULL},
      {"symEigTop", NULL, js_sym_eig_top, NULL, NULL, NULL, napi_enumerable, NULL},
      {"svd", NULL, js_svd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"qr", NULL, js_qr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"choleskySolve", NULL, js_cholesky_solve, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, js_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, js_set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
