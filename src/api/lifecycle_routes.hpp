// The lifecycle: trial requests, the final export's download, mail links and bounces, the test
// clock, jobs, the demo reset.
#pragma once

#include <vector>

#include "api/module.hpp"

namespace breakpilot::api {

class LifecycleRoutes : public Module {
 public:
  explicit LifecycleRoutes(const Services& s);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> TrialRequest(http::Request& req, const Caller& caller);
  Result<http::Response> TrialConfirmPage(http::Request& req, const Caller& caller);
  Result<http::Response> TrialConfirm(http::Request& req, const Caller& caller);
  Result<http::Response> ExportDownload(http::Request& req, const Caller& caller);
  Result<http::Response> MailUnsubscribePage(http::Request& req, const Caller& caller);
  Result<http::Response> MailUnsubscribe(http::Request& req, const Caller& caller);
  Result<http::Response> MailPostmaster(http::Request& req, const Caller& caller);
  Result<http::Response> TestClockAdvance(http::Request& req, const Caller& caller);
  Result<http::Response> JobList(http::Request& req, const Caller& caller);
  Result<http::Response> JobRetry(http::Request& req, const Caller& caller);
  Result<http::Response> DemoReset(http::Request& req, const Caller& caller);

  const Clock& clock_;
  storage::Database& db_;
  lifecycle::Engine& engine_;
  mail::Mailer& mailer_;
  jobs::Queue& queue_;
  lifecycle::TestClock* test_clock_;
  lifecycle::TrialService& trials_;
};

}  // namespace breakpilot::api
