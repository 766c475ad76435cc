package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// folderLockName is the file in the data folder that a running `wardmail
// serve` holds locked while it runs on the embedded SQLite database.
const folderLockName = "serve.lock"

// ErrFolderInUse is returned by Start when another `wardmail serve` is
// running on the same data folder with the embedded database.
var ErrFolderInUse = errors.New("data folder in use")

// lockDataFolder takes the data folder for this process: SQLite mode runs
// as one node, and a second node on the same folder would write beside
// the first without either knowing. The lock is an advisory lock on
// DATA/serve.lock (flock(2)), released by the kernel when the process
// ends however it ends, so a crash leaves nothing to clean up. The file
// says who holds it. Admin commands do not take it: they work beside a
// running node.
func lockDataFolder(dir string) (release func() error, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, folderLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		holder, _ := os.ReadFile(path)
		_ = f.Close()
		who := strings.TrimSpace(string(holder))
		if who == "" {
			who = "another process"
		}
		return nil, fmt.Errorf("%w: %s is used by %s; the embedded SQLite database runs as one node: stop that process first, or run several nodes on PostgreSQL (--database postgres://…)",
			ErrFolderInUse, dir, who)
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		_, _ = fmt.Fprintf(f, "wardmail serve (pid %d on %s, since %s)\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	}
	return f.Close, nil
}
