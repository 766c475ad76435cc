package store

// SchemaSignIn holds what sign-in needs beyond the password hash: app
// passwords, lockout counters, TOTP secrets (issue 5).
const SchemaSignIn = ``
