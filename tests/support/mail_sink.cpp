#include "mail_sink.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/crypto.hpp"

namespace breakpilot::testing {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits a header block (CRLF lines, folded continuation lines) into lower-cased names.
std::multimap<std::string, std::string> Headers(const std::string& block) {
  std::multimap<std::string, std::string> out;
  std::istringstream in(block);
  std::string line, name, value;
  const auto flush = [&] {
    if (!name.empty()) out.emplace(Lower(name), value);
    name.clear();
    value.clear();
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      value += " " + line.substr(line.find_first_not_of(" \t"));
      continue;
    }
    flush();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
  }
  flush();
  return out;
}

std::string First(const std::multimap<std::string, std::string>& h, const std::string& name) {
  auto it = h.find(Lower(name));
  return it == h.end() ? "" : it->second;
}

std::string DecodeBody(const std::multimap<std::string, std::string>& h, const std::string& body) {
  if (Lower(First(h, "content-transfer-encoding")) != "base64") return body;
  std::string compact;
  for (char c : body) {
    if (c != '\r' && c != '\n') compact.push_back(c);
  }
  std::string out;
  Base64Decode(compact, out);
  return out;
}

}  // namespace

std::string Mail::Header(const std::string& name) const {
  return First(headers, name);
}

Mail ParseMail(const std::string& raw) {
  Mail m;
  m.raw = raw;
  const auto split = raw.find("\r\n\r\n");
  m.headers = Headers(raw.substr(0, split));
  const std::string body = split == std::string::npos ? "" : raw.substr(split + 4);
  const std::string type = m.Header("content-type");
  const auto b = type.find("boundary=\"");
  if (b == std::string::npos) {
    m.text = DecodeBody(m.headers, body);
    return m;
  }
  const std::string boundary = "--" + type.substr(b + 10, type.find('"', b + 10) - (b + 10));
  std::size_t pos = body.find(boundary);
  while (pos != std::string::npos) {
    const std::size_t start = pos + boundary.size();
    if (body.compare(start, 2, "--") == 0) break;
    const std::size_t next = body.find(boundary, start);
    const std::string part =
        body.substr(start + 2, next == std::string::npos ? std::string::npos : next - start - 2);
    const auto psplit = part.find("\r\n\r\n");
    const auto ph = Headers(part.substr(0, psplit));
    const std::string content = DecodeBody(ph, part.substr(psplit + 4));
    const std::string ptype = Lower(First(ph, "content-type"));
    if (ptype.rfind("text/plain", 0) == 0) m.text = content;
    if (ptype.rfind("text/html", 0) == 0) m.html = content;
    pos = next;
  }
  return m;
}

SmtpSink::SmtpSink(const SmtpSinkOptions& options) : port_(FreePort()) {
  dir_ = MakeTempDir("bp-smtp");
  const std::string script = BREAKPILOT_SOURCE_DIR "/tests/support/smtp_sink.py";
  std::vector<std::string> argv = {"/usr/bin/python3",    script,  "--port",
                                   std::to_string(port_), "--dir", dir_ + "/mail"};
  for (const auto& r : options.reject_rcpt) argv.insert(argv.end(), {"--reject-rcpt", r});
  if (options.tls) {
    cert_ = dir_ + "/cert.pem";
    const auto [code, out] = RunCommand(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "
        "subjectAltName=IP:127.0.0.1 -keyout " +
        dir_ + "/key.pem -out " + cert_ + " 2>&1");
    if (code != 0) throw std::runtime_error("openssl: " + out);
    argv.insert(argv.end(), {"--tls-cert", cert_, "--tls-key", dir_ + "/key.pem"});
  }
  if (!options.auth.empty()) argv.insert(argv.end(), {"--auth", options.auth});
  process_ = std::make_unique<ChildProcess>(
      argv, std::vector<std::pair<std::string, std::string>>{},
      [](const std::string& line) { return line.find("smtp-sink ready") != std::string::npos; });
}

std::vector<Mail> SmtpSink::Messages() const {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/mail", ec)) {
    const auto name = e.path().filename().string();
    if (name.size() > 5 && name.front() != '.' && name.substr(name.size() - 5) == ".json") {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Mail> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto v = boost::json::parse(ss.str()).as_object();
    Mail m = ParseMail(std::string(v.at("data").as_string()));
    m.mail_from = std::string(v.at("mail_from").as_string());
    m.tls = v.at("tls").as_bool();
    if (v.at("auth").is_string()) m.auth = std::string(v.at("auth").as_string());
    for (const auto& r : v.at("rcpt_tos").as_array()) m.rcpt_tos.emplace_back(r.as_string());
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<Mail> SmtpSink::WaitFor(std::size_t n, std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto mails = Messages();
  while (mails.size() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    mails = Messages();
  }
  return mails;
}

}  // namespace breakpilot::testing
