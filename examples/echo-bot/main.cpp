// echo-bot: the reference product. Flags (each also an environment variable):
//   --listen HOST:PORT        ECHO_BOT_LISTEN           default 127.0.0.1:8091
//   --database FILE|URL       ECHO_BOT_DATABASE         default echo-bot.db; or postgresql://...
//   --move-batch-rows N       ECHO_BOT_MOVE_BATCH_ROWS  rows per batch of a tenant's move (1000)
//   --move-batch-pause-ms N   ECHO_BOT_MOVE_BATCH_PAUSE_MS  a pause after each batch (0)
//   --platform URL            ECHO_BOT_PLATFORM_URL     the platform's public URL (required)
//   --client-id ID            ECHO_BOT_CLIENT_ID        a service client of the platform
//   --client-secret SECRET    ECHO_BOT_CLIENT_SECRET    (prefer the environment)
//   --threads N               default: one per core
//   --api-key-cache SECONDS   how long a verified API key is trusted (default 30)
//   --enable-test-clock       POST /internal/clock moves the clock (tests only, loopback only)
#include <breakpilot/sdk.hpp>

#include <pthread.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

#include "app.hpp"
#include "store.hpp"

namespace {

struct Flag {
  const char* env;
  std::string value;
};

int Usage(const std::string& why) {
  std::cerr << "echo-bot: " << why
            << "\nusage: echo-bot --platform URL [--listen HOST:PORT] [--database FILE]"
               " [--client-id ID] [--client-secret S] [--threads N] [--api-key-cache SECONDS]"
               " [--move-batch-rows N] [--move-batch-pause-ms N] [--enable-test-clock]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, Flag> flags{
      {"--listen", {"ECHO_BOT_LISTEN", "127.0.0.1:8091"}},
      {"--database", {"ECHO_BOT_DATABASE", "echo-bot.db"}},
      {"--platform", {"ECHO_BOT_PLATFORM_URL", ""}},
      {"--client-id", {"ECHO_BOT_CLIENT_ID", "echo-bot"}},
      {"--client-secret", {"ECHO_BOT_CLIENT_SECRET", ""}},
      {"--threads", {"ECHO_BOT_THREADS", "0"}},
      {"--api-key-cache", {"ECHO_BOT_API_KEY_CACHE", "30"}},
      {"--move-batch-rows", {"ECHO_BOT_MOVE_BATCH_ROWS", "1000"}},
      {"--move-batch-pause-ms", {"ECHO_BOT_MOVE_BATCH_PAUSE_MS", "0"}}};
  bool test_clock = false;
  for (auto& [name, flag] : flags) {
    if (const char* v = std::getenv(flag.env)) flag.value = v;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--enable-test-clock") {
      test_clock = true;
      continue;
    }
    auto it = flags.find(arg);
    if (it == flags.end() || i + 1 >= argc) return Usage("unknown or incomplete flag " + arg);
    it->second.value = argv[++i];
  }
  const std::string listen = flags["--listen"].value;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Usage("--listen is HOST:PORT");
  if (flags["--platform"].value.empty()) return Usage("--platform is required");
  int port = 0;
  int threads = 0;
  int key_cache = 0;
  int batch_rows = 0;
  int batch_pause = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
    threads = std::stoi(flags["--threads"].value);
    key_cache = std::stoi(flags["--api-key-cache"].value);
    batch_rows = std::stoi(flags["--move-batch-rows"].value);
    batch_pause = std::stoi(flags["--move-batch-pause-ms"].value);
  } catch (const std::exception&) {
    return Usage(
        "--listen's port, --threads, --api-key-cache and the --move-batch flags are numbers");
  }
  if (port < 0 || port > 65535 || threads < 0 || key_cache < 0 || batch_rows < 1 ||
      batch_pause < 0) {
    return Usage("a number is out of range");
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // inherited by every thread made below
  try {
    echo_bot::Store store(
        flags["--database"].value,
        {.batch_rows = batch_rows, .batch_pause = std::chrono::milliseconds(batch_pause)});
    echo_bot::App app(store);
    breakpilot::sdk::Product product({.product_id = "echo-bot",
                                      .version = "1.0.0",
                                      .platform_url = flags["--platform"].value,
                                      .client_id = flags["--client-id"].value,
                                      .client_secret = flags["--client-secret"].value,
                                      .roles = {{"IT_ADMIN", {"admin"}}, {"USER", {"member"}}},
                                      .flag_defaults = {{"echo.uppercase", "off"}},
                                      .api_key_cache = std::chrono::seconds(key_cache),
                                      .test_clock = test_clock},
                                     app);
    app.Attach(product);
    breakpilot::sdk::Server server(
        {.host = listen.substr(0, colon),
         .port = static_cast<unsigned short>(port),
         .threads = threads},
        [&](const breakpilot::sdk::Request& r) { return app.Handle(r); });
    server.Listen();
    // The one line of a healthy start, as the platform writes it: where to reach it.
    std::cout << R"({"level":"info","msg":"listening","product":"echo-bot","port":)"
              << server.port() << "}" << std::endl;
    // SIGINT and SIGTERM stop the server, taken by a thread of their own (sigwait), never in
    // a signal handler.
    std::thread signals([&server, set = stop_signals] {
      int signal = 0;
      sigwait(&set, &signal);
      server.Stop();
    });
    signals.detach();
    server.Run();
    if (auto* audit = product.audit_emitter()) audit->Flush(std::chrono::seconds(2));
  } catch (const std::exception& e) {
    std::cerr << R"({"level":"error","msg":")" << e.what() << "\"}\n";
    return 1;
  }
  return 0;
}
