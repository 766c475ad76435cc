package sqlite

// SchemaLists adds distribution lists and their post log (DESIGN section 3),
// the record of every submission (for trace, purge and the storm breaker),
// administrators and the audit trail.
//
//   - lists: one row per list. kind is "static" or "dynamic"; a dynamic list
//     has a rule (lists/rule) and a scope ("org:NAME", "set:A|B", "national")
//     that bounds whatever the rule says. size is the live number of distinct
//     people, kept with the memberships.
//   - list_members: what an owner declared for a static list (or added to a
//     dynamic one): a person, or another list (nesting).
//   - memberships: the effective, flattened members of every list, one row per
//     (list, person), with the person's read position in the list's post
//     log. A new member starts at the log's end; a leaving member's pending
//     posts are materialised before the row goes.
//   - posts: the post log. One row per message per list, however many members.
//   - submissions: every accepted message, once.
//   - held: posts waiting for a moderator.
const SchemaLists = `
CREATE TABLE lists (
	id INTEGER PRIMARY KEY,
	address TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	rule TEXT NOT NULL DEFAULT '',
	scope TEXT NOT NULL DEFAULT '',
	post_policy TEXT NOT NULL DEFAULT 'members',
	policy_set_by INTEGER NOT NULL DEFAULT 0,
	size INTEGER NOT NULL DEFAULT 0,
	approved_size INTEGER NOT NULL DEFAULT 0,
	suspended INTEGER NOT NULL DEFAULT 0,
	created_by INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE TABLE list_owners (
	list_id INTEGER NOT NULL REFERENCES lists(id),
	person_id INTEGER NOT NULL REFERENCES people(id),
	PRIMARY KEY (list_id, person_id)
);
CREATE TABLE list_senders (
	list_id INTEGER NOT NULL REFERENCES lists(id),
	person_id INTEGER NOT NULL REFERENCES people(id),
	PRIMARY KEY (list_id, person_id)
);
CREATE TABLE list_members (
	list_id INTEGER NOT NULL REFERENCES lists(id),
	person_id INTEGER NOT NULL DEFAULT 0,
	sublist_id INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (list_id, person_id, sublist_id)
);
CREATE INDEX list_members_sublist ON list_members(sublist_id);
CREATE TABLE list_approvals (
	list_id INTEGER NOT NULL REFERENCES lists(id),
	admin_id INTEGER NOT NULL REFERENCES people(id),
	size INTEGER NOT NULL,
	at INTEGER NOT NULL,
	PRIMARY KEY (list_id, admin_id)
);
CREATE TABLE memberships (
	list_id INTEGER NOT NULL,
	person_id INTEGER NOT NULL,
	pos INTEGER NOT NULL,
	PRIMARY KEY (list_id, person_id)
);
CREATE INDEX memberships_person ON memberships(person_id);
CREATE TABLE submissions (
	id INTEGER PRIMARY KEY,
	queue_id TEXT NOT NULL,
	message_id TEXT NOT NULL,
	thread_id TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	sender TEXT NOT NULL,
	sender_id INTEGER NOT NULL DEFAULT 0,
	content_id INTEGER NOT NULL,
	audience INTEGER NOT NULL,
	lists TEXT NOT NULL DEFAULT '',
	direct INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'delivered',
	created_at INTEGER NOT NULL
);
CREATE INDEX submissions_message ON submissions(message_id);
CREATE INDEX submissions_thread ON submissions(thread_id, created_at);
CREATE INDEX submissions_content ON submissions(content_id);
CREATE TABLE posts (
	id INTEGER PRIMARY KEY,
	list_id INTEGER NOT NULL REFERENCES lists(id),
	submission_id INTEGER NOT NULL,
	content_id INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	purged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX posts_list ON posts(list_id, id);
CREATE INDEX posts_submission ON posts(submission_id);
CREATE TABLE held (
	id INTEGER PRIMARY KEY,
	list_id INTEGER NOT NULL REFERENCES lists(id),
	submission_id INTEGER NOT NULL,
	content_id INTEGER NOT NULL,
	sender TEXT NOT NULL,
	reason TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'held',
	decided_by INTEGER NOT NULL DEFAULT 0,
	decision TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	decided_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX held_list ON held(list_id, state);
CREATE TABLE admins (
	person_id INTEGER NOT NULL REFERENCES people(id),
	role TEXT NOT NULL,
	org_id INTEGER NOT NULL DEFAULT 0,
	granted_at INTEGER NOT NULL,
	PRIMARY KEY (person_id, role, org_id)
);
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_action ON audit(action, at);
CREATE INDEX mail_content_mailbox ON mail(content_id, mailbox_id);
DROP INDEX mail_content;
`
