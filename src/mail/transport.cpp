#include "mail/transport.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#include "core/crypto.hpp"
#include "storage/database.hpp"
#include "tracing/trace.hpp"

namespace breakpilot::mail {
namespace {

struct Upload {
  const std::string* data;
  std::size_t pos = 0;
};

std::size_t ReadChunk(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t room = size * n;
  const std::size_t left = up->data->size() - up->pos;
  const std::size_t take = std::min(room, left);
  std::copy_n(up->data->data() + up->pos, take, buffer);
  up->pos += take;
  return take;
}

}  // namespace

std::string EnvelopeAddress(const std::string& from) {
  const auto lt = from.find('<');
  const auto gt = from.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    return from.substr(lt + 1, gt - lt - 1);
  }
  return from;
}

FileTransport::FileTransport(std::string dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
}

void FileTransport::Send(const std::string&, const std::string&, const std::string& message) {
  // Named by content, written whole then renamed: a reader never sees half a message, and a
  // repeated send of the same message leaves one file.
  const std::string name = Sha256Hex(message).substr(0, 32) + ".eml";
  const std::filesystem::path tmp = std::filesystem::path(dir_) / ("." + name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << message;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, std::filesystem::path(dir_) / name);
}

SmtpTransport::SmtpTransport(SmtpSettings settings) : settings_(std::move(settings)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string SmtpTransport::Describe() const {
  return "SMTP " + storage::RedactUrl(settings_.url);
}

void SmtpTransport::Send(const std::string& envelope_from, const std::string& to,
                         const std::string& message) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(
      curl_slist_append(nullptr, ("<" + to + ">").c_str()), curl_slist_free_all);
  const std::string from = "<" + envelope_from + ">";
  // A client span for the hand-over, and the trace's context as a header of the message, so
  // that a relay's or a mailbox's tooling joins the mail to the trace of what sent it.
  tracing::Span span("SMTP send", tracing::SpanKind::kClient, nullptr, false);
  std::string traced;
  if (const auto* current = tracing::Current()) {
    traced = "Traceparent: " + tracing::FormatTraceparent(*current) + "\r\n" + message;
  }
  const std::string& sent = traced.empty() ? message : traced;
  Upload up{&sent};
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, settings_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadChunk);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(sent.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(settings_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (settings_.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!settings_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings_.ca_file.c_str());
  if (!settings_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (rc == CURLE_OK) return;
  const std::string why = std::string(error[0] ? error : curl_easy_strerror(rc)) +
                          (code ? " (SMTP " + std::to_string(code) + ")" : "");
  span.Fail(code ? "SMTP " + std::to_string(code) : "the SMTP server was not reached");
  // A recipient refused for good (RFC 5321 550/551/553 while sending the envelope) is a hard
  // bounce. Anything else (a refused login, no STARTTLS, a 4xx, a lost connection) is ours or
  // passing: retried, and the address is left alone.
  if (rc == CURLE_SEND_ERROR && (code == 550 || code == 551 || code == 553)) {
    throw PermanentFailure(why);
  }
  throw std::runtime_error(why);
}

}  // namespace breakpilot::mail
