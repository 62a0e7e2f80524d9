{
  "targets": [
    {
      "target_name": "nnid_linalg",
      "sources": ["src/linalg.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"],
      "include_dirs": ["<!@(node -p \"process.env.NNID_BLAS_INCLUDE || ''\")"],
      "libraries": ["-llapacke", "-lopenblas"]
    }
  ]
}
