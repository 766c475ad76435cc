// Package fsblob keeps message bodies as files in a folder, named by hash and
// fanned out over 256 subfolders: DIR/ab/abcdef... A body is written to a
// temporary file, synced, renamed into place and its folder synced, so a body
// named by a committed row survives a crash.
package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"wardmail/blob"
)

// Store is a blob.Store on the local filesystem.
type Store struct {
	dir    string
	sealer *blob.Sealer // nil: bodies are stored as they are
}

// Open uses dir (created if missing) for bodies. sealer may be nil.
func Open(dir string, sealer *blob.Sealer) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Store{dir: dir, sealer: sealer}, nil
}

func (s *Store) path(hash string) (string, error) {
	if !blob.ValidHash(hash) {
		return "", fmt.Errorf("fsblob: invalid hash %q", hash)
	}
	return filepath.Join(s.dir, hash[:2], hash), nil
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, hash string, data []byte) error {
	p, err := s.path(hash)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return nil // written once, by content: an existing file is this body
	}
	if s.sealer != nil {
		data = s.sealer.Seal(hash, data)
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, hash string) ([]byte, error) {
	p, err := s.path(hash)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, blob.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	if s.sealer != nil {
		return s.sealer.Open(hash, data)
	}
	if blob.IsSealed(data) {
		return nil, fmt.Errorf("fsblob: body %s is encrypted but no key file is configured", hash)
	}
	return data, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, hash string) error {
	p, err := s.path(hash)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
