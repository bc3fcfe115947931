#include "test_env.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "core/crypto.hpp"
#include "storage/migrations.hpp"

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

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

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

ChildProcess::ChildProcess(std::vector<std::string> argv,
                           std::vector<std::pair<std::string, std::string>> env,
                           const std::function<bool(const std::string& line)>& ready,
                           std::chrono::seconds timeout) {
  char tmpl[] = "/tmp/breakpilot-child.XXXXXX";
  const int log_fd = ::mkstemp(tmpl);
  log_path_ = tmpl;
  pid_ = ::fork();
  if (pid_ == 0) {
    // The child dies with the test process, and never holds the test's stdout open (ctest
    // waits for that pipe to close).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(Log());
    std::string line;
    while (std::getline(lines, line)) {
      if (ready(line)) {
        ready_line_ = line;
        return;
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FailStart(argv[0] + " exited at start:\n");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  FailStart(argv[0] + " did not start in time:\n");
}

void ChildProcess::FailStart(const std::string& what) {
  // The destructor does not run for a constructor that throws: the log goes here.
  std::string message = what + Log();
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
  throw std::runtime_error(message);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Terminate();
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ChildProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ChildProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

std::vector<std::string> ServerArgs(const std::string& database_url,
                                    const std::vector<std::string>& extra) {
  // BREAKPILOT_TEST_BINARY runs the suite against another build (an older one, to show that a
  // new test fails without its fix).
  const char* other = std::getenv("BREAKPILOT_TEST_BINARY");
  std::vector<std::string> args = {
      other ? other : BREAKPILOT_BINARY, "serve", "--database", database_url, "--threads", "2"};
  args.insert(args.end(), {"--docs-dir", BREAKPILOT_SOURCE_DIR "/node_modules/swagger-ui-dist"});
  if (std::find(extra.begin(), extra.end(), "--catalog-dir") == extra.end()) {
    args.insert(args.end(), {"--catalog-dir", BREAKPILOT_SOURCE_DIR "/data/catalog"});
  }
  // A free port, unless the test chose one (it must know it in advance, e.g. for an OpenID
  // provider's redirect URI).
  if (std::find(extra.begin(), extra.end(), "--listen") == extra.end()) {
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  }
  // Mail goes to .eml files of the test's own, unless the test sends it somewhere.
  if (std::find(extra.begin(), extra.end(), "--mail-dir") == extra.end() &&
      std::find(extra.begin(), extra.end(), "--smtp-url") == extra.end()) {
    args.insert(args.end(), {"--mail-dir", MakeTempDir("bp-mail")});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

ServerProcess::ServerProcess(const std::string& database_url, std::vector<std::string> extra_args)
    : ChildProcess(ServerArgs(database_url, extra_args), {{"BREAKPILOT_ADMIN_TOKEN", kToken}},
                   [](const std::string& line) {
                     return line.find("\"msg\":\"listening\"") != std::string::npos;
                   }) {
  const auto v = boost::json::parse(ready_line()).as_object();
  const std::string url(v.at("url").as_string());
  port_ = std::stoi(url.substr(url.rfind(':') + 1));
}

ServerProcess::~ServerProcess() {
  std::istringstream log(Log());
  for (std::string line; std::getline(log, line);) {
    // A sanitizer's report (a data race under the TSan build) fails the test that started it.
    if (line.find("WARNING: ThreadSanitizer") != std::string::npos ||
        line.find("ERROR: AddressSanitizer") != std::string::npos) {
      ADD_FAILURE() << "the server's sanitizer reported: " << line << "\n" << Log().substr(0, 8000);
    }
    for (const char* leak : {"/usr/include/", "boost::", "std::", "__cxx11",
                             ".cpp:", ".hpp:", ".ipp:", BREAKPILOT_SOURCE_DIR "/src/"}) {
      if (line.find(leak) != std::string::npos) {
        ADD_FAILURE() << "a server log line carries '" << leak << "': " << line.substr(0, 600);
        break;
      }
    }
  }
}

namespace {

// The directories MakeTempDir made in this test process, removed when it exits (each test runs
// in a process of its own under ctest), so a run of the suite leaves /tmp as it found it.
// BREAKPILOT_KEEP_TEST_DIRS=1 keeps them for a look after a failure.
class TempDirs {
 public:
  ~TempDirs() {
    const char* keep = std::getenv("BREAKPILOT_KEEP_TEST_DIRS");
    if (keep != nullptr && std::string_view(keep) == "1") return;
    std::error_code ec;
    for (const auto& dir : dirs_) std::filesystem::remove_all(dir, ec);
  }
  void Add(std::string dir) {
    const std::lock_guard lock(mu_);
    dirs_.push_back(std::move(dir));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

TempDirs& MadeTempDirs() {
  static TempDirs dirs;
  return dirs;
}

}  // namespace

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
  MadeTempDirs().Add(tmpl);
  return tmpl;
}

std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return {-1, ""};
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void StoreTest::SetUp() {
  tdb_ = std::make_unique<TestDatabase>(GetParam());
  BREAKPILOT_REQUIRE_STORE(*tdb_);
  auto db = tdb_->Open();
  ASSERT_TRUE(storage::Migrate(*db).ok());
  db_ = std::move(db);
}

std::pair<int, std::string> RunNode(const std::string& script, const std::string& args) {
  const std::string cmd = std::string(BREAKPILOT_NODE) + " " BREAKPILOT_SOURCE_DIR "/tests/" +
                          script + " " + args + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace breakpilot::testing
