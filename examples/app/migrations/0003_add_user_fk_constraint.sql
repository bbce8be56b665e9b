-- migrate:description Link predictions to users, and index the link
-- migrate:up
ALTER TABLE predictions
    ADD CONSTRAINT predictions_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id);

CREATE INDEX predictions_user_id_idx ON predictions (user_id);

-- migrate:down
DROP INDEX predictions_user_id_idx;

ALTER TABLE predictions DROP CONSTRAINT predictions_user_id_fkey;
