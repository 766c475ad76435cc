package postgres

// queueDueSteps are store/sqlite's QueueDueSteps: the queue's due index in
// the order a batch is read (ORDER BY next_at, msg_id), so that copies that
// share one due time are not sorted in full for every batch.
var queueDueSteps = []string{`
DROP INDEX outbound_rcpts_due;
CREATE INDEX outbound_rcpts_due ON outbound_rcpts(domain, next_at, msg_id) WHERE state = 'queued';
`}
