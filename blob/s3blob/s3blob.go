// Package s3blob keeps message bodies in an S3-compatible object store
// (Amazon S3, MinIO, Ceph RGW, Versity's gateway), so that several Wardmail
// nodes share one body store without sharing a folder. Objects are named
// by content as on disk: PREFIX/ab/abcdef... (blob.Hash), written once,
// optionally sealed with AES-256-GCM before they leave the node.
//
// Put returns only after the object store has acknowledged the PUT (S3's
// PUT is atomic and durable on success), so a body named by a committed row
// exists; the caller writes the body before the commit that names it.
package s3blob

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"wardmail/blob"
)

// MaxObjectBytes bounds what Get reads back: the largest message the doors
// accept, sealed, with room to spare.
const MaxObjectBytes = 256 << 20

// Config says where the bucket is and how to reach it.
type Config struct {
	// Endpoint is host:port of the S3 API (no scheme).
	Endpoint string
	// Bucket holds the bodies; it must exist unless Create is set.
	Bucket string
	// Prefix is put before every object name (e.g. "wardmail/"); may be empty.
	Prefix string
	// Region is the bucket's region (empty: the server's default).
	Region string
	// AccessKey and SecretKey sign every request (AWS Signature V4).
	AccessKey, SecretKey string
	// Insecure speaks plain HTTP to the endpoint (tests on loopback only).
	Insecure bool
	// CAFile, when set, is the PEM bundle the endpoint's certificate is
	// checked against instead of the system's roots.
	CAFile string
	// Create makes the bucket when it does not exist.
	Create bool
	// Timeout bounds each call, its retries included (default 10 s): a
	// store that hangs costs a submission or a FETCH this long, never more.
	Timeout time.Duration
}

// DefaultTimeout is Config.Timeout's default.
const DefaultTimeout = 10 * time.Second

// pingTimeout bounds Ping, which a load balancer's health check waits on:
// well under the second HAProxy and most balancers allow a check.
const pingTimeout = 500 * time.Millisecond

// Store is a blob.Store in an S3 bucket.
type Store struct {
	c       *minio.Client
	probe   *minio.Client // for Ping: no retries, so a health check answers at once
	bucket  string
	prefix  string
	sealer  *blob.Sealer
	timeout time.Duration
	m       *metrics
}

// Open connects to the bucket, checks that it exists (or makes it, with
// Create) and returns the store. sealer may be nil.
func Open(ctx context.Context, cfg Config, sealer *blob.Sealer) (*Store, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3blob: endpoint and bucket are required")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("s3blob: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("s3blob: no certificate in %s", cfg.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	client := func(retries int) (*minio.Client, error) {
		return minio.New(cfg.Endpoint, &minio.Options{
			Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Secure:     !cfg.Insecure,
			Region:     cfg.Region,
			Transport:  tr,
			MaxRetries: retries,
		})
	}
	// A few quick retries, then the caller's temporary failure: a
	// submission waits seconds for an answer, not minutes.
	c, err := client(3)
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	probe, err := client(1)
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	s := &Store{c: c, probe: probe, bucket: cfg.Bucket, prefix: cfg.Prefix, sealer: sealer, timeout: cfg.Timeout,
		m: newMetrics()}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3blob: bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		if !cfg.Create {
			return nil, fmt.Errorf("s3blob: bucket %s does not exist at %s", cfg.Bucket, cfg.Endpoint)
		}
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("s3blob: making bucket %s: %w", cfg.Bucket, err)
		}
	}
	return s, nil
}

func (s *Store) key(hash string) (string, error) {
	if !blob.ValidHash(hash) {
		return "", fmt.Errorf("s3blob: invalid hash %q", hash)
	}
	return s.prefix + hash[:2] + "/" + hash, nil
}

// Put implements blob.Store: one PUT, acknowledged before it returns. A
// body already stored is the same bytes (named by content), so it is
// written again rather than asked about first: one round trip either way.
func (s *Store) Put(ctx context.Context, hash string, data []byte) error {
	key, err := s.key(hash)
	if err != nil {
		return err
	}
	if s.sealer != nil {
		data = s.sealer.Seal(hash, data)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err = s.c.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true, SendContentMd5: true})
	s.m.request("put", err)
	if err == nil {
		s.m.bytes.WithLabelValues("put").Add(float64(len(data)))
	}
	if err != nil {
		return fmt.Errorf("s3blob: storing %s: %w: %w", hash, blob.ErrUnavailable, err)
	}
	return nil
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, hash string) ([]byte, error) {
	key, err := s.key(hash)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// minio-go sends the GET on the first read, so the request is counted
	// once the body has been read (or has failed).
	obj, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		s.m.request("get", err)
		return nil, s.readErr(hash, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, MaxObjectBytes+1))
	s.m.request("get", err)
	s.m.bytes.WithLabelValues("get").Add(float64(len(data)))
	if err != nil {
		return nil, s.readErr(hash, err)
	}
	if len(data) > MaxObjectBytes {
		return nil, fmt.Errorf("s3blob: body %s is larger than %d bytes", hash, MaxObjectBytes)
	}
	if s.sealer != nil {
		return s.sealer.Open(hash, data)
	}
	if blob.IsSealed(data) {
		return nil, fmt.Errorf("s3blob: body %s is encrypted but no key file is configured", hash)
	}
	return data, nil
}

func isMissing(err error) bool { return minio.ToErrorResponse(err).Code == "NoSuchKey" }

func (s *Store) readErr(hash string, err error) error {
	if isMissing(err) {
		return blob.ErrNotFound
	}
	return fmt.Errorf("s3blob: reading %s: %w: %w", hash, blob.ErrUnavailable, err)
}

// Delete implements blob.Store; deleting what is not there is not an error.
func (s *Store) Delete(ctx context.Context, hash string) error {
	key, err := s.key(hash)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err = s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	s.m.request("delete", err)
	if err != nil && !isMissing(err) {
		return fmt.Errorf("s3blob: deleting %s: %w: %w", hash, blob.ErrUnavailable, err)
	}
	return nil
}

// Ping checks that the bucket answers (for /healthz readiness), once and
// within half a second: a load balancer that waits longer for the node's
// health check would take every node out of rotation for an outage that
// only new mail suffers from.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, min(s.timeout, pingTimeout))
	defer cancel()
	_, err := s.probe.BucketExists(ctx, s.bucket)
	s.m.request("head", err)
	return err
}

// String names the store for logs: endpoint, bucket and prefix, never keys.
func (s *Store) String() string {
	return "s3://" + strings.TrimSuffix(s.c.EndpointURL().Host+"/"+s.bucket+"/"+s.prefix, "/")
}
