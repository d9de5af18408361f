// Package cli is the plumbing every vr binary shares: Main runs a cobra root command with
// signal handling and turns the error it returns into one line on stderr and a documented
// exit code; Streams carries stdin/stdout/stderr so commands are testable in-process; Version
// is stamped at build time; viper binds flags to VR_* environment variables.
//
// Exit codes (the same for every binary):
//
//	0   success
//	1   failure (the job was attempted and failed)
//	2   bad usage or bad input file (unknown flag, missing argument, invalid YAML or key)
//	3   not implemented yet
//	130 interrupted (SIGINT or SIGTERM)
//
// Only pkg/cli and cmd/ import cobra and viper; pkg/ packages return plain errors, and signal
// a bad input file by implementing BadInput() bool on their error type.
package cli
