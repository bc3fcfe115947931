// echo-bot's own storage: one SQLite file, tenants' projects and echoes, and the tenants whose
// data the platform deleted (their export is 410 from then on). One writing connection and a few
// reading ones (WAL: readers never wait for the writer), each used by one thread at a time and
// keeping its statements prepared.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace echo_bot {

class Connection;

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
  Connection& Reader();
  std::unique_ptr<Connection> writer_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::atomic<unsigned> next_reader_{0};
};

}  // namespace echo_bot
