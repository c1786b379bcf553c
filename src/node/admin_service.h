// The admin API (virtengine.node.v1.Admin) on a local Unix socket: cluster
// status, membership changes that wait until Raft matches the ledger,
// verified online backups, and compliance evidence (facts only the running
// node knows, its TPM quote over a bundle digest, its signature of a
// bundle's statement) (docs/api/admin.md).
#ifndef VIRTENGINE_SRC_NODE_ADMIN_SERVICE_H_
#define VIRTENGINE_SRC_NODE_ADMIN_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "src/api/node/v1/admin.grpc.pb.h"
#include "src/api/node/v1/config.pb.h"
#include "src/ledger/chain/ledger.h"
#include "src/node/node.h"
#include "src/node/service.h"

namespace virtengine::node {

// What the evidence RPCs report and use besides the node (main.cc).
struct AdminEvidenceConfig {
  // The node key (owned by the Node, which outlives this service); null:
  // EvidenceSign answers UNAVAILABLE.
  const ledger::BlockSigner* signer = nullptr;
  std::string moniker;
  std::string seccomp_mode;  // enforce | log | off, as configured
  std::string grpc_address;
  std::string raft_address;
  std::string metrics_address;  // "" = off
  std::string admin_socket;
  std::vector<uint32_t> pcrs;  // quoted PCRs; empty with --insecure-no-tpm
};

class AdminService final : public v1::Admin::Service {
 public:
  AdminService(Node* node, std::string home, v1::GenesisDoc genesis,
               AdminEvidenceConfig evidence = {})
      : node_(node),
        home_(std::move(home)),
        genesis_(std::move(genesis)),
        evidence_(std::move(evidence)) {}

  grpc::Status ClusterStatus(grpc::ServerContext* ctx,
                             const v1::StatusRequest* req,
                             v1::StatusResponse* resp) override;
  grpc::Status ChangeMembership(grpc::ServerContext* ctx,
                                const v1::ChangeMembershipRequest* req,
                                v1::ChangeMembershipResponse* resp) override;
  grpc::Status Backup(grpc::ServerContext* ctx, const v1::BackupRequest* req,
                      v1::BackupResponse* resp) override;
  grpc::Status EvidenceFacts(grpc::ServerContext* ctx,
                             const v1::EvidenceFactsRequest* req,
                             v1::EvidenceFactsResponse* resp) override;
  grpc::Status EvidenceQuote(grpc::ServerContext* ctx,
                             const v1::EvidenceQuoteRequest* req,
                             v1::EvidenceQuoteResponse* resp) override;
  grpc::Status EvidenceSign(grpc::ServerContext* ctx,
                            const v1::EvidenceSignRequest* req,
                            v1::EvidenceSignResponse* resp) override;

 private:
  Node* node_;
  const std::string home_;
  const v1::GenesisDoc genesis_;
  const AdminEvidenceConfig evidence_;
  std::atomic<bool> backup_busy_{false};
  LeaderForwarder forwarder_;
};

// The admin socket's path: config.admin_socket, or <home>/admin.sock.
std::string AdminSocketPath(const v1::NodeConfig& config,
                            const std::string& home);

// Serves `services` (the Admin service, and ImageAdmin on the appliance) on
// the Unix socket `path`: a stale socket file from an earlier run is
// replaced, a path longer than sun_path is bound through its directory's
// descriptor, messages are capped at 1 MiB.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const std::string& path, const std::vector<grpc::Service*>& services);

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_ADMIN_SERVICE_H_
