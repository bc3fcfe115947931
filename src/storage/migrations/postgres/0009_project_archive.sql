-- 0009 (issue 23, M5.2): a project can be archived (kept, shown apart, restorable) instead of
-- only deleted. NULL: not archived. Forward-only: never edit a migration that has shipped.
ALTER TABLE tenant_projects ADD COLUMN archived_at timestamptz;
