// echo-bot's own storage, on the SDK's TenantStore: a SQLite file (the embedded default) or a
// PostgreSQL database; tenants' projects and echoes, each tenant in the shared tables or, once
// moved (M18.2), in a place of its own; and the tenants whose data the platform deleted (their
// export is 410 from then on).
#pragma once

#include <breakpilot/tenant_store.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace echo_bot {

struct Project {
  std::string id;
  std::string name;
};

struct Echo {
  std::int64_t id = 0;
  std::string project;
  std::string message;
  std::string actor;
  std::int64_t created = 0;
};

class Store {
 public:
  // `location`: a SQLite file, or a postgresql:// URL. Throws std::runtime_error.
  explicit Store(const std::string& location, breakpilot::sdk::TenantStoreOptions options = {});

  std::vector<Project> Projects(const std::string& tenant);
  bool AddProject(const std::string& tenant, const Project& p);  // false: the id exists
  bool RemoveProject(const std::string& tenant, const std::string& id);
  std::int64_t AddEcho(const std::string& tenant, const Echo& e);
  std::vector<Echo> Echoes(const std::string& tenant, std::size_t limit);

  bool Deleted(const std::string& tenant);
  void DeleteTenant(const std::string& tenant);  // its rows and place, and marks it deleted
  void ReplaceTenant(const std::string& tenant, const std::vector<Project>& projects,
                     const std::vector<Echo>& echoes);

  breakpilot::sdk::TenantStore& tenants() { return *store_; }

 private:
  std::unique_ptr<breakpilot::sdk::TenantStore> store_;
};

}  // namespace echo_bot
