// Where composed mail goes: an SMTP submission server (STARTTLS, AUTH; libcurl), or, in the
// embedded default, `.eml` files in a folder (var/mail/) that any mail client opens.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace breakpilot::mail {

// The server refused the recipient for good (SMTP 550, 551 or 553 on the envelope): retrying
// cannot help, the address is suppressed as bounced.
class PermanentFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Hands the message over; throws PermanentFailure, or std::runtime_error for a failure that
  // may pass (connection refused, 4xx).
  virtual void Send(const std::string& envelope_from, const std::string& to,
                    const std::string& message) = 0;
  virtual std::string Describe() const = 0;
};

class FileTransport final : public Transport {
 public:
  explicit FileTransport(std::string dir);
  void Send(const std::string& envelope_from, const std::string& to,
            const std::string& message) override;
  std::string Describe() const override { return "files in " + dir_; }

 private:
  std::string dir_;
};

struct SmtpSettings {
  std::string url;  // smtp://host:587 (STARTTLS per `starttls`) or smtps://host:465
  std::string username;
  std::string password;
  bool starttls = true;  // require STARTTLS on smtp:// (refuse to send in clear)
  std::string ca_file;   // the CA of the server's certificate; empty: the system's store
  std::chrono::seconds timeout{30};
};

class SmtpTransport final : public Transport {
 public:
  explicit SmtpTransport(SmtpSettings settings);
  void Send(const std::string& envelope_from, const std::string& to,
            const std::string& message) override;
  std::string Describe() const override;

 private:
  SmtpSettings settings_;
};

// The bare address of a From value: "Breakpilot <noreply@x.com>" -> "noreply@x.com".
std::string EnvelopeAddress(const std::string& from);

}  // namespace breakpilot::mail
