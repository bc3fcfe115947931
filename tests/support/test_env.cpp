#include "test_env.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/crypto.hpp"

namespace breakpilot::testing {
namespace {

std::string PgAdminUrl() {
  const char* v = std::getenv("BREAKPILOT_TEST_PG");
  return v ? v : "";
}

// postgresql://user@host:port/postgres -> postgresql://user@host:port/NAME
std::string WithDatabase(const std::string& url, const std::string& name) {
  const auto slash = url.find('/', url.find("://") + 3);
  return url.substr(0, slash) + "/" + name;
}

}  // namespace

std::string StoreName(Store s) {
  return s == Store::kSqlite ? "sqlite" : "pg";
}

TestDatabase::TestDatabase(Store store) : store_(store) {
  if (store == Store::kSqlite) {
    char tmpl[] = "/tmp/breakpilot-test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    url_ = "sqlite:" + dir_ + "/test.db";
    return;
  }
  const std::string admin = PgAdminUrl();
  if (admin.empty()) return;
  pg_name_ = "bp_test_" + HexEncode(Sha256(RandomToken(16))).substr(0, 16);
  auto db = storage::OpenDatabase(admin, {.pool_size = 1});
  db->ExecuteRaw("CREATE DATABASE " + pg_name_);
  url_ = WithDatabase(admin, pg_name_);
}

TestDatabase::~TestDatabase() {
  if (store_ == Store::kSqlite) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  } else if (!pg_name_.empty()) {
    try {
      auto db = storage::OpenDatabase(PgAdminUrl(), {.pool_size = 1});
      db->ExecuteRaw("DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
    } catch (...) {
    }
  }
}

std::unique_ptr<storage::Database> TestDatabase::Open() const {
  return storage::OpenDatabase(url_);
}

ServerProcess::ServerProcess(const std::string& database_url, std::vector<std::string> extra_args) {
  char tmpl[] = "/tmp/breakpilot-server.XXXXXX";
  const int log_fd = ::mkstemp(tmpl);
  log_path_ = tmpl;
  std::vector<std::string> args = {BREAKPILOT_BINARY, "serve",
                                   "--listen",        "127.0.0.1:0",
                                   "--database",      database_url,
                                   "--threads",       "2",
                                   "--catalog-dir",   BREAKPILOT_SOURCE_DIR "/data/catalog"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    // The server dies with the test process, and never holds the test's stdout open (ctest
    // waits for that pipe to close).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::setenv("BREAKPILOT_ADMIN_TOKEN", kToken, 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(Log());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("\"msg\":\"listening\"") == std::string::npos) continue;
      const auto v = boost::json::parse(line).as_object();
      const std::string url(v.at("url").as_string());
      port_ = std::stoi(url.substr(url.rfind(':') + 1));
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("server exited at start:\n" + Log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  throw std::runtime_error("server did not start within 60 s:\n" + Log());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Terminate();
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ServerProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace breakpilot::testing
