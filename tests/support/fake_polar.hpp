// A contract fake of Polar's API (https://docs.polar.sh/api-reference), for billing's
// *_contract_test and the end-to-end tests: Polar cannot run here. It answers, on a loopback
// port, the calls billing::PolarClient makes, with Polar's shapes and errors, and the official
// client (@polar-sh/sdk, tests/conformance/polar_sdk.mjs) makes the same calls against it:
//
//   POST /v1/checkouts/           201 Checkout (url, metadata, external_customer_id, ...);
//                                 422 HTTPValidationError for an unknown product or no products
//   GET  /v1/checkouts/{id}       200 Checkout; 404 ResourceNotFound
//   POST /v1/customer-sessions/   201 CustomerSession (customer_portal_url) for a customer
//                                 known by external_customer_id or customer_id; 422 otherwise
//   anything without "Authorization: Bearer <kToken>": 401 Unauthorized
//
// Paying a checkout (Pay) is what Polar's checkout page does: it makes the customer (its
// external id the checkout's), a paid order and an active subscription, and answers the webhook
// messages Polar would send, unsigned: the test signs them with `standardwebhooks`.
#pragma once

#include <boost/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace breakpilot::testing {

class LoopbackServer;

// One webhook message as Polar sends it: its webhook-id and its body.
struct PolarMessage {
  std::string id;
  std::string type;
  std::string body;
};

class FakePolar {
 public:
  static constexpr const char* kToken = "polar_oat_contract_fake";
  static constexpr const char* kProductStarter = "0a9e2d5c-1f35-4d4e-9e61-6b2f4c0c0001";
  static constexpr const char* kProductProfessional = "0a9e2d5c-1f35-4d4e-9e61-6b2f4c0c0002";
  static constexpr const char* kProductPerSeat = "0a9e2d5c-1f35-4d4e-9e61-6b2f4c0c0003";

  FakePolar();
  ~FakePolar();
  FakePolar(const FakePolar&) = delete;
  FakePolar& operator=(const FakePolar&) = delete;

  std::string BaseUrl() const;
  std::vector<boost::json::object> Checkouts() const;
  int Calls(const std::string& what) const;  // "checkout", "customer_session", "unauthorized"

  // Pays the checkout: checkout.updated, order.paid, subscription.created, subscription.active
  // (in the order Polar sends them), each with its own webhook-id.
  std::vector<PolarMessage> Pay(const std::string& checkout_id);
  // The subscription's next state as Polar would announce it, modified one second later:
  // "subscription.canceled" (at the period's end), "subscription.uncanceled",
  // "subscription.revoked" (ended now), "customer.updated".
  PolarMessage Next(const std::string& subscription_id, const std::string& type);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<LoopbackServer> server_;
};

}  // namespace breakpilot::testing
