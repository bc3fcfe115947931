-- 0005: done jobs are deleted some days after they ran (jobs::Queue::PruneDone, hourly); this
-- index finds them without reading the rest of the queue.
-- Forward-only: never edit a migration that has shipped.
CREATE INDEX jobs_done_idx ON jobs (updated_at) WHERE state = 'done';
