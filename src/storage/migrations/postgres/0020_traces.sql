-- 0020 (issue 26, §1.9): work that a traced request causes later joins the request's trace.
-- Forward-only: never edit a migration that has shipped.

-- The W3C traceparent current when the job was queued (tracing/trace.hpp): the job's span is
-- its child. NULL for work nothing traced asked for (a timer, a poll).
ALTER TABLE jobs ADD COLUMN traceparent TEXT;
-- The same for an audit event waiting for the webhooks' fan-out: its deliveries join the trace.
ALTER TABLE webhook_events ADD COLUMN traceparent TEXT;
