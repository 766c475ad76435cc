package directory

// SetMaxRows lowers the row limit until restore is called.
func SetMaxRows(n int) (restore func()) {
	old := maxRows
	maxRows = n
	return func() { maxRows = old }
}
