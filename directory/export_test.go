package directory

// SetMaxRows lowers the row limit until restore is called.
func SetMaxRows(n int) (restore func()) {
	old := maxRows
	maxRows = n
	return func() { maxRows = old }
}

// SetMaxFileBytes lowers the file size limit until restore is called.
func SetMaxFileBytes(n int64) (restore func()) {
	old := maxFileBytes
	maxFileBytes = n
	return func() { maxFileBytes = old }
}
