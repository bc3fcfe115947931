#include "core/result.hpp"

namespace breakpilot {

Error InvalidInput(std::string type, std::string title, std::string detail,
                   std::vector<FieldError> errors) {
  return Error{ErrorKind::kInvalidInput, std::move(type), std::move(title), std::move(detail),
               std::move(errors)};
}

Error Malformed(std::string type, std::string title, std::string detail,
                std::vector<FieldError> errors) {
  return Error{ErrorKind::kMalformed, std::move(type), std::move(title), std::move(detail),
               std::move(errors)};
}

Error NotFound(std::string type, std::string detail) {
  return Error{ErrorKind::kNotFound, std::move(type), "Not found", std::move(detail)};
}

Error Conflict(std::string type, std::string title, std::string detail) {
  return Error{ErrorKind::kConflict, std::move(type), std::move(title), std::move(detail)};
}

Error WebhookSignatureInvalid(std::string detail) {
  return Error{ErrorKind::kUnauthenticated, "webhook-signature-invalid",
               "Webhook signature invalid", std::move(detail)};
}

Error MalformedWebhook(const std::string& problem) {
  return Error{ErrorKind::kMalformed, "malformed-webhook", "Malformed webhook",
               "the body is not a JSON object" + (problem.empty() ? "" : ": " + problem)};
}

Error ValidationFailed(std::vector<FieldError> errors) {
  std::string detail;
  if (errors.size() == 1) {
    const auto& e = errors.front();
    detail = (e.field.starts_with('/') ? e.field.substr(1) : e.field) + " " + e.message;
  } else {
    detail = std::to_string(errors.size()) + " fields are invalid";
  }
  return InvalidInput("validation", "Request body failed validation", std::move(detail),
                      std::move(errors));
}

Error Invalid(std::string detail) {
  return InvalidInput("validation", "Request body failed validation", std::move(detail));
}

void AddFieldError(std::vector<FieldError>& errors, std::string field, const Result<Ok>& check) {
  if (!check) errors.push_back({std::move(field), check.error().detail});
}

}  // namespace breakpilot
