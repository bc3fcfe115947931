#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "tracing/otlp_exporter.hpp"
#include "tracing/trace.hpp"

namespace breakpilot::tracing {
namespace {

constexpr const char* kCaller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

TEST(Traceparent, ReadsAndWritesVersion00) {
  const auto c = ParseTraceparent(kCaller);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trace_id[0], 0x0a);
  EXPECT_EQ(c->trace_id[15], 0x9c);
  EXPECT_EQ(c->span_id[7], 0x31);
  EXPECT_TRUE(c->sampled());
  EXPECT_EQ(FormatTraceparent(*c), kCaller);
  const auto unsampled =
      ParseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled());
}

TEST(Traceparent, RefusesWhatTheSpecRefuses) {
  for (const char* bad : {
           "",
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",       // no flags
           "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",    // uppercase
           "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",    // version ff
           "00-00000000000000000000000000000000-b7ad6b7169203331-01",    // zero trace id
           "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",    // zero parent id
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x",  // 00 has no more
           "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
           "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0z",
       }) {
    EXPECT_FALSE(ParseTraceparent(bad)) << bad;
  }
  // A later version is read by the fields it shares with 00.
  EXPECT_TRUE(ParseTraceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"));
  EXPECT_FALSE(ParseTraceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01extra"));
}

// Keeps what the spans report.
class ListSink : public SpanSink {
 public:
  explicit ListSink(bool sample = true) : sample_(sample) { InstallSink(this); }
  ~ListSink() override { InstallSink(nullptr); }
  ListSink(const ListSink&) = delete;
  ListSink& operator=(const ListSink&) = delete;
  bool SampleRoot(const TraceId&) const override { return sample_; }
  void Submit(SpanData span) override {
    std::lock_guard lock(mutex_);
    spans_.push_back(std::move(span));
  }
  std::vector<SpanData> spans() const {
    std::lock_guard lock(mutex_);
    return spans_;
  }

 private:
  bool sample_;
  mutable std::mutex mutex_;
  std::vector<SpanData> spans_;
};

TEST(Span, ChildrenJoinTheCurrentSpanAndRestoreIt) {
  ListSink sink;
  ASSERT_EQ(Current(), nullptr);
  {
    Span request("GET /x", SpanKind::kServer);
    ASSERT_NE(Current(), nullptr);
    const auto request_context = *Current();
    {
      Span call("HTTP POST", SpanKind::kClient, nullptr, false);
      call.Set("http.response.status_code", 502);
      call.Fail("HTTP 502");
      EXPECT_EQ(Current()->trace_id, request_context.trace_id);
      EXPECT_NE(Current()->span_id, request_context.span_id);
      EXPECT_EQ(*CurrentTraceparent(), call.traceparent());
    }
    EXPECT_EQ(Current()->span_id, request_context.span_id) << "the parent is current again";
  }
  EXPECT_EQ(Current(), nullptr);
  const auto spans = sink.spans();
  ASSERT_EQ(spans.size(), 2U);
  const SpanData& call = spans[0];
  const SpanData& request = spans[1];
  EXPECT_EQ(request.name, "GET /x");
  EXPECT_FALSE(request.parent) << "a new trace";
  EXPECT_EQ(call.context.trace_id, request.context.trace_id);
  ASSERT_TRUE(call.parent);
  EXPECT_EQ(*call.parent, request.context.span_id);
  EXPECT_FALSE(call.parent_remote);
  EXPECT_TRUE(call.error);
  EXPECT_EQ(call.status_message, "HTTP 502");
  EXPECT_EQ(call.kind, SpanKind::kClient);
  EXPECT_LE(request.start_unix_ns, call.start_unix_ns);
  EXPECT_LE(call.end_unix_ns, request.end_unix_ns);
}

TEST(Span, ContinuesACallersTraceAndMakesNoRootWhereNoneIsWanted) {
  ListSink sink;
  const auto caller = ParseTraceparent(kCaller);
  {
    Span poll("HTTP GET", SpanKind::kClient, nullptr, false);
    EXPECT_FALSE(poll.recording()) << "outside a request, an outbound call starts no trace";
    EXPECT_EQ(Current(), nullptr);
  }
  {
    Span request("GET /x", SpanKind::kServer, &*caller);
    EXPECT_EQ(Current()->trace_id, caller->trace_id);
  }
  const auto spans = sink.spans();
  ASSERT_EQ(spans.size(), 1U);
  ASSERT_TRUE(spans[0].parent);
  EXPECT_EQ(*spans[0].parent, caller->span_id);
  EXPECT_TRUE(spans[0].parent_remote);
}

TEST(Span, WithoutASinkPassesTheCallersContextOnUnchanged) {
  const auto caller = ParseTraceparent(kCaller);
  {
    Span request("GET /x", SpanKind::kServer, &*caller);
    EXPECT_FALSE(request.recording());
    EXPECT_EQ(CurrentTraceparent(), kCaller);
    Span call("HTTP POST", SpanKind::kClient, nullptr, false);
    EXPECT_EQ(CurrentTraceparent(), kCaller);
  }
  EXPECT_EQ(Current(), nullptr);
  Span alone("GET /y", SpanKind::kServer);
  EXPECT_EQ(Current(), nullptr) << "no sink and no caller: nothing to pass on";
}

TEST(Span, AnUnsampledTraceIsPassedOnButNotRecorded) {
  ListSink sink(false);
  {
    Span request("GET /x", SpanKind::kServer);
    ASSERT_NE(Current(), nullptr);
    EXPECT_FALSE(Current()->sampled());
    EXPECT_EQ(CurrentTraceparent()->substr(53), "00");
  }
  const auto caller = ParseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  { Span request("GET /x", SpanKind::kServer, &*caller); }
  EXPECT_TRUE(sink.spans().empty());
}

TEST(ContextScope, MakesAStoredContextCurrent) {
  EXPECT_EQ(Current(), nullptr);
  {
    const ContextScope scope(ParseTraceparent(kCaller));
    EXPECT_EQ(CurrentTraceparent(), kCaller);
  }
  EXPECT_EQ(Current(), nullptr);
  const ContextScope none(std::nullopt);
  EXPECT_EQ(Current(), nullptr);
}

// What the exporter posted.
struct Posts {
  std::mutex mutex;
  std::vector<outbound::Request> requests;
  int status = 200;
};

outbound::Fetcher Collector(Posts& posts) {
  return [&posts](const outbound::Request& r) -> Result<outbound::Response> {
    std::lock_guard lock(posts.mutex);
    posts.requests.push_back(r);
    return outbound::Response{.status = posts.status};
  };
}

TEST(Exporter, PostsProtobufBatchesToV1Traces) {
  Posts posts;
  {
    Exporter exporter({.endpoint = "http://collector:4318/", .max_batch = 2}, Collector(posts));
    InstallSink(&exporter);
    for (int i = 0; i < 3; ++i) Span("GET /x", SpanKind::kServer);
    InstallSink(nullptr);
    EXPECT_EQ(Current(), nullptr);
  }  // the last, partial batch goes at the end
  ASSERT_EQ(posts.requests.size(), 2U);
  for (const auto& r : posts.requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "http://collector:4318/v1/traces");
    ASSERT_EQ(r.headers.size(), 1U);
    EXPECT_EQ(r.headers[0].second, "application/x-protobuf");
    EXPECT_NE(r.body.find("breakpilot"), std::string::npos) << "service.name";
    EXPECT_NE(r.body.find("GET /x"), std::string::npos);
  }
}

TEST(Exporter, DropsWhatTheQueueCannotHoldAndCountsIt) {
  Posts posts;
  posts.status = 503;
  Exporter exporter({.endpoint = "http://collector:4318",
                     .max_queue = 2,
                     .max_batch = 100,
                     .interval = std::chrono::hours(1)},
                    Collector(posts));
  for (int i = 0; i < 5; ++i) exporter.Submit(SpanData{.name = "x"});
  EXPECT_EQ(exporter.stats().dropped, 3U);
  EXPECT_NE(exporter.Metrics().find("breakpilot_trace_spans_dropped_total 3"), std::string::npos);
}

TEST(Exporter, SamplesNewTracesByTheirRandomBits) {
  Posts posts;
  const Exporter none({.endpoint = "http://c", .sample_ratio = 0}, Collector(posts));
  const Exporter half({.endpoint = "http://c", .sample_ratio = 0.5}, Collector(posts));
  TraceId low{}, high{};
  low[15] = 1;
  high[8] = 0xff;
  EXPECT_FALSE(none.SampleRoot(low));
  EXPECT_TRUE(half.SampleRoot(low));
  EXPECT_FALSE(half.SampleRoot(high));
}

}  // namespace
}  // namespace breakpilot::tracing
