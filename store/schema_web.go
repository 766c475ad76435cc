package store

// SchemaWeb holds web sessions (issue 6).
const SchemaWeb = ``
