// Traces (issue 26, §1.9), on both stores: the real binary sends its spans over OTLP/HTTP to a
// receiver that decodes them with the OpenTelemetry project's own .proto files
// (tests/support/otlp_receiver.mjs, @elastic/mockotlpserver; a receiver, not the Collector).
// A caller's traceparent starts the request's span; the jobs the request queues (a mail, a
// product's provisioning, a webhook delivery, the audit event's fan-out) continue that trace;
// each outbound call (SMTP, the product's lifecycle endpoint, the webhook's URL) is a client span
// whose context the callee receives in a traceparent header. Without a collector configured,
// a caller's traceparent still reaches the callees unchanged.
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "../support/fake_product.hpp"
#include "../support/mail_sink.hpp"
#include "e2e_fixture.hpp"
#include "webhook_sink.hpp"

namespace breakpilot::testing {
namespace {

namespace json = boost::json;

// A trace id per scenario, and the caller's span in it.
std::string Caller(const std::string& trace_id) {
  return "00-" + trace_id + "-00f067aa0ba902b7-01";
}
constexpr const char* kCallerSpan = "00f067aa0ba902b7";

class OtlpReceiver : public ChildProcess {
 public:
  OtlpReceiver(int port, const std::string& file)
      : ChildProcess({BREAKPILOT_NODE, BREAKPILOT_SOURCE_DIR "/tests/support/otlp_receiver.mjs",
                      std::to_string(port), file},
                     {},
                     [](const std::string& line) {
                       return line.find("otlp receiver listening") != std::string::npos;
                     }),
        port_(port),
        file_(file) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<json::object> Spans() const {
    std::vector<json::object> out;
    std::ifstream in(file_);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(json::parse(line).as_object());
    }
    return out;
  }
  // The spans of one trace, once `done` holds for them (20 s at most: the exporter sends
  // every second).
  std::vector<json::object> Trace(
      const std::string& trace_id,
      const std::function<bool(const std::vector<json::object>&)>& done) {
    std::vector<json::object> trace;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do {
      trace.clear();
      for (auto& s : Spans()) {
        if (s.at("traceId").as_string() == trace_id) trace.push_back(std::move(s));
      }
      if (done(trace)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } while (std::chrono::steady_clock::now() < deadline);
    return trace;
  }

 private:
  int port_;
  std::string file_;
};

std::string Text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The span named `name` in `trace`, or an empty object.
json::object Named(const std::vector<json::object>& trace, const std::string& name) {
  for (const auto& s : trace) {
    if (Text(s, "name") == name) return s;
  }
  return {};
}

bool HasAll(const std::vector<json::object>& trace, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (Named(trace, n).empty()) return false;
  }
  return true;
}

// What a callee received: "00-<trace>-<the client span>-01".
std::string Expected(const json::object& client_span) {
  return "00-" + Text(client_span, "traceId") + "-" + Text(client_span, "spanId") + "-01";
}

class TracingTest : public E2eTest {
 protected:
  TracingTest()
      : receiver_(FreePort(), MakeTempDir("otlp") + "/spans.jsonl"), products_({"alpha"}) {
    products_.WriteCatalog(catalog_);
  }
  std::vector<std::string> ExtraArgs() override {
    return {"--otlp-endpoint",
            receiver_.url(),
            "--smtp-url",
            smtp_.url(),
            "--smtp-starttls=false",
            "--catalog-dir",
            catalog_,
            "--allow-private-webhook-targets",
            "--seed-demo",
            "--mail-from",
            "Breakpilot <noreply@breakpilot.test>"};
  }
  HttpResponse Traced(const std::string& trace_id, const std::string& method,
                      const std::string& path, const std::string& body) {
    return client().Request(method, path, body, {{"traceparent", Caller(trace_id)}});
  }

  std::string catalog_ = MakeTempDir("catalog");
  OtlpReceiver receiver_;
  SmtpSink smtp_;
  FakeProduct products_;
  Sink sink_;
};

TEST_P(TracingTest, ARequestsTraceReachesItsJobsAndEveryCallee) {
  const std::string id = Str(CreateTenant("traced"), "id");
  // A mail: the trial request queues the confirmation, a job sends it over SMTP.
  const std::string mail_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  ASSERT_EQ(Traced(mail_trace, "POST", "/catalog/trial-request",
                   R"({"email":"owner@trace.example","company_name":"Trace","slug":"trace"})")
                .status,
            202);
  auto trace = receiver_.Trace(mail_trace, [](const auto& t) {
    return HasAll(t, {"POST /catalog/trial-request", "job mail.send", "SMTP send"});
  });
  const auto request = Named(trace, "POST /catalog/trial-request");
  const auto mail_job = Named(trace, "job mail.send");
  const auto smtp = Named(trace, "SMTP send");
  ASSERT_FALSE(request.empty() || mail_job.empty() || smtp.empty())
      << receiver_.Spans().size() << " spans received";
  EXPECT_EQ(Text(request, "parentSpanId"), kCallerSpan) << "under the caller's span";
  EXPECT_EQ(Text(request, "kind"), "SPAN_KIND_SERVER");
  const auto& attrs = request.at("attributes").as_object();
  EXPECT_EQ(attrs.at("http.route").as_string(), "/catalog/trial-request");
  EXPECT_EQ(attrs.at("http.response.status_code").as_int64(), 202);
  EXPECT_EQ(request.at("resource").at("service.name").as_string(), "breakpilot");
  EXPECT_EQ(Text(mail_job, "parentSpanId"), Text(request, "spanId")) << "the job continues it";
  EXPECT_EQ(Text(mail_job, "kind"), "SPAN_KIND_CONSUMER");
  EXPECT_EQ(Text(smtp, "parentSpanId"), Text(mail_job, "spanId"));
  EXPECT_EQ(Text(smtp, "kind"), "SPAN_KIND_CLIENT");
  const auto mails = smtp_.WaitFor(1);
  ASSERT_EQ(mails.size(), 1U);
  EXPECT_EQ(mails[0].Header("traceparent"), Expected(smtp)) << "the mail carries the trace";

  // A product: the demo reset is a job that calls each product's reset endpoint.
  const std::string product_trace = "5bf92f3577b34da6a3ce929d0e0e4737";
  ASSERT_EQ(Traced(product_trace, "POST", "/demo/reset", "").status, 202);
  trace = receiver_.Trace(product_trace, [](const auto& t) { return HasAll(t, {"HTTP POST"}); });
  const auto product_call = Named(trace, "HTTP POST");
  ASSERT_FALSE(product_call.empty());
  EXPECT_EQ(product_call.at("attributes").at("server.address").as_string(), "127.0.0.1");
  EXPECT_EQ(product_call.at("attributes").at("http.response.status_code").as_int64(), 200);
  std::string received;
  for (const auto& c : products_.Calls()) {
    if (c.method == "POST" && c.path.find("/demo/reset") != std::string::npos) {
      received = c.traceparent;
    }
  }
  EXPECT_EQ(received, Expected(product_call)) << "the product received the client span";

  // A webhook: the test delivery is a job that posts to the endpoint's URL...
  auto made =
      client().Post("/tenants/" + id + "/webhooks", R"({"url":")" + sink_.Url("/t") + "\"}");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string endpoint = Str(Json(made), "id");
  const std::string hook_trace = "6bf92f3577b34da6a3ce929d0e0e4738";
  ASSERT_EQ(
      Traced(hook_trace, "POST", "/tenants/" + id + "/webhooks/" + endpoint + "/test", "").status,
      202);
  auto got = sink_.WaitFor("/t", 1);
  ASSERT_EQ(got.size(), 1U);
  trace = receiver_.Trace(hook_trace, [](const auto& t) {
    return HasAll(t, {"job webhook.deliver", "HTTP POST"});
  });
  EXPECT_EQ(got[0].headers.at("traceparent"), Expected(Named(trace, "HTTP POST")));
  EXPECT_EQ(Text(Named(trace, "HTTP POST"), "parentSpanId"),
            Text(Named(trace, "job webhook.deliver"), "spanId"));

  // ...and an event the request made reaches the endpoint through the fan-out, in its trace.
  const std::string event_trace = "7bf92f3577b34da6a3ce929d0e0e4739";
  ASSERT_EQ(Traced(event_trace, "POST", "/api-keys",
                   R"({"tenant_id":")" + id + R"(","name":"ci","scopes":["audit:write"]})")
                .status,
            201);
  got = sink_.WaitFor("/t", 2);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[1].headers.at("traceparent").substr(3, 32), event_trace);

  // A request without a traceparent starts a trace of its own.
  const auto before = receiver_.Spans().size();
  ASSERT_EQ(client().Get("/tenants/" + id).status, 200);
  json::object own;
  for (int i = 0; i < 100 && own.empty(); ++i) {
    const auto spans = receiver_.Spans();
    for (std::size_t k = before; k < spans.size(); ++k) {
      if (Text(spans[k], "name") == "GET /tenants/{id}") own = spans[k];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(own.empty());
  EXPECT_EQ(Text(own, "parentSpanId"), "");
  EXPECT_EQ(Text(own, "traceId").size(), 32U);

  const auto metrics = client().Get("/metrics").body;
  EXPECT_NE(metrics.find("breakpilot_trace_spans_exported_total "), std::string::npos);
  EXPECT_EQ(metrics.find("breakpilot_trace_spans_exported_total 0\n"), std::string::npos);
}

BREAKPILOT_ON_BOTH_STORES(TracingTest);

// No collector: nothing is recorded, and a caller's context passes through the platform as it
// came, to the job and on to the callee.
class UntracedTest : public E2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override { return {"--allow-private-webhook-targets"}; }
  Sink sink_;
};

TEST_P(UntracedTest, ACallersTraceparentStillReachesTheCallee) {
  const std::string id = Str(CreateTenant("untraced"), "id");
  auto made =
      client().Post("/tenants/" + id + "/webhooks", R"({"url":")" + sink_.Url("/u") + "\"}");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string caller = Caller("8bf92f3577b34da6a3ce929d0e0e4740");
  auto sent =
      client().Request("POST", "/tenants/" + id + "/webhooks/" + Str(Json(made), "id") + "/test",
                       "", {{"traceparent", caller}});
  ASSERT_EQ(sent.status, 202) << sent.body;
  const auto got = sink_.WaitFor("/u", 1);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].headers.at("traceparent"), caller);
  EXPECT_EQ(client().Get("/metrics").body.find("breakpilot_trace_spans"), std::string::npos);
}

BREAKPILOT_ON_BOTH_STORES(UntracedTest);

}  // namespace
}  // namespace breakpilot::testing
