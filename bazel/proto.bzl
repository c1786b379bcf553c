"""Protobuf and gRPC C++ code generation with Debian's protoc and grpc_cpp_plugin.

    ve_proto_library(
        name = "tx_proto",
        srcs = ["tx.proto"],
        deps = [":common_proto"],   # other ve_proto_library targets
        grpc = True,                 # also generate *.grpc.pb.{h,cc}
    )

creates a cc_library `name` holding the generated code (linked with
@system//:protobuf, and @system//:grpcpp when grpc = True) and a filegroup
`name + "_srcs"` with this target's .proto files plus those of its deps, so
imports resolve. Import paths are workspace-relative
(`import "src/api/common/v1/common.proto";`); well-known types
(`google/protobuf/*.proto`) come from /usr/include.
"""

_PROTOC = "/usr/bin/protoc"
_GRPC_PLUGIN = "/usr/bin/grpc_cpp_plugin"

def ve_proto_library(name, srcs, deps = [], grpc = False, visibility = None):
    pkg = native.package_name()
    outs = []
    for src in srcs:
        if not src.endswith(".proto"):
            fail("ve_proto_library: %s is not a .proto file" % src)
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]

    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + [d + "_srcs" for d in deps],
        visibility = visibility,
    )

    plugin = ""
    if grpc:
        plugin = "--plugin=protoc-gen-grpc=%s --grpc_out=$(GENDIR) " % _GRPC_PLUGIN
    files = " ".join(["%s/%s" % (pkg, s) if pkg else s for s in srcs])
    native.genrule(
        name = name + "_gen",
        srcs = [name + "_srcs"],
        outs = outs,
        cmd = ("%s --proto_path=. --proto_path=/usr/include --cpp_out=$(GENDIR) " % _PROTOC) +
              plugin + files,
        message = "protoc %s" % files,
    )

    hdrs = [o for o in outs if o.endswith(".h")]
    cc_srcs = [o for o in outs if o.endswith(".cc")]
    system_deps = ["@system//:protobuf"]
    if grpc:
        system_deps.append("@system//:grpcpp")
    native.cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        deps = deps + system_deps,
        visibility = visibility,
    )
