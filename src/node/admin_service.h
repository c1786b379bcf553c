// The admin API (virtengine.node.v1.Admin) on a local Unix socket: cluster
// status, membership changes that wait until Raft matches the ledger, and
// verified online backups (docs/api/admin.md).
#ifndef VIRTENGINE_SRC_NODE_ADMIN_SERVICE_H_
#define VIRTENGINE_SRC_NODE_ADMIN_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "src/api/node/v1/admin.grpc.pb.h"
#include "src/api/node/v1/config.pb.h"
#include "src/node/node.h"
#include "src/node/service.h"

namespace virtengine::node {

class AdminService final : public v1::Admin::Service {
 public:
  AdminService(Node* node, std::string home, v1::GenesisDoc genesis)
      : node_(node), home_(std::move(home)), genesis_(std::move(genesis)) {}

  grpc::Status ClusterStatus(grpc::ServerContext* ctx,
                             const v1::StatusRequest* req,
                             v1::StatusResponse* resp) override;
  grpc::Status ChangeMembership(grpc::ServerContext* ctx,
                                const v1::ChangeMembershipRequest* req,
                                v1::ChangeMembershipResponse* resp) override;
  grpc::Status Backup(grpc::ServerContext* ctx, const v1::BackupRequest* req,
                      v1::BackupResponse* resp) override;

 private:
  Node* node_;
  const std::string home_;
  const v1::GenesisDoc genesis_;
  std::atomic<bool> backup_busy_{false};
  LeaderForwarder forwarder_;
};

// The admin socket's path: config.admin_socket, or <home>/admin.sock.
std::string AdminSocketPath(const v1::NodeConfig& config,
                            const std::string& home);

// Serves `service` on the Unix socket `path` (a stale socket file from an
// earlier run is replaced).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const std::string& path, AdminService* service);

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_ADMIN_SERVICE_H_
