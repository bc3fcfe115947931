// The real SMTP server of the test suite (tests/support/smtp_sink.py, Debian's python3-aiosmtpd)
// as a child process, and what a test needs to read the mail it received.
//
//   SmtpSink smtp;                                   // on a free port
//   ServerProcess server(db.url(), {"--smtp-url", smtp.url(), "--smtp-starttls", "false"});
//   auto mails = smtp.WaitFor(3);                    // the first three messages, parsed
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_env.hpp"

namespace breakpilot::testing {

struct Mail {
  bool tls = false;                   // the session was encrypted (STARTTLS)
  std::string auth;                   // who authenticated ("" when nobody did)
  std::string mail_from;              // the envelope
  std::vector<std::string> rcpt_tos;  // the envelope
  std::string raw;
  std::multimap<std::string, std::string> headers;    // names in lower case, values unfolded
  std::string text;                                   // the decoded text/plain part
  std::string html;                                   // the decoded text/html part
  std::string Header(const std::string& name) const;  // first value, "" when absent
};

Mail ParseMail(const std::string& raw);

struct SmtpSinkOptions {
  std::vector<std::string> reject_rcpt;  // answered 550 at RCPT TO (a hard bounce)
  bool tls = false;                      // offer and require STARTTLS (a self-signed certificate)
  std::string auth;                      // "user:password": require AUTH with these
};

class SmtpSink {
 public:
  explicit SmtpSink(const SmtpSinkOptions& options = {});
  // The PEM certificate the server presents (with tls): the client's CA file.
  const std::string& certificate() const { return cert_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // Every message received so far, in arrival order.
  std::vector<Mail> Messages() const;
  // Waits until at least `n` messages arrived (or the time is up) and returns them all.
  std::vector<Mail> WaitFor(std::size_t n,
                            std::chrono::seconds timeout = std::chrono::seconds(30)) const;

 private:
  int port_;
  std::string dir_;
  std::string cert_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace breakpilot::testing
