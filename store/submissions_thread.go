package store

// threadSubmissions is a query of the submissions of one thread, returning
// cols; it takes the thread's id twice. submissions_thread holds replies
// only (schema_submissions.go), so a thread is its replies by that index
// and the message that started it, whose thread id is its own Message-ID,
// by submissions_message. The two halves are disjoint.
func threadSubmissions(cols string) string {
	return `SELECT ` + cols + ` FROM submissions WHERE thread_id = ? AND thread_id <> message_id
		UNION ALL SELECT ` + cols + ` FROM submissions WHERE message_id = ? AND thread_id = message_id`
}
