"""ve_fuzz_test: one source, two binaries.

    ve_fuzz_test(
        name = "envelope_fuzz",
        srcs = ["envelope_fuzz.cc"],      # defines LLVMFuzzerTestOneInput
        corpus = glob(["corpus/**"]),
        deps = ["//security/envelope"],
    )

Under `--config=fuzz` (clang-14) the target links libFuzzer with ASan and
UBSan: `bazel run --config=fuzz //fuzz/x:x_fuzz -- -max_total_time=60`.
Under every other config it is a regression test whose main
(//bazel/fuzz:replay_main) feeds every seed-corpus file to the target, so
`bazel test //...` replays every corpus on every run.
"""

def ve_fuzz_test(name, srcs, corpus, deps = [], tags = [], **kwargs):
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//bazel/fuzz:libfuzzer": [],
            "//conditions:default": ["//bazel/fuzz:replay_main"],
        }),
        linkopts = select({
            "//bazel/fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = corpus,
        args = ["$(location %s)" % c for c in corpus],
        tags = tags + ["fuzz"],
        **kwargs
    )
