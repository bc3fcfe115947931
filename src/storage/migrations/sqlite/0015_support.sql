-- 0015 (issue 25, M9.1, M9.2): support tickets escalated to Gitea.
-- Forward-only: never edit a migration that has shipped.

-- A Helpdesk ticket escalated to a Gitea issue: claimed before Gitea is called (one issue per
-- ticket whatever the clicks), open once Gitea made it, closed when Gitea says so.
CREATE TABLE support_escalations (
  ticket_id    text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  repo         text NOT NULL,
  issue_number integer,
  issue_url    text,
  state        text NOT NULL CHECK (state IN ('claimed', 'open', 'closed')),
  escalated_by text NOT NULL,
  created_at   text NOT NULL,
  closed_at    text
);
CREATE UNIQUE INDEX support_escalations_issue_idx ON support_escalations (repo, issue_number);
CREATE INDEX support_escalations_tenant_idx ON support_escalations (tenant_id);
