package fetch

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/pgzip"
	"github.com/ulikunitz/xz"
)

// compression is the outer encoding of a tar archive.
type compression int

const (
	compUnknown compression = iota
	compNone
	compGzip
	compBzip2
	compXz
)

func (c compression) String() string {
	return [...]string{"unknown", "tar", "gzip", "bzip2", "xz"}[c]
}

// compressionFromName maps a file name suffix to a compression. The original accepted only a
// last suffix of gz, bz2 or xz; .tgz, .tbz2, .tbz, .txz and .tar are accepted here too.
func compressionFromName(name string) compression {
	n := strings.ToLower(name)
	switch {
	case hasSuffix(n, ".gz", ".tgz"):
		return compGzip
	case hasSuffix(n, ".bz2", ".tbz2", ".tbz"):
		return compBzip2
	case hasSuffix(n, ".xz", ".txz"):
		return compXz
	case hasSuffix(n, ".tar"):
		return compNone
	}
	return compUnknown
}

func hasSuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// sniffLen is how many bytes sniff needs to see a ustar magic.
const sniffLen = 262

// sniff recognises a compression (or a ustar/GNU tar) from the first bytes of a file.
func sniff(head []byte) compression {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return compGzip
	case len(head) >= 4 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9':
		return compBzip2
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return compXz
	case len(head) >= sniffLen && bytes.Equal(head[257:262], []byte("ustar")):
		return compNone
	}
	return compUnknown
}

// decompress returns a reader of the tar stream inside the archive r named name. The content
// decides: the magic bytes win over the suffix, and the suffix is used only when the content
// has no magic (an old v7 tar, or garbage the decoder will then reject). close releases the
// decoder's goroutines.
func decompress(r io.Reader, name string) (_ io.Reader, close func(), _ error) {
	br := bufio.NewReaderSize(r, 256<<10)
	head, _ := br.Peek(sniffLen) // a short archive gives a short head and is judged on it
	c := sniff(head)
	if c == compUnknown {
		c = compressionFromName(name)
	}
	switch c {
	case compNone:
		return br, func() {}, nil
	case compGzip:
		zr, err := pgzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { _ = zr.Close() }, nil
	case compBzip2:
		return bzip2.NewReader(br), func() {}, nil
	case compXz:
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("xz: %w", err)
		}
		return zr, func() {}, nil
	}
	return nil, nil, fmt.Errorf("%w: want a tar, plain or compressed with gzip, bzip2 or xz (.tar, .tar.gz, .tgz, .gz, .tar.bz2, .bz2, .tar.xz, .xz)", ErrUnsupportedFormat)
}
