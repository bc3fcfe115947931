#include "http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <strings.h>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace breakpilot::testing {
namespace {

int Connect(const std::string& host, int port, int receive_buffer = 0,
            const std::string& source = {}) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  if (!source.empty()) {  // another loopback address (127.0.0.2): another client, as the server
                          // sees it
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd);
      throw std::runtime_error("bind to " + source + " failed");
    }
  }
  if (receive_buffer > 0) {  // before connect(), so the window offered stays this small
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to " + host + ":" + std::to_string(port) + " failed");
  }
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void SendAll(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early (413, 431): read what it said
    sent += static_cast<std::size_t>(n);
  }
}

void Record(const std::string& method, const std::string& target, const HttpResponse& r) {
  const char* path = std::getenv("BREAKPILOT_EXCHANGE_LOG");
  if (path == nullptr || r.status == 0) return;
  const auto q = target.find('?');
  boost::json::object o{{"method", method},
                        {"path", target.substr(0, q)},
                        {"status", r.status},
                        {"content_type", r.Header("Content-Type")},
                        {"body", r.body}};
  // One write(2) with O_APPEND per line: test processes running in parallel never interleave.
  const std::string line = boost::json::serialize(o) + "\n";
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return;
  [[maybe_unused]] const auto n = ::write(fd, line.data(), line.size());
  ::close(fd);
}

}  // namespace

int ConnectTo(const std::string& host, int port, int receive_buffer, const std::string& source) {
  return Connect(host, port, receive_buffer, source);
}

std::string HttpResponse::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return {};
}

HttpResponse ReadResponse(int fd, bool head) {
  std::string buf;
  char chunk[65536];
  std::size_t header_end = std::string::npos;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return {};
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  HttpResponse r;
  const std::string head_text = buf.substr(0, header_end);
  std::size_t line_end = head_text.find("\r\n");
  const std::string status_line = head_text.substr(0, line_end);
  r.status = std::atoi(status_line.substr(9, 3).c_str());
  std::size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
  while (pos < head_text.size()) {
    std::size_t e = head_text.find("\r\n", pos);
    if (e == std::string::npos) e = head_text.size();
    const std::string line = head_text.substr(pos, e - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      r.headers.emplace_back(line.substr(0, colon), v);
    }
    pos = e + 2;
  }
  if (!head && strcasecmp(r.Header("Transfer-Encoding").c_str(), "chunked") == 0) {
    std::string raw = buf.substr(header_end + 4);  // we sent Connection: close: read to the end
    for (;;) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      raw.append(chunk, static_cast<std::size_t>(n));
    }
    r.complete = false;
    std::size_t at = 0;
    for (;;) {
      const auto eol = raw.find("\r\n", at);
      if (eol == std::string::npos) break;
      const std::size_t size = std::stoul(raw.substr(at, eol - at), nullptr, 16);
      if (size == 0) {
        r.complete = true;
        break;
      }
      if (eol + 2 + size > raw.size()) break;
      r.body.append(raw, eol + 2, size);
      at = eol + 2 + size + 2;
    }
    return r;
  }
  std::size_t length = 0;
  if (auto cl = r.Header("Content-Length"); !cl.empty()) length = std::stoul(cl);
  if (head || r.status == 204 || r.status == 304) length = 0;
  r.body = buf.substr(header_end + 4);
  while (r.body.size() < length) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    r.body.append(chunk, static_cast<std::size_t>(n));
  }
  return r;
}

HttpClient::HttpClient(std::string host, int port, std::string token, bool record)
    : host_(std::move(host)), port_(port), token_(std::move(token)), record_(record) {}

HttpResponse HttpClient::Request(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 const std::map<std::string, std::string>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  auto has = [&](const char* name) {
    for (const auto& [k, v] : headers) {
      if (strcasecmp(k.c_str(), name) == 0) return true;
    }
    return false;
  };
  if (!has("Host")) req += "Host: " + host_ + "\r\n";
  if (!token_.empty() && !has("Authorization")) req += "Authorization: Bearer " + token_ + "\r\n";
  if (!body.empty() && !has("Content-Type")) req += "Content-Type: application/json\r\n";
  for (const auto& [k, v] : headers) {
    if (!v.empty()) req += k + ": " + v + "\r\n";  // an empty value leaves the header out
  }
  req += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  const int fd = Connect(host_, port_, 0, source_);
  SendAll(fd, req);
  HttpResponse r = ReadResponse(fd, method == "HEAD");
  ::close(fd);
  if (record_) Record(method, target, r);
  return r;
}

HttpResponse HttpClient::Raw(const std::string& bytes) {
  const int fd = Connect(host_, port_, 0, source_);
  SendAll(fd, bytes);
  HttpResponse r = ReadResponse(fd);
  ::close(fd);
  const auto sp1 = bytes.find(' ');
  const auto sp2 = sp1 == std::string::npos ? sp1 : bytes.find(' ', sp1 + 1);
  if (record_ && sp2 != std::string::npos && sp2 < 2048) {
    Record(bytes.substr(0, sp1), bytes.substr(sp1 + 1, sp2 - sp1 - 1), r);
  }
  return r;
}

}  // namespace breakpilot::testing
