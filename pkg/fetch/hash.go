package fetch

import (
	"crypto/md5" //nolint:gosec // MD5 is the original's cache key and build id, not a security check.
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// Sums holds the hex digests of one file.
type Sums struct {
	MD5    string // lower-case hex MD5
	SHA256 string // lower-case hex SHA-256
}

// HashFile returns the MD5 and SHA-256 of the file at path, read once.
func HashFile(path string) (Sums, error) {
	h := newHasher()
	if err := hashInto(path, h); err != nil {
		return Sums{}, err
	}
	return h.sums(), nil
}

// FileMD5 returns the lower-case hex MD5 of the file at path (the original's file_md5).
func FileMD5(path string) (string, error) {
	h := md5.New() //nolint:gosec // see import
	if err := hashInto(path, h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSHA256 returns the lower-case hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	h := sha256.New()
	if err := hashInto(path, h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashInto(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.CopyBuffer(w, f, make([]byte, copyBufSize)); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// copyBufSize is the buffer for file and network copies.
const copyBufSize = 256 << 10

// hasher computes MD5 and SHA-256 of what is written to it.
type hasher struct {
	md5, sha256 hash.Hash
}

func newHasher() *hasher {
	return &hasher{md5: md5.New(), sha256: sha256.New()} //nolint:gosec // see import
}

func (h *hasher) Write(p []byte) (int, error) {
	h.md5.Write(p)
	h.sha256.Write(p)
	return len(p), nil
}

func (h *hasher) sums() Sums {
	return Sums{MD5: hex.EncodeToString(h.md5.Sum(nil)), SHA256: hex.EncodeToString(h.sha256.Sum(nil))}
}

// want is the set of expected checksums; empty fields are not checked.
type want Sums

func parseWant(md5hex, sha256hex string) (want, error) {
	w := want{MD5: strings.ToLower(strings.TrimSpace(md5hex)), SHA256: strings.ToLower(strings.TrimSpace(sha256hex))}
	if w.MD5 != "" && !isHex(w.MD5, 32) {
		return want{}, fmt.Errorf("invalid md5 %q: want 32 hex digits", md5hex)
	}
	if w.SHA256 != "" && !isHex(w.SHA256, 64) {
		return want{}, fmt.Errorf("invalid sha256 %q: want 64 hex digits", sha256hex)
	}
	return w, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (w want) empty() bool { return w.MD5 == "" && w.SHA256 == "" }

// check returns a *ChecksumError for the first expected checksum that s does not match.
func (w want) check(url string, s Sums) error {
	if w.MD5 != "" && w.MD5 != s.MD5 {
		return &ChecksumError{URL: url, Algorithm: "md5", Expected: w.MD5, Actual: s.MD5}
	}
	if w.SHA256 != "" && w.SHA256 != s.SHA256 {
		return &ChecksumError{URL: url, Algorithm: "sha256", Expected: w.SHA256, Actual: s.SHA256}
	}
	return nil
}
