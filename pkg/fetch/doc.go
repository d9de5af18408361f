// Package fetch gets build and image tarballs into a local cache, unpacks them safely and writes
// them deterministically.
//
// Fetching: [Fetch] copies an http(s)://, file:// or plain-path URL to a destination file. The
// file is written to a temporary file beside the destination, hashed (MD5 and SHA-256) while
// it is written, synced, verified against the expected checksums and only then renamed into
// place, so the destination is never a half-written or unverified file. A file already at the
// destination is reused when it matches the given checksums, or when no checksum is given (as
// the original Velociraptor did); a mismatch downloads it again. Concurrent fetches of the same
// destination, from goroutines or processes, are serialised by an flock on "<dest>.lock".
//
// Extracting: [Extract] unpacks a tar archive (plain, gzip, bzip2 or xz) into a fresh directory
// beside the destination and then swaps it into place, replacing what was there, so a failed
// extraction leaves the destination as it was. Every write goes through an [os.Root] opened on
// that directory, so no entry, symlink or hard link can make the extractor write outside it.
// Absolute names, ".." components, hard links whose target escapes and (unless
// [ExtractOptions].AllowDevices) device nodes and fifos are rejected, with the archive and the
// entry named in the error ([*EntryError]).
//
// Writing: [WriteTarGz] and [CreateTarGz] write a tree as a gzip tar whose bytes depend only on
// the tree's names, types, modes, contents, link targets and hard-link structure: entries are
// sorted, every entry has the same owner and modification time, and the parallel gzip writer
// (github.com/klauspost/pgzip) uses a fixed block size and no name or time in its header. The
// bytes can change when the compression library in go.mod is upgraded (a golden test catches it).
package fetch
