-- migrate:description Create the predictions table
-- migrate:up
CREATE TABLE predictions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL,
    model      text NOT NULL,
    input      jsonb NOT NULL DEFAULT '{}'::jsonb,
    score      numeric,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT predictions_score_range CHECK (score IS NULL OR score BETWEEN 0 AND 1)
);

COMMENT ON COLUMN predictions.model IS 'Model name and version, e.g. ''churn-v3''';

-- migrate:down
DROP TABLE predictions;
