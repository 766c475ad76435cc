package sqlite

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
)

// A data folder holds the mail of everyone on the server, the keys that
// seal TOTP secrets and key lockout's fingerprints, and the TLS key: only
// the user the server runs as may read it. Every command that opens the
// folder (serve, demo and every administrator's command) makes it so:
//
//   - the folder and every folder in it 0700, every file in it 0600; what
//     was looser is tightened, with a warning in the log;
//   - a folder that belongs to another user is refused with a sentence
//     saying whose it is, since a store opened by the wrong user makes files
//     the server cannot read; root is let through (it can read the folder
//     anyway) with a warning that files it makes will be root's.
//
// New files come out private because cmd/wardmail sets the umask to 0077 at
// start; SQLite gives its -wal and -shm files the database file's mode, and
// blob files are made 0600. Blob files themselves are not walked (a million
// of them would make every command slow); their folders are.

// secureDataDir checks the owner of dir and tightens the modes in it.
func secureDataDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if me := os.Geteuid(); int(st.Uid) != me {
			if me != 0 {
				return fmt.Errorf("the data folder %s belongs to user %d, but wardmail runs as user %d: run it as the folder's owner (or change the folder's owner)", dir, st.Uid, me)
			}
			log.Warn("running as root on a data folder that belongs to another user: files made now belong to root, which that user cannot read; run wardmail as the folder's owner", "dir", dir, "owner", st.Uid)
		}
	}
	tighten := func(path string, mode fs.FileMode, want fs.FileMode) error { return tighten(log, path, mode, want) }
	if err := tighten(dir, fi.Mode(), 0o700); err != nil {
		return err
	}
	blobs := filepath.Join(dir, "blobs")
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while walking (a temporary file)
			}
			return err
		}
		if path == dir || d.Type()&fs.ModeSymlink != 0 {
			return nil // a link points elsewhere: not ours to change
		}
		info, err := d.Info()
		if os.IsNotExist(err) {
			return nil
		} else if err != nil {
			return err
		}
		if !d.IsDir() {
			return tighten(path, info.Mode(), 0o600)
		}
		if err := tighten(path, info.Mode(), 0o700); err != nil {
			return err
		}
		if filepath.Dir(path) == blobs {
			return fs.SkipDir // blob files are made 0600
		}
		return nil
	})
}

// tighten takes away the permissions of path beyond want.
func tighten(log *slog.Logger, path string, mode fs.FileMode, want fs.FileMode) error {
	if mode.Perm()&^want == 0 {
		return nil
	}
	log.Warn("tightening the permissions of a file in the data folder", "path", path, "was", mode.Perm().String(), "now", want.String())
	return os.Chmod(path, want)
}

// tightenFiles is tighten for files that may not exist (SQLite's -wal and
// -shm, made when the database is first opened).
func tightenFiles(log *slog.Logger, paths ...string) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			return err
		}
		if err := tighten(log, p, fi.Mode(), 0o600); err != nil {
			return err
		}
	}
	return nil
}
