DROP TABLE outbox;
DROP TABLE recovery_requests;
DROP TABLE one_time_tokens;
