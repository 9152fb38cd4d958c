{
  "variables": {
    "kernel_sources": [
      "native/blas.c", "native/gemm.c", "native/conv.c", "native/pool.c", "native/norm.c",
      "native/act.c", "native/loss.c", "native/optim.c", "native/augment.c", "native/table.c"
    ],
    "common_cflags": [
      "-O3", "-std=gnu11", "-fPIC", "-fno-math-errno", "-fno-trapping-math",
      "-Wall", "-Wno-unused-function", "-Wno-unknown-pragmas"
    ]
  },
  "targets": [
    {
      "target_name": "fitlab_kernels_generic",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "defines": ["FL_ARCH_GENERIC"],
      "cflags": ["<@(common_cflags)"],
      "xcode_settings": { "OTHER_CFLAGS": ["<@(common_cflags)"] }
    },
    {
      "target_name": "fitlab",
      "sources": ["native/addon.c", "native/threadpool.c", "native/ctx.c"],
      "dependencies": ["fitlab_kernels_generic"],
      "cflags": ["<@(common_cflags)", "-pthread"],
      "xcode_settings": { "OTHER_CFLAGS": ["<@(common_cflags)"] },
      "libraries": ["-lm"],
      "conditions": [
        ["target_arch=='x64'", {
          "defines": ["FL_HAVE_X86"],
          "dependencies": ["fitlab_kernels_avx2", "fitlab_kernels_avx512"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "fitlab_kernels_avx2",
          "type": "static_library",
          "sources": ["<@(kernel_sources)"],
          "defines": ["FL_ARCH_AVX2"],
          "cflags": ["<@(common_cflags)", "-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CFLAGS": ["<@(common_cflags)", "-mavx2", "-mfma"] }
        },
        {
          "target_name": "fitlab_kernels_avx512",
          "type": "static_library",
          "sources": ["<@(kernel_sources)"],
          "defines": ["FL_ARCH_AVX512"],
          "cflags": ["<@(common_cflags)", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq",
                     "-mavx2", "-mfma", "-mprefer-vector-width=512"],
          "xcode_settings": { "OTHER_CFLAGS": ["<@(common_cflags)", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma"] }
        }
      ]
    }]
  ]
}
