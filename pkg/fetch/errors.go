package fetch

import (
	"errors"
	"fmt"
)

var (
	// ErrChecksum is the cause of every checksum mismatch; the error is a [*ChecksumError].
	ErrChecksum = errors.New("checksum mismatch")
	// ErrUnsupportedURL is returned for a URL whose scheme is not http, https or file.
	ErrUnsupportedURL = errors.New("unsupported URL")
	// ErrEscape is the cause when an archive entry would be written outside the destination.
	ErrEscape = errors.New("path escapes the destination")
	// ErrDevice is the cause when an archive holds a device node or fifo and
	// [ExtractOptions].AllowDevices is not set.
	ErrDevice = errors.New("device nodes and fifos are not allowed")
	// ErrUnsupportedFormat is returned for an archive that is not a tar, plain or compressed
	// with gzip, bzip2 or xz.
	ErrUnsupportedFormat = errors.New("unsupported archive format")
	// ErrUnsupportedEntry is the cause for an entry type the extractor does not handle.
	ErrUnsupportedEntry = errors.New("unsupported entry type")
	// ErrTooLarge is the cause when the files in an archive exceed [ExtractOptions].MaxSize.
	ErrTooLarge = errors.New("archive exceeds the size limit")
	// ErrReplacesDir is the cause when a non-directory entry has the name of a directory
	// created earlier in the same archive.
	ErrReplacesDir = errors.New("entry would replace a directory")
)

// ChecksumError reports a file whose checksum differs from the expected one.
type ChecksumError struct {
	URL       string // where the file came from
	Algorithm string // "md5" or "sha256"
	Expected  string // lower-case hex
	Actual    string // lower-case hex
}

// Error says which checksum differs: "md5 checksum mismatch: expected …, got …".
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s %s: expected %s, got %s", e.Algorithm, ErrChecksum, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrChecksum) true.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// StatusError reports an HTTP response whose status is not 2xx.
type StatusError struct {
	URL        string
	StatusCode int
	Status     string // e.g. "404 Not Found"
}

// Error gives the status: "unexpected HTTP status 404 Not Found".
func (e *StatusError) Error() string {
	return "unexpected HTTP status " + e.Status
}

// EntryError reports a failure while extracting one entry of an archive. Its message names
// the archive and the entry: `extract build.tar.gz: entry "../x": path escapes the destination`.
type EntryError struct {
	Archive string // the archive path as given to Extract
	Entry   string // the entry's name as stored in the archive
	Err     error
}

// Error names the archive and the entry, then the cause.
func (e *EntryError) Error() string {
	return fmt.Sprintf("extract %s: entry %q: %v", e.Archive, e.Entry, e.Err)
}

// Unwrap returns the cause.
func (e *EntryError) Unwrap() error { return e.Err }
