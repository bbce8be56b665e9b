-- migrate:description Add SQS metadata columns
-- migrate:up
ALTER TABLE predictions
    ADD COLUMN sqs_message_id text,
    ADD COLUMN sqs_queued_at timestamptz;

-- migrate:down
ALTER TABLE predictions
    DROP COLUMN sqs_queued_at,
    DROP COLUMN sqs_message_id;
