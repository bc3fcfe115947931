// A deliberately small HTTP/1.1 client over a plain socket, for tests: it sends exactly the
// bytes it is given (so tests can send broken HTTP), and records every exchange it makes to
// $BREAKPILOT_EXCHANGE_LOG, which the OpenAPI conformance test validates against the document.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace breakpilot::testing {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;      // de-chunked when the answer was chunked
  bool complete = true;  // false: a chunked body ended without its last chunk
  std::string Header(const std::string& name) const;  // case-insensitive, "" when absent
};

class HttpClient {
 public:
  // `record`: false for peers other than our server (their answers are not in our document).
  HttpClient(std::string host, int port, std::string token = {}, bool record = true);

  // Builds a request with Host, Content-Length, Authorization (when a token is set) and
  // Content-Type application/json for a body, unless `headers` sets them (an empty value in
  // `headers` leaves that header out altogether).
  HttpResponse Request(const std::string& method, const std::string& target,
                       const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {});
  HttpResponse Get(const std::string& target) { return Request("GET", target); }
  HttpResponse Post(const std::string& target, const std::string& body) {
    return Request("POST", target, body);
  }

  // Sends raw bytes on a new connection and reads one response (status 0: connection closed).
  HttpResponse Raw(const std::string& bytes);
  // Connects from this local address from now on (127.0.0.2: another client address).
  void BindSource(std::string source) { source_ = std::move(source); }

 private:
  std::string host_;
  int port_;
  std::string token_;
  bool record_ = true;
  std::string source_;
};

// A connected TCP socket to host:port (the caller closes it). A `receive_buffer` in bytes fixes
// the socket's receive buffer (no autotuning), so a client that stops reading stalls the sender
// after about that much instead of after the kernel's maximum (32 MB here).
// `source`: the local address to connect from (127.0.0.2), the kernel's choice when empty.
int ConnectTo(const std::string& host, int port, int receive_buffer = 0,
              const std::string& source = {});
// Reads one HTTP/1.1 response from a connected socket.
HttpResponse ReadResponse(int fd, bool head = false);

}  // namespace breakpilot::testing
