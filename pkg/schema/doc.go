// Package schema reads, checks and writes the documents vr's tools exchange, and the names
// they share:
//
//   - BuildJob: vbuild's input (app.yaml) and result (build_result.yaml, which can be fed
//     back as a job);
//   - ImageSpec: vimage's input (image.yaml);
//   - ProcConfig: proc.yaml, the runners' input, with every key of the original;
//   - Procfile: an app's process types (Heroku syntax, not YAML);
//   - ProcName and SwarmName: "app-version-config-hash-proc-port" and "app-config-proc";
//   - MakeHash and ReleaseHash: the original's release hash (MD5 over sorted-key JSON);
//   - ParseSize: memory limits such as "256M".
//
// # Parsing
//
// Documents are read node by node with yaml.v3, so every error says where it is: an *Error
// with the file, line, key and what was expected, printed on one line, for example
//
//	app.yaml:4: key "version": got a float (9.0); quote it: version: "9.0"
//
// Parsing is strict where the original (Python, PyYAML's safe_load) was loose:
//
//   - Unknown keys are errors in app.yaml, build_result.yaml, image.yaml and proc.yaml, with
//     the nearest known key suggested. The original ignored unknown keys everywhere. Every key
//     the original wrote is known, so its files parse; ParseProcConfigLenient ignores unknown
//     keys for tools that only observe procs (see ProcConfig for why the runners do not).
//   - A key given twice is an error (PyYAML kept the last one).
//   - String keys must hold strings: an unquoted value that YAML reads as a number, bool, null
//     or date is refused with a hint to quote it. Both YAML 1.1 (PyYAML: yes, on, 0777, 1:20)
//     and YAML 1.2 (yaml.v3: 0o17, 1e3) readings count, so a file means the same thing to vr
//     and to the original.
//   - Free-form values (settings, release_data) are read with PyYAML's meaning of unquoted
//     scalars (yes is true, 0x10 is 16), as the original's runner saw them, so settings.yaml
//     comes out as it did. Timestamps stay strings; merge keys (<<) and tags other than the
//     standard scalar ones are refused; integers must fit in 64 bits.
//   - After the types, each document's Validate checks its values (names, URLs, digests,
//     paths, sizes).
//
// # Writing
//
// Marshal writes what PyYAML's safe_dump(default_flow_style=False) writes, so the original's
// tools read vr's files: every key, sorted, block style, unset values as null, and strings
// that would read as something else quoted the way PyYAML quotes them, for example
//
//	settings:
//	  greeting: '@We''re testing, aren''t we?'
//
// WriteFile validates, then writes atomically (a temporary file in the same directory,
// renamed).
//
// All errors of the parsers and validators are *Error values, which implement
// BadInput() bool; pkg/cli maps those to the bad-input exit code.
package schema
