// echo-bot's own storage: one SQLite file, tenants' projects and echoes, and the tenants whose
// data the platform deleted (their export is 410 from then on).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

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
  explicit Store(const std::string& path);  // throws std::runtime_error
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  std::vector<Project> Projects(const std::string& tenant);
  bool AddProject(const std::string& tenant, const Project& p);  // false: the id exists
  bool RemoveProject(const std::string& tenant, const std::string& id);
  std::int64_t AddEcho(const std::string& tenant, const Echo& e);
  std::vector<Echo> Echoes(const std::string& tenant, std::size_t limit);

  bool Deleted(const std::string& tenant);
  void DeleteTenant(const std::string& tenant);  // its rows, and marks it deleted
  void ReplaceTenant(const std::string& tenant, const std::vector<Project>& projects,
                     const std::vector<Echo>& echoes);

 private:
  void Exec(const char* sql);
  std::mutex mu_;
  sqlite3* db_ = nullptr;
};

}  // namespace echo_bot
