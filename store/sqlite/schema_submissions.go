package sqlite

// SubmissionSteps narrow the indexes of submissions, the record of every
// accepted message, which a one-to-one message from outside (most of the
// mail) would otherwise fill with entries no query reads
// (docs/benchmarks.md, "Where the bytes go"):
//
//   - submissions_thread holds only replies (thread_id <> message_id). A
//     message that starts its thread is found by its Message-ID
//     (submissions_message); queries by thread ask both (store.threadRows).
//     The date column went: nothing orders a thread by it.
//   - submissions_sender holds only people of this service (sender_id <> 0):
//     the sender limits count a person's own messages, never mail from
//     outside, and say so in their WHERE clause so the planner takes it.
var SubmissionSteps = []string{SchemaSubmissionIndexes}

// SchemaSubmissionIndexes rebuilds the two indexes as partial indexes.
const SchemaSubmissionIndexes = `
DROP INDEX submissions_thread;
CREATE INDEX submissions_thread ON submissions(thread_id) WHERE thread_id <> message_id;
DROP INDEX submissions_sender;
CREATE INDEX submissions_sender ON submissions(sender_id, created_at) WHERE sender_id <> 0;
`
