// The real DNS server and TLS front the custom-domain tests start (M18.1), both on free
// loopback ports: no test traffic leaves 127.0.0.0/8.
//   DnsServer    dnsmasq answering from its own records only: every name is 127.0.0.1, plus the
//                CNAME and TXT records a test gives
//   CaddyFront   Debian's Caddy with on-demand TLS from its internal CA, asking the platform's
//                /internal/tls/ask, proxying to the platform
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "../support/test_env.hpp"

namespace breakpilot::testing {

class DnsServer : public ChildProcess {
 public:
  // `records`: dnsmasq options such as "--cname=portal.acme.test,acme.localhost".
  explicit DnsServer(const std::vector<std::string>& records, int port = FreePort())
      : ChildProcess(
            Args(records, port), {},
            [](const std::string& line) { return line.find("started") != std::string::npos; }),
        port_(port) {}
  // dnsmasq forks a child per TCP connection (a resolver falls back to TCP): they go with it.
  ~DnsServer() override {
    if (pid() > 0) RunCommand("pkill -KILL -P " + std::to_string(pid()));
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  static std::vector<std::string> Args(const std::vector<std::string>& records, int port) {
    std::vector<std::string> a = {"/usr/sbin/dnsmasq", "--keep-in-foreground", "--log-facility=-",
                                  "--port=" + std::to_string(port), "--listen-address=127.0.0.1",
                                  "--bind-interfaces", "--no-resolv", "--no-hosts",
                                  "--conf-file=/dev/null", "--pid-file=", "--user=root",
                                  // Only its own records, never forwarded; every name is loopback.
                                  "--local=/#/", "--address=/#/127.0.0.1"};
    a.insert(a.end(), records.begin(), records.end());
    return a;
  }
  int port_;
};

class CaddyFront : public ChildProcess {
 public:
  CaddyFront(int platform_port, const std::string& dir, int https_port = FreePort())
      : ChildProcess({"/usr/bin/caddy", "run", "--config", Write(platform_port, dir, https_port),
                      "--adapter", "caddyfile"},
                     {{"XDG_DATA_HOME", dir}, {"XDG_CONFIG_HOME", dir}, {"HOME", dir}},
                     [](const std::string& line) {
                       return line.find("serving initial configuration") != std::string::npos;
                     }),
        https_port_(https_port),
        dir_(dir) {}
  int https_port() const { return https_port_; }
  // Caddy's internal CA, which curl is told to trust.
  std::string root_cert() const { return dir_ + "/caddy-data/pki/authorities/local/root.crt"; }
  // curl over https to `host` through Caddy (the name resolved to 127.0.0.1 by --resolve):
  // "<exit code> <http status>" and the body.
  std::pair<int, std::string> Get(const std::string& host, const std::string& path) const {
    const std::string port = std::to_string(https_port_);
    return RunCommand("curl -sS --max-time 20 --resolve " + host + ":" + port +
                      ":127.0.0.1 --cacert " + root_cert() +
                      " -w '\\nstatus=%{http_code}' https://" + host + ":" + port + path + " 2>&1");
  }

 private:
  static std::string Write(int platform_port, const std::string& dir, int https_port) {
    const std::string file = dir + "/Caddyfile";
    const std::string platform = "127.0.0.1:" + std::to_string(platform_port);
    std::ofstream(file)
        << "{\n\tadmin off\n\thttp_port " << FreePort() << "\n\thttps_port " << https_port
        << "\n\tstorage file_system {\n\t\troot " << dir
        << "/caddy-data\n\t}\n\tskip_install_trust\n\tlocal_certs\n"
        << "\ton_demand_tls {\n\t\task http://" << platform
        << "/internal/tls/ask\n\t}\n}\nhttps:// {\n\ttls internal {\n\t\ton_demand\n"
        << "\t}\n\treverse_proxy " << platform << "\n}\n";
    return file;
  }
  int https_port_;
  std::string dir_;
};

}  // namespace breakpilot::testing
